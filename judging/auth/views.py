"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from judging.auth.forms import LanguageForm, SignInForm
from judging.auth.models import User
from judging.auth.services import authenticate, check_login_token, consume_login_token
from judging.common.audit import record
from judging.common.forms import BaseForm
from judging.common.language import LANG_COOKIE, LANG_COOKIE_MAX_AGE
from judging.extensions import db, limiter

bp = Blueprint("auth", __name__)


_LOAD_USER = sa.select(User).where(User.id == sa.bindparam("id"), User.is_enabled)


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the user of the session, if still enabled."""
    try:
        return db.session.execute(_LOAD_USER, {"id": int(user_id)}).scalar()
    except (TypeError, ValueError):
        return None


def unauthorized():
    """Send a visitor who is not signed in to the sign-in page."""
    flash(_("Please sign in first."), "info")
    return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))


def safe_next(target: str | None) -> str | None:
    """Return target if it is a path on this site, else None (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _signin_limit() -> str:
    return current_app.config["SIGNIN_RATE_LIMIT"]


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(
    _signin_limit,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 302,
)
def sign_in():
    """Sign in with username and password; failures are rate-limited per address."""
    if current_user.is_authenticated:
        return redirect(url_for("contests.home"))
    form = SignInForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = authenticate(username=form.username.data, password=form.password.data)
        if user is not None:
            session.clear()  # a fresh session on sign-in: no fixation
            login_user(user)
            record("sign_in", user_id=user.id, obj=user)
            return _mark_signed_in(redirect(safe_next(form.next.data) or url_for("contests.home")))
        # One message for an unknown user and a wrong password: no hint which.
        form.password.errors.append(_("Wrong username or password."))
        return render_template("auth/sign_in.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/sign_in.html", form=form), status


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    """Sign out (POST with a CSRF token, so no page can sign a user out by a link)."""
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    response = redirect(url_for("contests.home"))
    response.delete_cookie(SIGNED_IN_COOKIE)
    return response


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch the interface language for this browser."""
    form = LanguageForm()
    response = redirect(safe_next(form.next.data) or url_for("contests.home"))
    if form.validate_on_submit() and form.lang.data in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANG_COOKIE,
            form.lang.data,
            max_age=LANG_COOKIE_MAX_AGE,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
    return response


@bp.route("/login/<token>", methods=["GET", "POST"])
@limiter.limit(_signin_limit, methods=["POST"], deduct_when=lambda r: r.status_code != 302)
def link_sign_in(token: str):
    """Sign in with a one-time link: GET shows a button (link previews must not use it up)."""
    form = BaseForm()
    if request.method == "POST" and form.validate_on_submit():
        user, status = consume_login_token(token)
        if user is not None:
            session.clear()
            login_user(user)
            record("sign_in_link", user_id=user.id, obj=user)
            return _mark_signed_in(redirect(url_for("contests.home")))
    else:
        row, status = check_login_token(token)
        if status == "ok":
            name = row.user.display_name or row.user.username
            return render_template("auth/link.html", form=form, name=name)
    code = 410 if status in ("used", "expired") else 404
    return render_template("auth/link_refused.html", status=status), code


# ------------------------------------------------------------------ the personal header

#: A marker (no secret, readable by script) that this browser has signed in, so the public
#: pages, which are cached and the same for everyone, ask for the personal part of their
#: header only when there may be one (``static/js/personal.js``).
SIGNED_IN_COOKIE = "signed_in"


def _mark_signed_in(response):
    response.set_cookie(
        SIGNED_IN_COOKIE,
        "1",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=False,
        samesite="Lax",
    )
    return response


@bp.route("/account/header")
def account_header():
    """The personal part of a public page's header: who is signed in, the way back to their
    own pages, and signing out. 204 (and the marker dropped) when nobody is signed in."""
    if current_user.is_authenticated:
        lang = request.args.get("lang")  # the page's own ?lang=, when it has one
        if lang not in current_app.config["LANGUAGES"]:
            lang = str(get_locale())
        with force_locale(lang):
            response = make_response(render_template("auth/_account_header.html"))
    else:
        response = make_response("", 204)
        response.delete_cookie(SIGNED_IN_COOKIE)
    response.headers["Cache-Control"] = "no-store"
    return response
