"""Scale-out scenario: officer pages through haproxy with one and with two servers, and the deadline burst.

Everything runs on this machine, on loopback: one PostgreSQL database (``lms_scaleout_bench``), the local
Redis (database 6, its own key prefix), gunicorn servers started exactly as the README's deployment
section says, one Dramatiq worker and haproxy from Debian in front. Figures:

* requests/s of the officer home page and certificate list (wrk, one signed-in officer) behind
  haproxy with 1 and with 2 servers;
* the deadline burst: ``BURST`` officers each submit their quiz attempt within one minute (spread evenly)
  while the worker renders certificates in bulk; p50/p95 of the submit, and how many attempts were lost
  (not submitted afterwards, or submitted without the answers saved before).

``python -m bench.scaleout`` runs it alone (``--burst N``, ``--seconds S``); ``run(run)`` is the entry
point for ``make bench``. Needs PostgreSQL on 127.0.0.1:5432, Redis on 127.0.0.1:6379, haproxy and wrk.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
OUT = ROOT / "bench" / "out" / "scaleout"
PG = os.environ.get("BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
DB_NAME = "lms_scaleout_bench"
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
NAMESPACE = "scaleout-bench"
PORTS = iter(range(5610, 5699))
PASSWORD = "bench-mật-khẩu-2026"
BURST = 500
RENDERING = 150  # certificates the worker renders during the burst


def _port() -> int:
    import socket

    for candidate in PORTS:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", candidate)) != 0:
                return candidate
    raise RuntimeError("no free port in 5610-5698")


@dataclass
class Stack:
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], **extra: str) -> subprocess.Popen[bytes]:
        folder = OUT / name
        (folder / "instance").mkdir(parents=True, exist_ok=True)
        log = open(folder / "log.txt", "wb")  # noqa: SIM115 - lives as long as the process
        proc = subprocess.Popen(argv, cwd=folder, stdout=log, stderr=log, start_new_session=True,
                                env=dict(self.env, LMS_INSTANCE_PATH=str(folder / "instance"), **extra))
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in list(self.procs):
            self.stop(proc)

    def server(self, name: str, core: int | None = None) -> tuple[subprocess.Popen[bytes], int]:
        """A gunicorn server; ``core`` pins it (master and workers) to one CPU, standing in for a machine."""
        port = _port()
        pin = ["taskset", "-c", str(core)] if core is not None and shutil.which("taskset") else []
        proc = self.start(name, [*pin, str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                                 "--access-logfile", "/dev/null", "lms:create_app()"],
                          PORT=str(port), HOST="127.0.0.1")
        _wait_http(f"http://127.0.0.1:{port}/auth/login")
        return proc, port

    def balancer(self, backends: list[int], name: str = "haproxy") -> tuple[subprocess.Popen[bytes], int]:
        port = _port()
        folder = OUT / name
        folder.mkdir(parents=True, exist_ok=True)
        servers = "\n".join(f"    server s{i} 127.0.0.1:{p} check" for i, p in enumerate(backends))
        (folder / "haproxy.cfg").write_text(f"""global
    maxconn 2000
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    option forwardfor
frontend lms
    bind 127.0.0.1:{port}
    default_backend servers
