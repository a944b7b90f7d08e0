"""Error pages, in the layout and the visitor's language."""

import sqlalchemy as sa
from flask import Flask, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from judging.extensions import db

#: What a 503 answer for an unreachable database suggests: a PostgreSQL restart took about
#: 4.5 s in bench/soak.py.
RETRY_AFTER_SECONDS = 5


def _messages():
    return {
        400: (_("Bad request"), _("The request could not be understood.")),
        403: (_("Not allowed"), _("You may not do that.")),
        404: (_("Not found"), _("There is no such page, or it is not yours to see.")),
        405: (_("Not allowed"), _("That method is not allowed here.")),
        409: (_("Changed elsewhere"), _("Someone changed this in the meantime.")),
        413: (_("Too large"), _("The upload is larger than allowed.")),
        429: (
            _("Too many attempts"),
            _("Too many attempts in a short time. Please wait a minute and try again."),
        ),
        500: (_("Something went wrong"), _("The error was logged. Please try again.")),
        503: (
            _("Temporarily unavailable"),
            _("The database cannot be reached just now. Please try again in a few seconds."),
        ),
    }


def render_error(code: int, detail: str | None = None):
    """Render the error page for an HTTP status code."""
    title, message = _messages().get(code, (_("Error"), ""))
    if request.accept_mimetypes.best == "application/json":
        return {"error": title, "detail": detail or message}, code
    return render_template(
        "errors/error.html", code=code, title=title, message=detail or message
    ), code


def register(app: Flask) -> None:
    """Attach the error handlers to the app."""

    @app.errorhandler(CSRFError)
    def _csrf(err):
        db.session.rollback()
        return render_error(
            400, _("The form expired or was sent from elsewhere. Reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        db.session.rollback()
        return render_error(err.code or 500)

    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    def _database_unavailable(err: sa.exc.DBAPIError):
        # The database is down, restarting or unreachable (or SQLite's lock outlasted the
        # busy timeout): nothing was written, and asking again shortly is the remedy.
        try:
            db.session.rollback()
        except sa.exc.SQLAlchemyError:
            db.session.close()
        app.logger.warning("database unavailable: %s", getattr(err, "orig", err))
        response = make_response(render_error(503))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error")
        if app.testing and app.config.get("PROPAGATE_EXCEPTIONS", True):
            raise err
        return render_error(500)
