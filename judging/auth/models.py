"""User accounts and one-time sign-in tokens."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from judging.common.enums import Role
from judging.common.models import UTCDateTime, enum_type, utcnow
from judging.extensions import db

if TYPE_CHECKING:
    from judging.judges.models import Judge


class User(UserMixin, db.Model):
    """A person who signs in: an organizer or a judge."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120), default="")
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    #: the password was set by someone else (an organizer): the user sets their own before
    #: anything else at their next sign-in
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: stamped into the session cookie at sign-in and compared on every request
    #: (``judging.common.sessions``): raising it ends every session of the account at once
    #: (sign-out, a password change, an organizer signing them out everywhere)
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    judges: Mapped[list[Judge]] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses disabled accounts
        return self.is_enabled

    @property
    def is_organizer(self) -> bool:
        """Whether this user runs contests."""
        return self.role == Role.ORGANIZER

    @property
    def is_judge(self) -> bool:
        """Whether this user scores entries."""
        return self.role == Role.JUDGE

    def has_role(self, *roles: Role | str) -> bool:
        """Whether the user's role is one of roles."""
        return self.role in {Role(r) for r in roles}

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class LoginToken(db.Model):
    """A one-time sign-in link's token; only its SHA-256 digest is stored."""

    __tablename__ = "login_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    contest_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contests.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
