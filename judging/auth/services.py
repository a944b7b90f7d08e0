"""Account writes: creating users, checking passwords, one-time sign-in links."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for

from judging.auth.models import LoginToken, User
from judging.auth.passwords import hash_password, is_guessable, needs_rehash, verify_password
from judging.common.db import write_phase
from judging.common.enums import Role
from judging.common.models import utcnow
from judging.extensions import db

MIN_PASSWORD_LENGTH = 12
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"


class AccountError(ValueError):
    """A refused account change: a message (English, for commands), a ``code`` the pages
    show in the visitor's language (``judging.auth.forms.account_error``) and the form
    ``field`` it is about."""

    def __init__(self, message: str, *, code: str = "", field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


def create_user(*, username: str, password: str | None, role: Role, display_name: str = "") -> User:
    """Add a user with a hashed password (None: sign-in by link only)."""
    username = username.strip()
    if not username:
        raise AccountError("username is empty", code="username_empty", field="username")
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise AccountError(
            f"user {username!r} already exists", code="username_taken", field="username"
        )
    if password is not None:
        check_new_password(password, avoid=(username, display_name))
    user = User(
        username=username,
        role=role,
        display_name=display_name or username,
        password_hash=hash_password(password) if password is not None else None,
    )
    try:  # two requests creating the same username: the unique constraint decides
        with db.session.begin_nested():
            db.session.add(user)
            db.session.flush()
    except sa.exc.IntegrityError as err:
        raise AccountError(
            f"user {username!r} already exists", code="username_taken", field="username"
        ) from err
    return user


def check_new_password(password: str, *, avoid: tuple[str, ...] = ()) -> None:
    """Refuse a password too short or too easy to guess (a common one, a pattern, the
    account's own name: ``judging.auth.passwords.is_guessable``), wherever a password is
    set. Passwords already stored are not checked again: the rule is for new ones."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters",
            code="password_short",
            field="password",
        )
    if is_guessable(password, avoid=avoid):
        raise AccountError(
            "password is too common or too easy to guess", code="password_common", field="password"
        )


def end_sessions(*, user: User) -> None:
    """End every signed-in session of user, wherever it is: sessions carry the account's
    epoch of their sign-in (``judging.common.sessions``), and an older one is refused."""
    user.session_epoch = (user.session_epoch or 0) + 1
    db.session.flush()


def set_temporary_password(*, user: User, password: str) -> None:
    """Give user a password chosen by someone else (an organizer): it works once, to sign
    in, and the user must then choose their own before anything else."""
    check_new_password(password, avoid=(user.username, user.display_name))
    user.password_hash = hash_password(password)
    user.must_change_password = True
    end_sessions(user=user)  # whoever holds the account's sessions now signs in anew


def change_own_password(*, user: User, new: str, current: str | None = None) -> None:
    """Set the user's own password. ``current`` is checked unless the user must change a
    temporary password (they signed in with it, or with a one-time link, just now) or has
    none yet (signs in by link); the new one must differ from the password it replaces.
    The account's other sessions end (the caller carries its own over:
    ``judging.common.sessions.restamp``)."""
    check_new_password(new, avoid=(user.username, user.display_name))
    checked = user.password_hash is not None and not user.must_change_password
    if checked and not verify_password(user.password_hash, current or ""):
        raise AccountError("the current password is wrong", code="password_wrong", field="current")
    if user.password_hash is not None and verify_password(user.password_hash, new):
        raise AccountError(
            "the new password is the same as the old one", code="password_same", field="password"
        )
    user.password_hash = hash_password(new)
    user.must_change_password = False
    end_sessions(user=user)


def active_organizer_ids() -> list[int]:
    """The ids of the enabled organizer accounts, locked until the transaction ends
    (PostgreSQL; SQLite's writer already holds the database), so two organizers
    deactivating each other at the same moment cannot leave none."""
    return list(
        db.session.scalars(
            sa.select(User.id)
            .where(User.role == Role.ORGANIZER, User.is_enabled)
            .order_by(User.id)
            .with_for_update()
        )
    )


