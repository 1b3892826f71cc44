"""What every scenario shares: the run (options, seeded databases, ports), figures and their floors.

A figure is always measured next to its floor in the same run: :meth:`Run.alternate` times the two
one after the other, round after round, and keeps the medians, so a machine that gets busier halfway
slows both and the ratio holds. Every figure records the load average at the moment it was taken.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
PORTS = range(5400, 5500)
SIZES = (1000, 20000, 200000)
QUICK_SIZES = (1000, 20000)


@dataclass
class Figure:
    """One measured figure, its floor (what the same machine does with nothing of lms in the way),
    and the target the issue sets for the ratio or the value."""

    scenario: str
    name: str
    value: float
    unit: str
    floor: float | None = None
    floor_name: str = ""
    # "higher": more is better (requests/s): ratio = value / floor; "lower": ratio = value / floor
    # too, and the target is a ceiling.
    better: str = "lower"
    target: str = ""
    met: bool | None = None
    size: int | None = None  # officers in the database it ran on
    engine: str = "sqlite"
    load: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.floor in (None, 0) or self.value is None:
            return None
        return self.value / self.floor


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


@dataclass
class Run:
    quick: bool = False
    engines: tuple[str, ...] = ("sqlite",)
    pg_url: str | None = None  # a PostgreSQL server URL (its database name is replaced per size)
    rounds: int = 3
    figures: list[Figure] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)
    _ports: Iterator[int] = field(default_factory=lambda: iter(PORTS))
    engine: str = "sqlite"  # the engine the current scenario runs on
    only_sizes: tuple[int, ...] | None = None

    @property
    def sizes(self) -> tuple[int, ...]:
        return self.only_sizes or (QUICK_SIZES if self.quick else SIZES)

    def port(self) -> int:
        """A port of this helper's range that nothing listens on."""
        import socket

        for candidate in self._ports:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", candidate)) != 0:
                    return candidate
        self._ports = iter(PORTS)
        return self.port()

    def add(self, figure: Figure) -> Figure:
        figure.engine = self.engine
        figure.load = load_average()
        self.figures.append(figure)
        ratio = f" = {figure.ratio:.2f}x {figure.floor_name}" if figure.ratio is not None else ""
        met = "" if figure.met is None else (" met" if figure.met else " MISSED")
        print(f"  {figure.scenario}: {figure.name} [{figure.size or '-'}] {figure.value:,.3f} {figure.unit}"
              f"{ratio} (target {figure.target or '-'}{met}); load {figure.load}"
              + (f" {figure.extra}" if figure.met is False and figure.extra else ""), flush=True)
        return figure

    def note(self, scenario: str, text: str) -> None:
        self.notes.setdefault(scenario, []).append(text)

    def alternate(self, measure: Callable[[], float], floor: Callable[[], float],
                  rounds: int | None = None) -> tuple[float, float, list[float], list[float]]:
        """Run ``measure`` and ``floor`` alternately; returns their medians and the samples."""
        a: list[float] = []
        b: list[float] = []
        for i in range(rounds or self.rounds):
            # Start with the floor every other round so neither always gets the warmer machine.
            if i % 2:
                b.append(floor())
                a.append(measure())
            else:
                a.append(measure())
                b.append(floor())
        return median(a), median(b), a, b

    # Seeded databases -------------------------------------------------------------------------

    def database(self, officers: int) -> str:
        """The URL of a province of ``officers`` officers built by ``flask bench seed``, cached under
        bench/out/ (SQLite) or as ``lms_bench_<n>`` (PostgreSQL) until the generator, the migrations or
        content/ change."""
        OUT.mkdir(parents=True, exist_ok=True)
        key = seed_key(officers)
        if self.engine == "postgresql":
            return self._pg_database(officers, key)
        path = OUT / f"seed-{officers}.sqlite3"
        stamp = OUT / f"seed-{officers}.key"
        if path.exists() and stamp.exists() and stamp.read_text() == key:
            return f"sqlite:///{path}"
        for old in OUT.glob(f"seed-{officers}.sqlite3*"):
            old.unlink()
        url = f"sqlite:///{path}"
        seconds = seed(url, officers)
        self.note("seed", f"seeded {officers:,} officers on SQLite in {seconds:.1f} s")
        stamp.write_text(key)
        return url

    def _pg_database(self, officers: int, key: str) -> str:
        assert self.pg_url
        base = self.pg_url.rsplit("/", 1)[0]
        name = f"lms_bench_{officers}"
        url = f"{base}/{name}"
        stamp = OUT / f"pg-{officers}.key"
        if stamp.exists() and stamp.read_text() == key and _pg_exists(base, name):
            return url
        _pg_recreate(base, name)
        seconds = seed(url, officers)
        self.note("seed", f"seeded {officers:,} officers on PostgreSQL in {seconds:.1f} s")
        stamp.write_text(key)
        return url

    def scratch_copy(self, officers: int, label: str) -> str:
        """A throw-away copy of the seeded database, for scenarios that write."""
        url = self.database(officers)
        if self.engine == "postgresql":
            base, name = url.rsplit("/", 1)
            copy = f"lms_bench_{label}"
            _pg_recreate(base, copy, template=name)
            return f"{base}/{copy}"
        source = Path(url.removeprefix("sqlite:///"))
        target = OUT / f"scratch-{label}.sqlite3"
        for old in OUT.glob(f"scratch-{label}.sqlite3*"):
            old.unlink()
        _sqlite_backup(source, target)
        return f"sqlite:///{target}"


