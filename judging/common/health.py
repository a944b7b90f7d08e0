"""``/healthz``: whether this process can serve, for a load balancer or a supervisor.

Answered before Flask (a WSGI middleware, as the leaderboard's front door is): no
session is read or written, no cookie set, no rate limit counted, no account loaded,
so a probe every second costs one ``SELECT 1`` and nothing else. 200 with
``{"status": "ok"}`` when the database answers, 503 with ``{"status": "unavailable"}``
when it does not (the reason goes to the log, not to the probe). Never cached.
"""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa

PATH = "/healthz"
log = logging.getLogger(__name__)


def _answer(start_response, status: str, state: str):
    body = json.dumps({"status": state}).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [body]


class HealthCheck:
    """WSGI middleware answering ``PATH`` (GET or HEAD) from the database's ``SELECT 1``."""

    def __init__(self, wsgi_app, engine_factory):
        self.wsgi_app = wsgi_app
        self.engine_factory = engine_factory  # the app's engine, read once it exists

    def database_answers(self) -> bool:
        """Whether ``SELECT 1`` succeeds on a connection of the engine's pool."""
        try:
            with self.engine_factory().connect() as conn:
                return conn.execute(sa.text("SELECT 1")).scalar() == 1
        except Exception:  # any failure is "unavailable"; the log says which
            log.warning("health check: the database does not answer", exc_info=True)
            return False

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") not in (
            "GET",
            "HEAD",
        ):
            return self.wsgi_app(environ, start_response)
        if self.database_answers():
            body = _answer(start_response, "200 OK", "ok")
        else:
            body = _answer(start_response, "503 SERVICE UNAVAILABLE", "unavailable")
        return [] if environ["REQUEST_METHOD"] == "HEAD" else body


def install(app) -> HealthCheck:
    """Answer ``/healthz`` before the app (called by ``create_app``)."""
    from judging.extensions import db

    def engine():
        with app.app_context():
            return db.engine

    middleware = HealthCheck(app.wsgi_app, engine)
    app.wsgi_app = middleware
    return middleware
