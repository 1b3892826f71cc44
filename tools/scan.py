# ruff: noqa: S603, S105  (fixed argv of our own tools; the demo password is public, see README)
"""`make scan`: serve the demo on 127.0.0.1 and point third-party scanners at it.

1. builds a scratch demo database (instance/scan/demo.sqlite3) and serves it with gunicorn on
   127.0.0.1:$SCAN_PORT (default 5510);
2. wapiti (modules below), signed in as `officer` and as `hr` (excluding the logout form);
3. sqlmap on the search, filter and API parameters (cookie of `hr`, a bearer token of `hr`);
4. pip-audit on the packages installed in .venv (pinned by constraints.txt).

The scanners live in .venv-scan (pinned by tools/scan-constraints.txt) and never touch the app's
packages. Reports go to instance/scan/; instance/scan/summary.md lists the findings by kind, and the
server errors (HTTP 5xx) the demo answered while the scanners ran, from instance/scan/gunicorn.log: wapiti
reports a 500 only when its own payload caused it, and "database is locked" under load was seen only
there. The command fails when any injection or XSS is found (wapiti xss/permanentxss/sql/timesql/exec/
file/crlf/redirect, or an injectable parameter for sqlmap) or when the server answered any 5xx.

Run by hand: `.venv/bin/python tools/scan.py [--quick]` (quick: shorter wapiti budget).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "instance" / "scan"
SCAN_BIN = ROOT / ".venv-scan" / "bin"
APP_BIN = ROOT / ".venv" / "bin"
PORT = int(os.environ.get("SCAN_PORT", "5510"))
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "hoc-tap-son-ha"
WAPITI_MODULES = "xss,permanentxss,sql,timesql,exec,file,redirect,csrf,http_headers,cookieflags,csp,crlf,ssrf"
# Findings of these kinds fail `make scan`.
INJECTION_KINDS = {"Cross Site Scripting", "Stored Cross Site Scripting", "SQL Injection",
                   "Blind SQL Injection", "Command execution", "Path Traversal", "CRLF Injection",
                   "Open Redirect", "Server Side Request Forgery", "Reflected Cross Site Scripting"}


def env() -> dict[str, str]:
    e = dict(os.environ)
    # REQUIRE_2FA_ROLES off: the scanners sign in as hr with the password alone (the second factor has its
    # own tests in tests/auth/test_two_factor.py).
    e.update({"LMS_DATABASE_URL": f"sqlite:///{OUT / 'demo.sqlite3'}", "LMS_SECRET_KEY": "scan-only-secret",
              "FLASK_APP": "lms", "LMS_REQUIRE_2FA_ROLES": ""})
    return e


def flask(*args: str) -> None:
    subprocess.run([str(APP_BIN / "flask"), "--app", "lms", *args], check=True, env=env(), cwd=ROOT,
                   stdout=subprocess.DEVNULL)


def build_demo() -> None:
    if (OUT / "demo.sqlite3").exists():
        return
    print("scan: building the demo database", flush=True)
    flask("db", "upgrade")
    flask("content", "sync", "--publish-new")
    flask("demo")


def serve() -> subprocess.Popen[bytes]:
    e = env() | {"HOST": "127.0.0.1", "PORT": str(PORT), "WEB_CONCURRENCY": "2"}
    log = open(OUT / "gunicorn.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([str(APP_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "lms:create_app()"],
                            cwd=ROOT, env=e, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{BASE}/auth/login", timeout=2)  # noqa: S310 - our own server
            return proc
        except OSError:
            time.sleep(0.5)
    stop(proc)
    raise SystemExit("scan: the server did not start; see instance/scan/gunicorn.log")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def login_cookie(username: str) -> str:
    """Sign in through the real form; returns the session cookie's value."""
    import http.cookiejar

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{BASE}/auth/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    data = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrf_token": token}).encode()
    opener.open(f"{BASE}/auth/login", data=data).read()
    value = next((c.value for c in jar if c.name == "lms_session"), None)
    if not value or "/auth/login" in opener.open(f"{BASE}/auth/profile").geturl():
        raise SystemExit(f"scan: could not sign in as {username}")
    return value


def wapiti_cookie_file(username: str, value: str) -> Path:
    path = OUT / f"cookies-{username}.json"
    path.write_text(json.dumps({"127.0.0.1": {"/": {"lms_session": {
        "value": value, "version": 0, "expires": None, "secure": False, "port": None}}}}))
    return path