def seed_key(officers: int) -> str:
    """What a seeded database depends on: the generator's version, the migrations and content/
    (bump ``lms.generator.GENERATOR_VERSION`` when what it writes changes)."""
    from lms.generator import GENERATOR_VERSION

    digest = hashlib.sha256(f"{officers}:{GENERATOR_VERSION}".encode())
    for folder in ("migrations/versions", "content"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def env_for(url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # The bench signs in HR and admin by cookie: the second factor (tested in tests/auth) is not measured.
    env.update(DATABASE_URL=url, LMS_SECRET_KEY="bench-secret-key", FLASK_APP="lms", LMS_REQUIRE_2FA_ROLES="",
               **extra)
    return env


def flask(url: str, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "lms", *args], cwd=ROOT,
                          env=env_for(url), capture_output=True, text=True, check=True, **kwargs)


def seed(url: str, officers: int) -> float:
    started = time.perf_counter()
    flask(url, "db", "upgrade")
    result = flask(url, "bench", "seed", "--officers", str(officers))
    print(f"  {result.stdout.strip()}", flush=True)
    return time.perf_counter() - started


def _psql(base: str, sql: str) -> str:
    import psycopg

    with psycopg.connect(base.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True) as c:
        rows = c.execute(sql).fetchall() if sql.lstrip().upper().startswith("SELECT") else c.execute(sql)
        return str(rows)


def _pg_exists(base: str, name: str) -> bool:
    return name in _psql(base, f"SELECT datname FROM pg_database WHERE datname = '{name}'")  # noqa: S608


def _pg_recreate(base: str, name: str, template: str | None = None) -> None:
    _psql(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql(base, f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def _sqlite_backup(source: Path, target: Path) -> None:
    import sqlite3

    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()


def machine() -> dict[str, Any]:
    """What the figures ran on."""
    info: dict[str, Any] = {"platform": platform.platform(), "python": sys.version.split()[0],
                            "cpus": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().split()[1]
        info["memory_gb"] = round(int(mem) / 1024 / 1024, 1)
    except OSError:
        pass
    info["sqlite"] = __import__("sqlite3").sqlite_version
    wrk = shutil.which("wrk")
    info["wrk"] = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split("\n")[0] if wrk else None
    return info


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


@contextmanager
def timer() -> Iterator[list[float]]:
    box: list[float] = []
    started = time.perf_counter()
    yield box
    box.append(time.perf_counter() - started)


def as_json(figure: Figure) -> dict[str, Any]:
    data = asdict(figure)
    data["ratio"] = figure.ratio
    return data
