"""The audit log (操作日志): who did what, when, from where, old → new."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy.orm import Mapped, mapped_column

from judging.common.models import UTCDateTime, utcnow
from judging.extensions import db


class AuditEvent(db.Model):
    """One recorded action. Never updated or deleted by the application."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    action: Mapped[str] = mapped_column(sa.String(64))
    contest_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contests.id", ondelete="CASCADE"), index=True
    )
    entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entries.id", ondelete="SET NULL"))
    object_type: Mapped[str] = mapped_column(sa.String(64), default="")
    object_id: Mapped[int | None]
    old: Mapped[Any | None] = mapped_column(sa.JSON)
    new: Mapped[Any | None] = mapped_column(sa.JSON)
    reason: Mapped[str] = mapped_column(sa.Text, default="")


_INSERT = AuditEvent.__table__.insert()  # built once: audit writes sit on hot paths


def record(
    action: str,
    *,
    contest_id: int | None = None,
    entry_id: int | None = None,
    obj: Any = None,
    object_type: str | None = None,
    object_id: int | None = None,
    old: Any = None,
    new: Any = None,
    reason: str = "",
    user_id: int | None = None,
) -> None:
    """Write an audit event in the current transaction (the caller commits), filling who and
    where from the request. A plain INSERT: the log is never read back in the same request."""
    if user_id is None and has_request_context() and current_user.is_authenticated:
        user_id = current_user.id
    ip = (request.remote_addr or "") if has_request_context() else "cli"
    db.session.execute(
        _INSERT,
        {
            "created_at": utcnow(),
            "action": action,
            "user_id": user_id,
            "ip": ip,
            "contest_id": contest_id,
            "entry_id": entry_id,
            "object_type": object_type or (type(obj).__name__ if obj is not None else ""),
            "object_id": object_id if object_id is not None else getattr(obj, "id", None),
            "old": old,
            "new": new,
            "reason": reason,
        },
    )
