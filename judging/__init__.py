"""评审系统 — contest judging: rubric scoring, rankings, awards, Excel, live leaderboard."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale
from flask import Flask, request
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

from judging.common.language import LANG_COOKIE, chosen_language
from judging.common.sessions import SessionInterface
from judging.config import INSTANCE_DIR, Config, TestingConfig, check_secret_key
from judging.extensions import babel, csrf, db, init_limiter, login_manager, migrate

__all__ = ["create_app", "Config", "TestingConfig"]


@lru_cache(maxsize=8)
def _locale(code: str) -> Locale:
    return Locale.parse(code)


def select_locale() -> Locale:
    """Chinese unless the visitor chose another language (kept in the ``lang`` cookie).

    Returns a parsed Locale, cached, since parsing one on every request showed up in
    the scoring benchmark's profile.
    """
    from flask import current_app, has_request_context

    # Commands (no request, no session) speak the default language.
    lang = request.cookies.get(LANG_COOKIE) if has_request_context() else None
    config = current_app.config
    return _locale(chosen_language(lang, config["LANGUAGES"], config["BABEL_DEFAULT_LOCALE"]))


class App(Flask):
    """Flask, remembering which of its functions are coroutines.

    Flask asks it of every hook and view on every request (``ensure_sync``, through
    ``inspect.iscoroutinefunction``): a few dozen calls each time, a fortieth of a
    judge's submission (bench/scoring_profile.py). The answer of a function cannot change;
    the functions asked about are the registered ones, so the memory stays small (and
    is capped all the same).
    """

    SYNC_CACHE_SIZE = 4096

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync: dict = {}

    def ensure_sync(self, func):
        """Flask's ``ensure_sync``, asked once per function."""
        try:
            return self._sync[func]
        except KeyError:
            found = super().ensure_sync(func)
            if len(self._sync) < self.SYNC_CACHE_SIZE:
                self._sync[func] = found
            return found
        except TypeError:  # an unhashable callable: asked every time
            return super().ensure_sync(func)


def create_app(config: Config | dict | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, commands."""
    app = App(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_path=str(INSTANCE_DIR),
    )
    base = Config() if config is None or isinstance(config, dict) else config
    app.session_interface = SessionInterface()
    app.config.from_object(base)
    if isinstance(config, dict):
        app.config.update(config)
    check_secret_key(app.config)

    from judging import models  # noqa: F401  (register every mapper)
    from judging.common import inputs
    from judging.common.db import configure_engine, set_write_intent
    from judging.contests import versions

    versions.install()  # a committed data-version bump reaches this process's listeners

    db.init_app(app)
    migrate.init_app(app, db, directory=str(INSTANCE_DIR.parent / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    init_limiter(app)
    inputs.install(app)  # ids in routes within the columns' range, no NUL in a path

    with app.app_context():
        configure_engine(db.engine, busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"])

    @app.before_request
    def _write_intent():
        view = app.view_functions.get(request.endpoint)
        unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
        set_write_intent(unsafe and not getattr(view, "reads_first", False))

    @app.context_processor
    def _inject():
        return {"current_locale": str(get_locale())}

    from judging.common.numbers import plain, yuan
    from judging.common.times import clock, clock_date

    app.add_template_filter(plain, "points")
    app.add_template_filter(yuan, "money")
    app.add_template_filter(clock, "clock")
    app.add_template_filter(clock_date, "clock_date")

    from judging.audit import views as audit_views
    from judging.auth import organizer_views
    from judging.auth import views as auth_views
    from judging.awards import rubric_views  # noqa: F401 (its routes)
    from judging.awards import views as award_views
    from judging.common import errors
    from judging.contests import setup_views  # noqa: F401 (its routes)
    from judging.contests import views as contest_views
    from judging.entries import views as entry_views
    from judging.exports import views as excel_views
    from judging.judges import jury_views
    from judging.judges import views as judge_views
    from judging.leaderboard import api as leaderboard_api  # noqa: F401 (its routes)
    from judging.leaderboard import front
    from judging.leaderboard import views as leaderboard_views
    from judging.live import views as live_views
    from judging.scoring import assignment_views
    from judging.scoring import views as scoring_views
    from judging.standings import views as standings_views

    login_manager.login_view = "auth.sign_in"
    login_manager.user_loader(auth_views.load_user)
    login_manager.unauthorized_handler(auth_views.unauthorized)

    app.register_blueprint(auth_views.bp)
    app.register_blueprint(organizer_views.bp)
    # organizer accounts are administered only within the contests they share
    from judging.contests.organizers import may_administer

    app.extensions["account_scope"] = may_administer
    app.register_blueprint(contest_views.bp)
    app.register_blueprint(audit_views.bp)
    app.register_blueprint(entry_views.bp)
    app.register_blueprint(judge_views.bp)
    app.register_blueprint(jury_views.bp)
    app.register_blueprint(scoring_views.bp)
    app.register_blueprint(assignment_views.bp)
    app.register_blueprint(standings_views.bp)
    app.register_blueprint(award_views.bp)
    app.register_blueprint(excel_views.bp)
    app.register_blueprint(leaderboard_views.bp)
    app.register_blueprint(live_views.bp)
    errors.register(app)

    from judging.common import transactions

    transactions.install(app)  # every request ends its transaction there, and only there

    from judging.cli import register_commands

    register_commands(app)
    # Cache hits of the public pages are answered before Flask (judging.leaderboard.front).
    front.install(app)
    from judging.common import headers, health

    health.install(app)  # /healthz: before Flask, no session, no rate limit
    # Around all of these: every answer (the front door's too) gets the security headers.
    headers.install(app)
    install_proxy_fix(app)  # outermost: everything inside sees the client's address
    return app


def install_proxy_fix(app: Flask) -> None:
    """Behind ``PROXY_FIX_X_FOR`` reverse proxies, take the client's address and scheme from
    their X-Forwarded-For and X-Forwarded-Proto (the rate limiter and the audit log see the
    client, not the proxy); with none configured those headers are ignored, since any
    client could send them."""
    hops = app.config.get("PROXY_FIX_X_FOR") or 0
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
