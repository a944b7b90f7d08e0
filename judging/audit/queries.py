"""Reading a contest's audit log: one page of events, filtered, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from judging.audit.diff import FieldChange, field_changes
from judging.audit.labels import action_label
from judging.auth.models import User
from judging.common.audit import AuditEvent
from judging.contests.models import Stage
from judging.entries.models import Entry
from judging.extensions import db

PER_PAGE = 50


@dataclass(frozen=True)
class AuditFilter:
    """What the log is narrowed to; None leaves a criterion out."""

    user_id: int | None = None
    entry_code: str | None = None
    action: str | None = None
    since: datetime | None = None  # inclusive, UTC
    until: datetime | None = None  # exclusive, UTC


@dataclass(frozen=True)
class AuditRow:
    """One event as the page shows it."""

    id: int
    created_at: datetime
    who: str
    ip: str
    action: str
    action_label: str
    entry_code: str
    entry_title: str
    changes: list[FieldChange]
    reason: str


@dataclass(frozen=True)
class AuditPage:
    """A page of the log, and where it is among all the matching events."""

    rows: list[AuditRow]
    page: int
    pages: int
    total: int


def entry_exists(contest_id: int, code: str) -> bool:
    """Whether the contest has an entry with this code."""
    return (
        db.session.scalar(
            sa.select(Entry.id).where(Entry.contest_id == contest_id, Entry.code == code)
        )
        is not None
    )


def value_names(contest_id: int) -> dict[str, dict[str, str]]:
    """Names for recorded codes in the contest's events: its stages by code."""
    stages = dict(
        db.session.execute(
            sa.select(Stage.code, Stage.name).where(Stage.contest_id == contest_id)
        ).all()
    )
    return {"stage": stages, "into": stages}


def _conditions(contest_id: int, where: AuditFilter) -> list:
    conditions = [AuditEvent.contest_id == contest_id]
    if where.user_id is not None:
        conditions.append(AuditEvent.user_id == where.user_id)
    if where.entry_code is not None:
        conditions.append(
            AuditEvent.entry_id.in_(
                sa.select(Entry.id).where(
                    Entry.contest_id == contest_id, Entry.code == where.entry_code
                )
            )
        )
    if where.action is not None:
        conditions.append(AuditEvent.action == where.action)
    if where.since is not None:
        conditions.append(AuditEvent.created_at >= where.since)
    if where.until is not None:
        conditions.append(AuditEvent.created_at < where.until)
    return conditions


def audit_page(
    contest_id: int, where: AuditFilter = AuditFilter(), *, page: int = 1, per_page: int = PER_PAGE
) -> AuditPage:
    """One page of the contest's events matching the filter, newest first, with who acted
    and the entry; a page past the last shows the last."""
    conditions = _conditions(contest_id, where)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(*conditions))
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    query = (
        sa.select(
            AuditEvent.id,
            AuditEvent.created_at,
            User.display_name,
            User.username,
            AuditEvent.ip,
            AuditEvent.action,
            Entry.code,
            Entry.title,
            AuditEvent.old,
            AuditEvent.new,
            AuditEvent.reason,
        )
        .outerjoin(User, User.id == AuditEvent.user_id)
        .outerjoin(Entry, Entry.id == AuditEvent.entry_id)
        .where(*conditions)
        .order_by(AuditEvent.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    names = value_names(contest_id)
    rows = [
        AuditRow(
            id=row.id,
            created_at=row.created_at,
            who=row.display_name or row.username or "",
            ip=row.ip,
            action=row.action,
            action_label=action_label(row.action),
            entry_code=row.code or "",
            entry_title=row.title or "",
            changes=field_changes(row.old, row.new, names=names),
            reason=row.reason,
        )
        for row in db.session.execute(query)
    ]
    return AuditPage(rows=rows, page=page, pages=pages, total=total)