backend servers
    balance roundrobin
{servers}
""")
        proc = self.start(name, ["haproxy", "-db", "-f", str(folder / "haproxy.cfg")])
        _wait_http(f"http://127.0.0.1:{port}/auth/login")
        return proc, port


def _wait_http(url: str, timeout: float = 120) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} never answered")


def _url() -> str:
    return f"{PG}/{DB_NAME}"


def _prepare(env: dict[str, str], burst: int) -> None:
    """A fresh database: migrations, then officers with attempts in progress and certificates."""
    import psycopg

    server = PG.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(BIN / "flask"), "--app", "lms", "db", "upgrade"], cwd=OUT, env=env, check=True,
                   capture_output=True)
    subprocess.run([sys.executable, "-c", f"from bench.scaleout import _seed; _seed({burst})"],
                   cwd=ROOT, env=env, check=True)


def _seed(burst: int) -> None:
    sys.path.insert(0, str(ROOT))
    from lms import create_app
    from lms.extensions import db
    from lms.progress import services as progress
    from lms.quizzes import services as quizzes
    from tests import factories as f
    from tests.certificates import factories_certificates as cf
    from tests.quizzes import factories_quizzes as fq

    app = create_app({"REDIS_URL": None, "SQLALCHEMY_DATABASE_URI": _url(), "SECRET_KEY": "seed",
                      "PASSWORD_HASH_PROFILE": "fast"})
    with app.app_context():
        agency = f.agency("SO-NOI-VU")
        course, quiz = fq.setup_quiz()
        f.user("officer", agency=agency, password=PASSWORD)
        for n in range(burst):
            user = f.user(f"burst{n}", agency=agency, password=PASSWORD)
            progress.enrol(user, course)
            quizzes.start_attempt(user, quiz, "vi")
            if n % 100 == 99:
                db.session.commit()
        render_course = cf.course("render")
        for _ in range(RENDERING):
            cf.certified(f.user(agency=agency, password=None), render_course)
        db.session.commit()


def _session(base: str, username: str) -> Any:
    import requests

    http = requests.Session()
    page = http.get(base + "/auth/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    r = http.post(base + "/auth/login", data={"username": username, "password": PASSWORD,
                                              "csrf_token": token}, allow_redirects=False)
    if r.status_code != 302:
        raise RuntimeError(f"could not sign in {username}: {r.status_code}")
    return http


def _wrk(url: str, cookie: str, seconds: int) -> float:
    out = subprocess.run(["wrk", "-t", "2", "-c", "16", "-d", f"{seconds}s", "-H", f"Cookie: {cookie}", url],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


PAGES = ("/", "/certificates/")


def _pages(one: str, two: str, seconds: int, rounds: int) -> dict[str, Any]:
    """Requests/s of each officer page through the one-server and the two-server balancer, alternating
    round by round so that a change in the machine's load falls on both; medians of ``rounds``."""
    http = _session(two, "officer")
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    for path in PAGES:  # warm-up: every worker of both servers has loaded its templates and statements
        _wrk(two + path, cookie, 3)
    seen: dict[str, dict[str, list[float]]] = {"one_server": {p: [] for p in PAGES},
                                               "two_servers": {p: [] for p in PAGES}}
    for _ in range(rounds):
        for path in PAGES:
            seen["one_server"][path].append(_wrk(one + path, cookie, seconds))
            seen["two_servers"][path].append(_wrk(two + path, cookie, seconds))
    results: dict[str, Any] = {key: {p: statistics.median(v) for p, v in by_path.items()}
                               for key, by_path in seen.items()}
    results["rounds"] = seen
    return results