def set_enabled(*, user: User, enabled: bool, by: User) -> None:
    """Enable or disable an account. A disabled account cannot sign in (password or link)
    and its open sessions end at their next request. Nobody disables themselves, and the
    last enabled organizer stays enabled."""
    if user.is_enabled == enabled:
        return
    if not enabled:
        if user.id == by.id:
            raise AccountError("you cannot deactivate your own account", code="self")
        if user.is_organizer and active_organizer_ids() == [user.id]:
            raise AccountError(
                "the last active organizer cannot be deactivated", code="last_organizer"
            )
        revoke_login_tokens(user=user, every=True)
        end_sessions(user=user)  # not back to life with a reactivation
    user.is_enabled = enabled
    db.session.flush()


def authenticate(*, username: str, password: str) -> User | None:
    """Return the enabled user whose password matches, else None (same work either way).

    The password is checked (and rehashed, when Argon2's parameters changed) before the
    write lock is taken: on SQLite a sign-in's tenth of a second of Argon2 must not hold
    up every judge's submission (the view is ``reads_first``)."""
    user = db.session.scalar(sa.select(User).where(User.username == username.strip()))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_enabled:
        return None
    new_hash = hash_password(password) if needs_rehash(user.password_hash) else None
    with write_phase(db.session):
        if new_hash is not None:
            user.password_hash = new_hash
        user.last_signed_in_at = utcnow()
        db.session.flush()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_login_token(*, user: User, contest_id: int | None = None, hours: int = 72) -> str:
    """Create a one-time sign-in token for user and return it (only its digest is stored).
    The user's earlier unused links for the same contest (or of no contest) end: only the
    newest card or message signs in."""
    revoke_login_tokens(user=user, contest_id=contest_id)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        LoginToken(
            user_id=user.id,
            contest_id=contest_id,
            token_hash=_digest(token),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    db.session.flush()
    return token


def login_url(token: str) -> str:
    """The full URL of a one-time sign-in token: under ``PUBLIC_URL`` when it is set, else
    the request's own address (a command without either uses the development address)."""
    base = current_app.config.get("PUBLIC_URL")
    if has_request_context() and not base:
        return url_for("auth.link_sign_in", token=token, _external=True)
    with current_app.test_request_context(base_url=base or DEFAULT_PUBLIC_URL):
        return url_for("auth.link_sign_in", token=token, _external=True)


def issue_login_link(*, user: User, contest_id: int | None = None) -> str:
    """Issue a fresh one-time sign-in link for user, valid ``LOGIN_LINK_HOURS``."""
    token = issue_login_token(
        user=user, contest_id=contest_id, hours=current_app.config["LOGIN_LINK_HOURS"]
    )
    return login_url(token)


def revoke_login_tokens(*, user: User, contest_id: int | None = None, every: bool = False) -> int:
    """End the unused, unexpired sign-in links of user: those for one contest (or of no
    contest), or ``every`` one. A reissued card makes the lost one useless; a deactivated
    account's links do not come back with it. Returns how many ended."""
    now = utcnow()
    conditions = [
        LoginToken.user_id == user.id,
        LoginToken.used_at.is_(None),
        LoginToken.expires_at > now,
    ]
    if not every:
        conditions.append(
            LoginToken.contest_id.is_(None)
            if contest_id is None
            else LoginToken.contest_id == contest_id
        )
    return db.session.execute(
        sa.update(LoginToken)
        .where(*conditions)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def check_login_token(token: str) -> tuple[LoginToken | None, str]:
    """Look a token up without using it: (token, "ok" | "used" | "expired" | "unknown")."""
    row = db.session.scalar(sa.select(LoginToken).where(LoginToken.token_hash == _digest(token)))
    if row is None or not row.user.is_enabled:
        return None, "unknown"
    if row.used_at is not None:
        return row, "used"
    if row.expires_at <= utcnow():
        return row, "expired"
    return row, "ok"


def consume_login_token(token: str) -> tuple[User | None, str]:
    """Use a token once: mark it used and return its user, or (None, why it cannot be used)."""
    row, status = check_login_token(token)
    if status != "ok":
        return None, status
    now = utcnow()
    # Conditional update: of two simultaneous uses, exactly one wins.
    used = db.session.execute(
        sa.update(LoginToken)
        .where(LoginToken.id == row.id, LoginToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if used != 1:
        return None, "used"
    user = row.user
    user.last_signed_in_at = now
    db.session.flush()
    return user, "ok"
