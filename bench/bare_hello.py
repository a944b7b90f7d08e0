"""The baseline of bench/contest_day.py: a bare Flask app answering ``GET /hello``.

Served by its own gunicorn with exactly the settings of the app under test, from the same
virtual environment, so that a ratio to it says what the app costs beyond Flask and the
server. It imports nothing of the app. Both are wrapped in ``name_worker``, the one
addition the bench makes to what is served (the app gets it in bench/wsgi_app.py).

    gunicorn -k gthread -w 2 --threads 4 bench.bare_hello:app
"""

from __future__ import annotations

import os

from flask import Flask


def name_worker(wsgi_app):
    """WSGI middleware adding ``X-Bench-Worker: <pid>`` to every answer, so that the bench
    can tell which gunicorn worker answered (the visibility check must hear every one)."""

    def app(environ, start_response):
        def start(status, headers, exc_info=None):
            # Read per call: with --preload an import-time pid would be the master's.
            headers.append(("X-Bench-Worker", str(os.getpid())))
            return start_response(status, headers, exc_info)

        return wsgi_app(environ, start)

    return app


hello = Flask("bare_hello")


@hello.get("/hello")
def hello_world():
    """A small fixed body: what the server and Flask cost with no application work."""
    return "Hello, World!"


app = name_worker(hello)
