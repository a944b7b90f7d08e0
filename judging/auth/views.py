"""Sign-in, sign-out and the language switch; the check that a signed-in session still
holds (``load_user``)."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from judging.auth import throttle
from judging.auth.forms import (
    ChangePasswordForm,
    LanguageForm,
    SignInForm,
    report_account_error,
)
from judging.auth.models import User
from judging.auth.services import (
    MIN_PASSWORD_LENGTH,
    AccountError,
    authenticate,
    change_own_password,
    check_login_token,
    consume_login_token,
    end_sessions,
)
from judging.common import sessions
from judging.common.audit import record
from judging.common.db import reads_first, write_phase
from judging.common.forms import BaseForm
from judging.common.language import LANG_COOKIE, LANG_COOKIE_MAX_AGE
from judging.common.transactions import attach_row, execute_core, keep_writes
from judging.extensions import db, limiter

bp = Blueprint("auth", __name__)


_USERS = User.__table__
_LOAD_USER = sa.select(*_USERS.c).where(_USERS.c.id == sa.bindparam("id"), _USERS.c.is_enabled)
_USER_ATTRIBUTES = [User.__mapper__.get_property_by_column(c).key for c in _USERS.c]


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the user of the session, if still enabled and the session
    still holds (the account's epoch, its lifetime, its idle time:
    ``judging.common.sessions``), read from the row loaded anyway. A session that no
    longer holds is emptied, and its visitor is no one.

    Every signed-in request reads this row first: it is read as a plain row and made the
    session's ``User`` (``attach_row``), at half the cost of the ORM's load."""
    try:
        rows = execute_core(_LOAD_USER, {"id": int(user_id)}).all()
    except (TypeError, ValueError):
        return None
    user = attach_row(User, dict(zip(_USER_ATTRIBUTES, rows[0], strict=True))) if rows else None
    config = current_app.config
    if user is not None and sessions.still_valid(
        session,
        user.session_epoch,
        absolute_seconds=int(config["SESSION_ABSOLUTE_HOURS"] * 3600),
        idle_seconds=int(config["SESSION_IDLE_MINUTES"] * 60),
    ):
        return user
    session.clear()
    g.session_ended = True
    return None


def unauthorized():
    """Send a visitor who is not signed in to the sign-in page."""
    if g.get("session_ended"):
        flash(_("Your session has ended: please sign in again."), "info")
    else:
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


def _start_session(user: User) -> None:
    """Sign user in on a fresh session (no fixation), stamped with the account's epoch."""
    session.clear()
    login_user(user)
    sessions.stamp(session, user.session_epoch)


def _lockout_message(lockout: throttle.Lockout) -> str:
    if lockout.scope == throttle.ACCOUNT:
        return ngettext(
            "Too many failed sign-ins for this account: try again in %(num)d minute.",
            "Too many failed sign-ins for this account: try again in %(num)d minutes.",
            lockout.minutes,
        )
    return ngettext(
        "Too many failed sign-ins from this address: try again in %(num)d minute.",
        "Too many failed sign-ins from this address: try again in %(num)d minutes.",
        lockout.minutes,
    )


def _refused(form: SignInForm, lockout: throttle.Lockout):
    form.form_errors.append(_lockout_message(lockout))
    response = make_response(render_template("auth/sign_in.html", form=form), 429)
    response.headers["Retry-After"] = str(lockout.retry_after)
    return response


def _failed(username: str, address: str) -> None:
    """Count and record a failed sign-in, and the lockouts it starts (once each: the
    attempts refused during a lockout are not recorded one by one)."""
    lockouts = throttle.count_failure(username=username, address=address)
    with write_phase(db.session):
        record("sign_in_failure", new={"username": username})
        for lockout in lockouts:
            record(
                "sign_in_lockout",
                new={"username": username, "lockout": lockout.scope, "minutes": lockout.minutes},
            )
    keep_writes()  # the attempt is refused, its record stays


@bp.route("/sign-in", methods=["GET", "POST"])
@reads_first
def sign_in():
    """Sign in with username and password. Failures are limited per address and per
    account (``judging.auth.throttle``) and recorded in the audit log. The password is
    checked outside the write lock (``reads_first``; the writes take it in
    ``write_phase``)."""
    if current_user.is_authenticated:
        return redirect(url_for("contests.home"))
    form = SignInForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        username = form.username.data.strip()
        address = request.remote_addr or ""
        lockout = throttle.locked(username=username, address=address)
        if lockout is not None:  # refused before any password is checked, even the right one
            return _refused(form, lockout)
        user = authenticate(username=username, password=form.password.data)
        if user is not None:
            _start_session(user)
            record("sign_in", user_id=user.id, obj=user)
            return _mark_signed_in(redirect(safe_next(form.next.data) or url_for("contests.home")))
        _failed(username, address)
        # One message for an unknown user and a wrong password: no hint which.
        form.password.errors.append(_("Wrong username or password."))
        return render_template("auth/sign_in.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("auth/sign_in.html", form=form), status


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    """Sign out (POST with a CSRF token, so no page can sign a user out by a link). Every
    session of the account ends with this one: a copy of its cookie signs nobody in."""
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        end_sessions(user=user)
        record("sign_out", user_id=user.id, obj=user)
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
            _start_session(user)
            record("sign_in_link", user_id=user.id, obj=user)
            return _mark_signed_in(redirect(url_for("contests.home")))
    else:
        row, status = check_login_token(token)
        if status == "ok":
            name = row.user.display_name or row.user.username
            return render_template("auth/link.html", form=form, name=name)
    code = 410 if status in ("used", "expired") else 404
    return render_template("auth/link_refused.html", status=status), code


# ------------------------------------------------------------------ the user's own password

#: What a user who must replace a temporary password may still reach: this page, signing
#: out, the language switch, static files, and the public pages (no account involved).
PASSWORD_FIRST_EXEMPT = frozenset(
    {"auth.change_password", "auth.sign_out", "auth.set_language", "auth.account_header", "static"}
)


@bp.before_app_request
def password_first():
    """Send a user whose password an organizer set to choose their own before anything else."""
    if "_user_id" not in session:  # nobody signed in: no account to load
        return None
    if request.endpoint in PASSWORD_FIRST_EXEMPT or request.blueprint == "leaderboard":
        return None
    if current_user.is_authenticated and current_user.must_change_password:
        return redirect(url_for("auth.change_password"))
    return None


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Choose one's own password: asked first after an organizer set a temporary one."""
    form = ChangePasswordForm()
    forced = current_user.must_change_password
    asks_current = not forced and current_user.password_hash is not None
    if form.validate_on_submit():
        try:
            change_own_password(
                user=current_user, new=form.password.data, current=form.current.data
            )
        except AccountError as err:
            report_account_error(form, err)
        else:
            sessions.restamp(session, current_user.session_epoch)  # this one goes on
            record("password_change", user_id=current_user.id, obj=current_user)
            flash(_("Your password is changed."), "success")
            return redirect(url_for("contests.home"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "auth/password.html",
        form=form,
        forced=forced,
        asks_current=asks_current,
        min_length=MIN_PASSWORD_LENGTH,
    ), status


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