def _burst(base: str, burst: int, spread: float) -> dict[str, Any]:
    """Every officer submits within ``spread`` seconds while the worker renders certificates."""
    from sqlalchemy import create_engine, text

    engine = create_engine(_url())
    with engine.connect() as conn:
        attempts = dict(conn.execute(text(
            'SELECT u.username, a.id FROM quiz_attempt a JOIN "user" u ON u.id = a.user_id')).all())
    names = sorted(attempts, key=lambda n: int(n[5:]) if n.startswith("burst") else -1)
    names = [n for n in names if n.startswith("burst")][:burst]
    with ThreadPoolExecutor(32) as pool:
        sessions = dict(zip(names, pool.map(lambda n: _session(base, n), names), strict=True))
    pages = {}
    for name in names:  # each officer has the take page open (its CSRF token) before the deadline
        pages[name] = sessions[name].get(f"{base}/quizzes/attempts/{attempts[name]}").text
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    began = time.monotonic()

    def submit(i: int, name: str) -> None:
        delay = began + spread * i / len(names) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        page = pages[name]
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        slots = re.search(r'name="slots" value="([^"]*)"', page).group(1)
        data: dict[str, Any] = {"csrf_token": token, "slots": slots}
        for slot in slots.split(","):
            data[f"q{slot}"] = _answer(page, slot)
        started = time.perf_counter()
        try:
            r = sessions[name].post(f"{base}/quizzes/attempts/{attempts[name]}/submit", data=data,
                                    allow_redirects=False, timeout=120)
            ok = r.status_code == 302 and "/review" in r.headers.get("Location", "")
        except Exception as error:  # noqa: BLE001 - counted and reported
            ok, r = False, error
        with lock:
            latencies.append(time.perf_counter() - started)
            if not ok:
                errors.append(f"{name}: {r}")

    with ThreadPoolExecutor(64) as pool:
        list(pool.map(lambda pair: submit(*pair), enumerate(names)))
    wall = time.monotonic() - began
    with engine.connect() as conn:
        submitted = conn.execute(text(
            "SELECT count(*) FROM quiz_attempt WHERE status <> 'in_progress' AND id = ANY(:ids)"),
            {"ids": [attempts[n] for n in names]}).scalar_one()
        answers = conn.execute(text(
            "SELECT count(DISTINCT attempt_id) FROM quiz_attempt_answer WHERE attempt_id = ANY(:ids)"),
            {"ids": [attempts[n] for n in names]}).scalar_one()
    engine.dispose()
    latencies.sort()
    return {
        "officers": len(names), "seconds": round(wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000), "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000),
        "max_ms": round(latencies[-1] * 1000), "errors": len(errors), "first_errors": errors[:3],
        "lost": len(names) - min(submitted, answers),
    }


def _answer(page: str, slot: str) -> list[str]:
    """A plausible answer for one question of the take page, as the browser would post it."""
    box = re.search(rf'id="q{slot}-box".*?</fieldset>', page, re.S)
    html = box.group(0) if box else ""
    choice = re.search(rf'name="q{slot}" value="([^"]+)"', html)
    if choice:
        return [choice.group(1)]
    selects = re.findall(rf'<select[^>]*name="q{slot}"[^>]*>(.*?)</select>', html, re.S)
    if selects:
        return [next(iter(re.findall(r'<option value="(\d+:[^"]+)"', s)), "") for s in selects]
    return ["7"]


