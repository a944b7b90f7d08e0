"""The real app plus a bare endpoint (/bare) in the same process: the benchmarks' baseline."""

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from judging import create_app

bare = Flask("bare")


@bare.route("/", methods=["GET", "POST"])
def bare_index():
    """A fixed string: what the server and client cost with no application work."""
    return "ok"


real = create_app()
app = DispatcherMiddleware(real, {"/bare": bare})
