"""Production serving: gunicorn with the repo's config (no worker outlives a crashed
master, a restart binds at once), SECRET_KEY required outside debugging, /healthz."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from judging import Config, TestingConfig, create_app
from judging.config import KEY_REQUIRED
from judging.extensions import db
from tests.conftest import create_user, sign_in_as

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 3

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> set[int]:
    """Living (not zombie) processes whose parent is pid."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            state = _stat(int(entry))
            if state and state[1] == str(pid) and state[0] != "Z":
                found.add(int(entry))
    return found


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, parent pid) of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], fields[1]


def _alive(pid: int) -> bool:
    state = _stat(pid)
    return state is not None and state[0] not in ("Z", "X")


def _health(port: int) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


def _start(port: int, tmp_path: Path, *extra: str) -> subprocess.Popen:
    env = dict(
        os.environ,
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY=str(WORKERS),
        THREADS="2",
        TIMEOUT="60",  # a sync worker would wait 30 s between checks of its parent
        ACCESS_LOG="",
        DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite'}",
        SECRET_KEY="serving-test-key",
        PYTHONPATH=str(ROOT),
    )
    env.pop("FLASK_DEBUG", None)
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *extra, "wsgi:app"]
    log = open(tmp_path / f"gunicorn-{port}-{time.monotonic_ns()}.log", "w+b")  # noqa: SIM115
    proc = subprocess.Popen(  # noqa: S603 - our own command line
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    proc.log = log
    return proc


def _output(proc) -> str:
    proc.log.flush()
    proc.log.seek(0)
    return proc.log.read().decode(errors="replace")


def _wait_ready(proc, port: int, seconds: float = 90) -> set[int]:
    """Wait for every worker to have loaded the app (gunicorn.conf.py's post_worker_init
    logs it) and /healthz to answer; the workers' pids."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"gunicorn exited:\n{_output(proc)}"
        workers = _children(proc.pid)
        output = _output(proc)
        ready = {pid for pid in workers if f"Worker {pid} ready" in output}
        if len(ready) == WORKERS and _health(port) == 200:
            return workers
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not come up:\n{_output(proc)}")


def _stop(proc) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=35)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc.log.close()


@pytest.mark.parametrize(
    "worker_class",
    [
        "gthread",  # the config's own
        # sync workers look at their parent only every TIMEOUT/2 seconds: only the
        # parent-death signal can take them down within the bound below
        "sync",
    ],
)
def test_no_worker_outlives_a_killed_master_and_a_restart_binds_at_once(tmp_path, worker_class):
    port = _free_port()
    extra = () if worker_class == "gthread" else ("--worker-class", "sync")
    first = _start(port, tmp_path, *extra)
    second = None
    try:
        workers = _wait_ready(first, port)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=5)
        killed = time.monotonic()
        while any(_alive(pid) for pid in workers) and time.monotonic() - killed < 3:
            time.sleep(0.05)
        left = [pid for pid in workers if _alive(pid)]
        assert not left, f"workers {left} outlived their master by 3 s"

        second = _start(port, tmp_path, *extra)
        listening = f"Listening at: http://127.0.0.1:{port}"
        deadline = time.monotonic() + 5
        while listening not in _output(second) and time.monotonic() < deadline:
            assert second.poll() is None, _output(second)
            time.sleep(0.05)
        assert listening in _output(second), "the new master did not bind the port at once"
        assert "Connection in use" not in _output(second), _output(second)
        _wait_ready(second, port)  # and serves
    finally:
        for proc in (first, second):
            if proc is not None:
                _stop(proc)


def test_the_config_reads_its_settings_from_the_environment(monkeypatch):
    import runpy

    monkeypatch.setenv("BIND", "0.0.0.0:9000, unix:/run/judging.sock")
    monkeypatch.setenv("WEB_CONCURRENCY", "5")
    monkeypatch.setenv("THREADS", "8")
    monkeypatch.setenv("TIMEOUT", "90")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["bind"] == ["0.0.0.0:9000", "unix:/run/judging.sock"]
    assert settings["workers"] == 5 and settings["threads"] == 8 and settings["timeout"] == 90
    assert settings["worker_class"] == "gthread"
    assert settings["graceful_timeout"] > 0 and settings["keepalive"] > 0
    assert callable(settings["post_fork"])


# ------------------------------------------------------------------ SECRET_KEY


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    for name in ("SECRET_KEY", "SECRET_KEY_FILE", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    with pytest.raises(RuntimeError) as refused:
        create_app()
    assert str(refused.value) == KEY_REQUIRED
    assert "SECRET_KEY" in KEY_REQUIRED and "secrets.token_hex" in KEY_REQUIRED
    with pytest.raises(RuntimeError):
        create_app({"SECRET_KEY": ""})

    # wsgi.py (what gunicorn loads) says so and stops, before serving anything.
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FLASK_DEBUG")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite'}", PYTHONPATH=str(ROOT))
    result = subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, "-c", "import wsgi"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr


def test_a_named_key_a_key_file_debug_and_tests_start(monkeypatch, tmp_path):
    for name in ("SECRET_KEY", "SECRET_KEY_FILE", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite'}")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert create_app().secret_key == "from-the-environment"

    monkeypatch.delenv("SECRET_KEY")
    key_file = tmp_path / "secrets" / "key"
    monkeypatch.setenv("SECRET_KEY_FILE", str(key_file))
    made = create_app().secret_key
    assert len(made) == 64 and key_file.read_text() == made
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert create_app().secret_key == made, "the same key on the next start"

    monkeypatch.delenv("SECRET_KEY_FILE")
    monkeypatch.setenv("FLASK_DEBUG", "1")  # flask --debug run
    assert create_app().secret_key
    monkeypatch.delenv("FLASK_DEBUG")
    assert create_app(TestingConfig()).secret_key == "test-secret-key"
    assert Config().SECRET_KEY is None


# ------------------------------------------------------------------ /healthz


def test_healthz_answers_ok_when_the_database_does(app, client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert client.head("/healthz").status_code == 200


def test_healthz_sets_no_cookie_for_a_signed_in_visitor_and_is_never_limited(tmp_path, monkeypatch):
    # A database file: the probe takes a connection of its own beside the request's (an
    # in-memory database has only the one the tests' session holds).
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'h.sqlite'}"
    app = create_app(config)
    with app.app_context():
        db.create_all()
        user = create_user("judge-h")
        db.session.commit()
        client = app.test_client()
        sign_in_as(client, user)
        monkeypatch.setattr("judging.common.sessions.SEEN_EVERY", 0)  # a page would restamp
        assert "Set-Cookie" in client.get("/account/password").headers  # as a page does
        for _ in range(200):
            response = client.get("/healthz")
            assert response.status_code == 200
            assert "Set-Cookie" not in response.headers
            assert not any(name.startswith("X-RateLimit") for name, _ in response.headers)
        db.session.remove()
        db.engine.dispose()


def test_healthz_answers_503_when_the_database_does_not(tmp_path, monkeypatch):
    config = TestingConfig()
    # A server that is not there: connections are refused at once.
    config.SQLALCHEMY_DATABASE_URI = (
        f"postgresql+psycopg://nobody@127.0.0.1:{_free_port()}/nothing?connect_timeout=2"
    )
    app = create_app(config)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}
    assert response.headers["Cache-Control"] == "no-store"

    # A database that fails mid-way (here, every statement) is unavailable too, and
    # answers again once it is back.
    file_config = TestingConfig()
    file_config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'h.sqlite'}"
    file_app = create_app(file_config)
    client = file_app.test_client()
    assert client.get("/healthz").status_code == 200
    with file_app.app_context():
        engine = db.engine

    def broken(*_args, **_kw):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("the disk is gone"))

    monkeypatch.setattr(engine, "connect", broken)
    response = client.get("/healthz")
    assert response.status_code == 503 and json.loads(response.data) == {"status": "unavailable"}
    monkeypatch.undo()
    assert client.get("/healthz").status_code == 200
    with file_app.app_context():
        db.engine.dispose()
