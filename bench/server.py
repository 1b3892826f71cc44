"""Serving under gunicorn with the settings of gunicorn.conf.py, and measuring with wrk.

Both lms and the floor apps (:mod:`bench.floors`) are served by the same command with the same
settings (2 workers, the threads of gunicorn.conf.py), so the ratio compares the code, not the server.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.core import OUT, ROOT, env_for

WORKERS = 2


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    def peak_rss_mb(self) -> float:
        """The largest peak resident set (VmHWM) of the workers, in MB."""
        peak = 0
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except OSError:
                continue
        return peak / 1024


@contextmanager
def serve(app_spec: str, database_url: str, *, port: int, workers: int = WORKERS,
          env: dict[str, str] | None = None, probe: str = "/") -> Iterator[Server]:
    """gunicorn -c gunicorn.conf.py APP_SPEC on 127.0.0.1:PORT, until the block ends."""
    OUT.mkdir(parents=True, exist_ok=True)
    extra = {"PORT": str(port), "HOST": "127.0.0.1", "WEB_CONCURRENCY": str(workers), **(env or {})}
    log = open(OUT / f"gunicorn-{port}.log", "wb")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
         "--access-logfile", "/dev/null", app_spec],
        cwd=ROOT, env=env_for(database_url, **extra), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + probe, timeout=2)  # noqa: S310 (our own server)
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start: see {log.name}") from None
                time.sleep(0.3)
        yield Server(base, process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


def _ms(text: str) -> float:
    value = float(re.match(r"[\d.]+", text).group(0))  # type: ignore[union-attr]
    if text.endswith("us"):
        return value / 1000
    if text.endswith("ms"):
        return value
    if text.endswith("m"):
        return value * 60000
    return value * 1000  # seconds


def wrk(url: str, *, seconds: int = 10, connections: int = 16, threads: int = 2,
        cookie: str | None = None) -> WrkResult:
    """``wrk --latency`` against one URL; non-2xx/3xx answers and socket errors count as errors."""
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not installed: make debs (Debian package wrk)")
    cmd = [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errors += int(non2xx.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(g) for g in sock.groups())
    return WrkResult(rps, _ms(lat.get("50", "0ms")), _ms(lat.get("99", "0ms")), errors, total)
