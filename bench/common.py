"""Helpers shared by the benchmarks: databases, a gunicorn server, HTTP clients, wrk, stats."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

# The apps the benches build in their own process (the contests they load, the in-process
# profiles) and the servers they start share one key: the app refuses to start without one
# outside debugging (judging/config.py).
os.environ.setdefault("SECRET_KEY", "bench-secret")

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
#: Put before every bench database's name (PostgreSQL) and SQLite file name, so that
#: several runs on one server (other sessions, CI jobs) never drop each other's databases.
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "")


def db_name(name: str) -> str:
    """A bench database's name with ``BENCH_DB_PREFIX`` in front (once)."""
    return name if name.startswith(DB_PREFIX) else DB_PREFIX + name


def free_port() -> int:
    """A free TCP port on the loopback address."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(kind: str, tmp: Path, name: str) -> str | None:
    """A URL of an empty database: a SQLite file in tmp, or a new PostgreSQL database."""
    name = db_name(name)
    if kind == "sqlite":
        path = tmp / f"{name}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as err:
        print(f"  PostgreSQL not reachable, skipped: {err.orig}")
        return None
    finally:
        admin.dispose()
    return sa.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    """Drop a PostgreSQL bench database (ranking's large sizes hold hundreds of MiB)."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def gunicorn(
    database_url: str,
    *,
    workers: int = 4,
    worker_class: str = "sync",
    threads: int = 1,
    app: str = "wsgi:app",
):
    """Run gunicorn on a free port against database_url; yields (host, port)."""
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        SECRET_KEY="bench-secret",
        SIGNIN_RATE_LIMIT="10000 per minute",
        # gunicorn reads the repo's gunicorn.conf.py from the working directory (make
        # serve's settings, for the app and the bare baseline alike); the command line
        # below sets workers, class and threads, and the access log stays off, as before.
        ACCESS_LOG="",
        PYTHONPATH=str(ROOT),
    )
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(workers),
        "-k",
        worker_class,
        "--threads",
        str(threads),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        app,
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start")
        yield "127.0.0.1", port
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


class Client:
    """A tiny cookie-keeping HTTP client (one connection per request, as gunicorn sync closes)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}
        #: False: keep sending the cookies held now and ignore new ones (see bench/scoring.py)
        self.accept_cookies = True

    def request(self, method: str, path: str, form: dict | str | None = None):
        """Send a request (a form as a dict, or already encoded); returns (status, body
        text, seconds)."""
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = form if isinstance(form, str) else urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        elapsed = time.perf_counter() - started
        for header in (response.headers.get_all("Set-Cookie") or []) * self.accept_cookies:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text, elapsed

    def csrf(self, path: str) -> str:
        """Fetch a page and return its CSRF token."""
        _, text, _ = self.request("GET", path)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
        if not match:
            raise RuntimeError(f"no CSRF token on {path}")
        return match.group(1)


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def median(values):
    """The median of values."""
    return statistics.median(values)


def fetch(host: str, port: int, path: str, headers: dict | None = None, timeout: float = 60):
    """GET path on a fresh connection; returns (status, headers, body bytes)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNIT[unit]


def lua_rotation(requests: list[tuple[str, dict[str, str]]]) -> str:
    """A wrk script sending GETs of (path, headers) in turn, each formatted once per thread.

    Every target of a comparison runs through a script of this shape, one request or
    many, so wrk's own cost per request is the same for all of them.
    """

    def text(value: str) -> str:
        assert "]==]" not in value
        return f"[==[{value}]==]"

    def spec(path: str, headers: dict[str, str]) -> str:
        # "[ [==[" with spaces: "[[" would open a Lua long string
        fields = ", ".join(f"[ {text(k)} ] = {text(v)}" for k, v in headers.items())
        return f"  {{path = {text(path)}, headers = {{{fields}}}}}"

    specs = ",\n".join(spec(path, headers) for path, headers in requests)
    return (
        f"local specs = {{\n{specs}\n}}\n"
        "local formatted = {}\n"
        "local i = 0\n"
        "function init(args)\n"
        "  for k, spec in ipairs(specs) do\n"
        '    formatted[k] = wrk.format("GET", spec.path, spec.headers)\n'
        "  end\n"
        "end\n"
        "function request()\n"
        "  i = i % #formatted + 1\n"
        "  return formatted[i]\n"
        "end\n"
    )


def wrk(
    host: str,
    port: int,
    requests: list[tuple[str, dict[str, str]]],
    *,
    duration: float,
    connections: int,
    threads: int,
    tmp: Path,
) -> dict:
    """wrk over requests in turn (``lua_rotation``): requests/s, p50/p99 in ms, and errors
    (answers other than 2xx/3xx plus socket errors: connect, read, write, timeout)."""
    script = tmp / f"wrk-{os.getpid()}-{time.monotonic_ns()}.lua"
    script.write_text(lua_rotation(requests))
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration:g}s"]
    cmd += ["--latency", "--timeout", "5s", "-s", str(script), f"http://{host}:{port}/"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    finally:
        script.unlink(missing_ok=True)
    return parse_wrk(out)


def parse_wrk(out: str) -> dict:
    """The figures of wrk's report (run with --latency)."""
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+(?:us|ms|s))\s*$", out, re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    kinds = {}  # wrk prints the socket errors line only when there were some
    if sockets:
        names = ("connect", "read", "write", "timeout")
        kinds = {n: c for n, c in zip(names, map(int, sockets.groups()), strict=True) if c}
    if non_2xx:
        kinds["non_2xx_3xx"] = int(non_2xx.group(1))
    total = re.search(r"(\d+) requests in [\d.]+\w+, ([\d.]+)(B|KB|MB|GB) read", out)
    requests = int(total.group(1))
    read = float(total.group(2)) * 1024 ** ["B", "KB", "MB", "GB"].index(total.group(3))
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": requests,
        # What an answer weighed on average, headers included: a check that the script
        # sent what was meant (a poll answered 200 instead of 304 weighs a page).
        "bytes_per_answer": read / max(requests, 1),
        "p50_ms": _ms(latency["50"]),
        "p99_ms": _ms(latency["99"]),
        "errors": sum(kinds.values()),
        "error_kinds": kinds,
    }


def median_runs(runs: list[dict]) -> dict:
    """Medians over rounds of every number in the runs; errors and their kinds summed."""
    numbers = [k for k, v in runs[0].items() if isinstance(v, int | float) and k != "errors"]
    result = {k: median([r[k] for r in runs]) for k in numbers}
    result["errors"] = sum(r["errors"] for r in runs)
    kinds: dict[str, int] = {}
    for r in runs:
        for k, v in r.get("error_kinds", {}).items():
            kinds[k] = kinds.get(k, 0) + v
    result["error_kinds"] = kinds
    return result
