"""Account writes: creating users, checking passwords, one-time sign-in links."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from judging.auth.models import LoginToken, User
from judging.auth.passwords import hash_password, needs_rehash, verify_password
from judging.common.enums import Role
from judging.common.models import utcnow
from judging.extensions import db

MIN_PASSWORD_LENGTH = 8


class AccountError(ValueError):
    """A refused account change, with a message for the person."""


def create_user(*, username: str, password: str | None, role: Role, display_name: str = "") -> User:
    """Add a user with a hashed password (None: sign-in by link only)."""
    username = username.strip()
    if not username:
        raise AccountError("username is empty")
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} already exists")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    user = User(
        username=username,
        role=role,
        display_name=display_name or username,
        password_hash=hash_password(password) if password is not None else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(*, username: str, password: str) -> User | None:
    """Return the enabled user whose password matches, else None (same work either way)."""
    user = db.session.scalar(sa.select(User).where(User.username == username.strip()))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_enabled:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_signed_in_at = utcnow()
    db.session.flush()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_login_token(*, user: User, contest_id: int | None = None, hours: int = 72) -> str:
    """Create a one-time sign-in token for user and return it (only its digest is stored)."""
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
