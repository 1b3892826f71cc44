"""Every scenario of ``make bench``, in the order they run. A scenario is one function
``run(ctx: bench.core.Run) -> None`` that records figures with ``ctx.add``; add one line here to add one.

``quick`` scenarios also run in ``make bench-quick``; ``engines`` says where a scenario runs when
``DATABASE_URL`` names a PostgreSQL server too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    name: str
    target: str  # "module:function"
    quick: bool = True
    engines: tuple[str, ...] = ("sqlite", "postgresql")


SCENARIOS = [
    Scenario("pages", "bench.pages:run"),
    Scenario("statements", "bench.statements:run"),
    Scenario("reports", "bench.reports:run"),
    Scenario("quizzes", "bench.quizzes:run"),
    Scenario("certificates", "bench.certificates:run", engines=("sqlite",)),
    Scenario("imports", "bench.imports:run"),
    # Its own PostgreSQL database and Redis whatever the engine pass: run once, in the first pass.
    Scenario("scaleout", "bench.scaleout:run", quick=False, engines=("sqlite",)),
]