def measure(burst: int = BURST, seconds: int = 10, spread: float = 60.0, rounds: int = 3) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
    env.update({
        "DATABASE_URL": _url(), "LMS_SECRET_KEY": "bench-" + "k" * 42, "LMS_REDIS_URL": REDIS,
        "LMS_QUEUE_NAMESPACE": NAMESPACE, "LMS_PUBLIC_BASE_URL": "https://lms.sonha.example",
        "LMS_PASSWORD_HASH_PROFILE": "fast", "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4",
        "LMS_REQUIRE_2FA_ROLES": "",  # the admin signs in by password; the second factor has its own tests
        "LMS_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000", "PYTHONPATH": str(ROOT),
    })
    _prepare(env, burst)
    stack = Stack(env)
    results: dict[str, Any] = {"machine_cores": os.cpu_count()}
    try:
        # Each server is pinned to its own core: on this 2-core machine that is what a second machine adds.
        # wrk, haproxy and PostgreSQL float over both cores, so the two-server figure pays for sharing.
        _a, port_a = stack.server("a", core=0)
        _b, port_b = stack.server("b", core=1)
        _lb1, one_port = stack.balancer([port_a], name="haproxy-one")
        _lb2, lb_port = stack.balancer([port_a, port_b], name="haproxy-two")
        results["load_before"] = os.getloadavg()[0]
        results.update(_pages(f"http://127.0.0.1:{one_port}", f"http://127.0.0.1:{lb_port}", seconds, rounds))
        results["load_after"] = os.getloadavg()[0]
        stack.start("worker", [str(BIN / "dramatiq"), "lms.tasks.worker", "--processes", "1",
                               "--threads", "1"])
        render = subprocess.run(
            [sys.executable, "-c", "from bench.scaleout import _start_render; _start_render()"],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.strip()
        results["burst"] = _burst(f"http://127.0.0.1:{lb_port}", burst, spread)
        results["burst"]["certificates_rendered_meanwhile"] = _rendered(int(render))
    finally:
        stack.stop_all()
        import redis

        client = redis.Redis.from_url(REDIS)
        for key in client.scan_iter(f"{NAMESPACE}*"):
            client.delete(key)
    return results


def _start_render() -> None:
    from sqlalchemy import select

    from lms import create_app
    from lms.certificates.models import Certificate
    from lms.certificates.tasks import start_bulk_render
    from lms.extensions import db

    app = create_app()
    with app.app_context():
        ids = list(db.session.scalars(select(Certificate.id).order_by(Certificate.id)))
        print(start_bulk_render(ids).id)


def _rendered(run_id: int) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(_url())
    with engine.connect() as conn:
        done = conn.execute(text("SELECT done FROM task_run WHERE id = :i"), {"i": run_id}).scalar_one()
    engine.dispose()
    return int(done)


def table(results: dict[str, Any]) -> str:
    one, two, burst = results["one_server"], results["two_servers"], results["burst"]
    lines = [f"{len(results['rounds']['one_server']['/'])} alternating rounds, medians; load average "
             f"{results['load_before']:.1f} before, {results['load_after']:.1f} after", "",
             "| officer page | 1 server (req/s) | 2 servers (req/s) | ratio |", "|---|---|---|---|"]
    for path in PAGES:
        lines.append(f"| `{path}` | {one[path]:.0f} | {two[path]:.0f} | {two[path] / one[path]:.2f} |")
    lines += ["", f"deadline burst: {burst['officers']} officers submitted in {burst['seconds']} s behind haproxy "
              f"with 2 servers while the worker rendered {burst['certificates_rendered_meanwhile']} certificates: "
              f"p50 {burst['p50_ms']} ms, p95 {burst['p95_ms']} ms, max {burst['max_ms']} ms, "
              f"{burst['errors']} errors, {burst['lost']} lost"]
    return "\n".join(lines)


def _reachable() -> str:
    """Why the scenario cannot run here ('' when PostgreSQL, Redis, haproxy and wrk are all there)."""
    import shutil

    import psycopg
    import redis

    for tool in ("haproxy", "wrk"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (make bench-debs)"
    try:
        psycopg.connect(PG.replace("postgresql+psycopg://", "postgresql://") + "/postgres",
                        connect_timeout=3).close()
    except psycopg.Error as error:
        return f"no PostgreSQL at {PG}: {error}"
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        return f"no Redis at {REDIS}: {error}"
    return ""


def run(ctx: Any) -> None:
    """Entry point for ``make bench`` (bench/scenarios.py): records its figures as PostgreSQL ones."""
    from bench.core import Figure

    missing = _reachable()
    if missing:
        ctx.note("scaleout", f"skipped: {missing}")
        return
    results = measure(seconds=5 if ctx.quick else 10, rounds=3)
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    engine, ctx.engine = ctx.engine, "postgresql"
    try:
        for path in PAGES:
            one, two = results["one_server"][path], results["two_servers"][path]
            ctx.add(Figure("scaleout", f"GET {path} (officer), 2 servers behind haproxy", two, "req/s",
                           floor=one, floor_name="1 server", better="higher", target="> 1 server",
                           met=two > one))
        burst = results["burst"]
        ctx.add(Figure("scaleout", f"deadline burst: {burst['officers']} submits in {burst['seconds']} s "
                       f"while {burst['certificates_rendered_meanwhile']} certificates render, p95",
                       burst["p95_ms"], "ms", target="0 lost, 0 errors",
                       met=burst["lost"] == 0 and burst["errors"] == 0, extra=burst))
    finally:
        ctx.engine = engine
    ctx.note("scaleout", table(results).replace("\n", " / "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=BURST)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per page")
    parser.add_argument("--spread", type=float, default=60.0, help="seconds the burst is spread over")
    parser.add_argument("--rounds", type=int, default=3, help="alternating wrk rounds per page")
    args = parser.parse_args()
    missing = _reachable()
    if missing:
        raise SystemExit(missing)
    results = measure(args.burst, args.seconds, args.spread, args.rounds)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    main()