def api_token(username: str) -> str:
    code = ("from lms import create_app\nfrom lms.extensions import db\nfrom lms.org.models import User\n"
            "from lms.api.services import create_token\nfrom sqlalchemy import select\n"
            "app = create_app()\nwith app.app_context():\n"
            f"    u = db.session.scalars(select(User).where(User.username == {username!r})).one()\n"
            "    _row, token = create_token(u, 'make scan')\n    db.session.commit()\n    print(token)\n")
    out = subprocess.run([str(APP_BIN / "python"), "-c", code], env=env(), cwd=ROOT, check=True,
                         capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def run_wapiti(username: str, cookie: Path, budget: int) -> Path:
    report = OUT / f"wapiti-{username}.json"
    cmd = [str(SCAN_BIN / "wapiti"), "-u", f"{BASE}/", "--scope", "folder", "-m", WAPITI_MODULES,
           "-c", str(cookie), "-x", f"{BASE}/auth/logout", "-x", f"{BASE}/lang", "-x", f"{BASE}/auth/password",
           "--flush-session", "-d", "3", "--max-links-per-page", "25", "--max-files-per-dir", "25",
           "--max-scan-time", str(budget), "--max-attack-time", str(max(30, budget // 8)),
           "--tasks", "4", "-f", "json", "-o", str(report), "--verify-ssl", "0"]
    print(f"scan: wapiti as {username} (at most {budget} s)", flush=True)
    with open(OUT / f"wapiti-{username}.log", "w") as log:
        subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    return report


def sqlmap_targets(cookie: str, token: str) -> list[tuple[str, list[str]]]:
    c = ["--cookie", f"lms_session={cookie}"]
    t = ["--headers", f"Authorization: Bearer {token}"]
    return [
        (f"{BASE}/reports/officers?q=Nguyen", c),
        (f"{BASE}/certificates/manage?q=Nguyen&state=valid&agency=1&course=1&plan=1", c),
        (f"{BASE}/reports/agencies?course=1&plan=1&duty=1&from=2026-01-01&to=2026-12-31", c),
        (f"{BASE}/catalog/?q=quyen&topic=foundations&hours=short&lang=vi", c),
        (f"{BASE}/org/users?q=Nguyen&agency=1&role=officer", c),
        (f"{BASE}/verify?code=ABCD-EFGH", []),
        (f"{BASE}/api/v1/completion/officers?agency=STP&course=hr-foundations&page=1", t),
        (f"{BASE}/api/v1/certificates?course=hr-foundations&status=valid&page=1", t),
        (f"{BASE}/api/v1/agencies?kind=department&under=SH", t),
    ]


def run_sqlmap(cookie: str, token: str) -> list[dict[str, object]]:
    results = []
    for n, (url, extra) in enumerate(sqlmap_targets(cookie, token), 1):
        cmd = [str(SCAN_BIN / "sqlmap"), "-u", url, *extra, "--batch", "--level", "2", "--risk", "1",
               "--time-sec", "2", "--threads", "2", "--flush-session", "--disable-coloring",
               "--output-dir", str(OUT / "sqlmap"), "--skip-static"]
        print(f"scan: sqlmap {n}: {url.split('?')[0]}", flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        (OUT / f"sqlmap-{n}.log").write_text(proc.stdout + proc.stderr)
        injectable = "identified the following injection point" in proc.stdout
        results.append({"url": url, "injectable": injectable,
                        "verdict": "INJECTABLE" if injectable else
                        ("not injectable" if "do not appear to be injectable" in proc.stdout or
                         "not injectable" in proc.stdout else "see log")})
    return results


def run_pip_audit() -> dict[str, object]:
    pinned = OUT / "requirements-pinned.txt"
    frozen = subprocess.run([str(APP_BIN / "python"), "-m", "pip", "freeze", "--exclude-editable"],
                            capture_output=True, text=True, check=True).stdout
    pinned.write_text("\n".join(line for line in frozen.splitlines() if not line.startswith("-e")) + "\n")
    report = OUT / "pip-audit.json"
    proc = subprocess.run([str(SCAN_BIN / "pip-audit"), "-r", str(pinned), "--no-deps", "--disable-pip",
                           "-f", "json", "-o", str(report), "--progress-spinner", "off"],
                          capture_output=True, text=True)
    (OUT / "pip-audit.log").write_text(proc.stdout + proc.stderr)
    try:
        data = json.loads(report.read_text())
    except (OSError, ValueError):
        return {"error": proc.stderr[-500:]}
    vulns = [(d["name"], d["version"], v["id"], v.get("fix_versions")) for d in data.get("dependencies", [])
             for v in d.get("vulns", [])]
    return {"packages": len(data.get("dependencies", [])), "vulns": vulns}


def wapiti_findings(report: Path) -> dict[str, dict[str, int]]:
    try:
        data = json.loads(report.read_text())
    except (OSError, ValueError):
        return {"error": {"no report": 1}}
    out: dict[str, dict[str, int]] = {}
    for section in ("vulnerabilities", "anomalies", "additionals"):
        out[section] = {kind: len(items) for kind, items in data.get(section, {}).items() if items}
    return out


ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>[^ ?"]*)[^"]*" (?P<status>\d{3}) ')


def server_errors(log: Path) -> dict[str, object]:
    """The 5xx answers in gunicorn's access log, by method and path, and how many tracebacks said
    "database is locked"."""
    text = log.read_text(errors="replace") if log.exists() else ""
    by_path: dict[str, int] = {}
    for match in ACCESS_LINE.finditer(text):
        if match["status"].startswith("5"):
            key = f"{match['status']} {match['method']} {re.sub(r'/[0-9]+(?=/|$)', '/<id>', match['path'])}"
            by_path[key] = by_path.get(key, 0) + 1
    # One "Exception on ..." entry per failed request, its traceback up to the next entry.
    locked = sum("database is locked" in entry for entry in text.split("ERROR in app: Exception on ")[1:])
    return {"by_path": by_path, "locked": locked}


def summary(wapiti: dict[str, dict[str, dict[str, int]]], sqlmap: list[dict[str, object]],
            audit: dict[str, object], errors: dict[str, object] | None = None) -> tuple[str, bool]:
    bad = False
    lines = ["# make scan: findings", "", f"Target: {BASE} (the demo), {time.strftime('%Y-%m-%d %H:%M')}", ""]
    for user, found in wapiti.items():
        lines.append(f"## wapiti as `{user}` (modules: {WAPITI_MODULES})")
        for section, kinds in found.items():
            for kind, count in sorted(kinds.items()):
                fatal = section == "vulnerabilities" and kind in INJECTION_KINDS
                bad |= fatal
                lines.append(f"- {section}: {kind}: {count}{'  **(injection/XSS)**' if fatal else ''}")
        if not any(found.values()):
            lines.append("- nothing found")
        lines.append("")
    lines.append("## sqlmap")
    for r in sqlmap:
        bad |= bool(r["injectable"])
        lines.append(f"- `{r['url'].replace(BASE, '')}`: {r['verdict']}")
    if errors is not None:
        by_path: dict[str, int] = errors["by_path"]  # type: ignore[assignment]
        lines += ["", "## server errors (gunicorn.log)",
                  f"- HTTP 5xx answers: {sum(by_path.values())}; \"database is locked\": {errors['locked']}"]
        lines += [f"  - {key}: {count}" for key, count in sorted(by_path.items())]
        bad |= bool(by_path)
    lines += ["", "## pip-audit"]
    if "error" in audit:
        lines.append(f"- could not run: {audit['error']}")
    else:
        lines.append(f"- {audit['packages']} packages audited, {len(audit['vulns'])} known vulnerabilities")
        lines += [f"  - {name} {version}: {vid} (fixed in {fix})" for name, version, vid, fix in audit["vulns"]]
    return "\n".join(lines) + "\n", bad


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a shorter wapiti budget (for a smoke run)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the demo database")
    parser.add_argument("--sqlmap-only", action="store_true", help="skip wapiti (rerun sqlmap and pip-audit)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.fresh:
        for p in OUT.glob("demo.sqlite3*"):
            p.unlink()
        shutil.rmtree(OUT / "sqlmap", ignore_errors=True)
    build_demo()
    budget = 240 if args.quick else 600
    proc = serve()
    try:
        officer = login_cookie("officer")
        hr = login_cookie("hr")
        wapiti = {u: wapiti_findings(OUT / f"wapiti-{u}.json") for u in ("officer", "hr")} if args.sqlmap_only else {}
        for username, value in () if args.sqlmap_only else (("officer", officer), ("hr", hr)):
            wapiti[username] = wapiti_findings(run_wapiti(username, wapiti_cookie_file(username, value), budget))
            # The scan may have changed the account (never its password: that form is excluded).
        # The token is made after wapiti: its HR scan posts the profile page's revoke forms too.
        sqlmap = run_sqlmap(login_cookie("hr"), api_token("hr"))
    finally:
        stop(proc)
    audit = run_pip_audit()
    text, bad = summary(wapiti, sqlmap, audit, server_errors(OUT / "gunicorn.log"))
    (OUT / "summary.md").write_text(text)
    print(text)
    return 1 if bad else 0


if __name__ == "__main__":
    import urllib.parse  # noqa: F401 - used by login_cookie

    sys.exit(main())
