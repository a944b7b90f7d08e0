"""Reads about entries: the organizer's list of a contest's entries, the stages they were
recorded as advanced into."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from judging.common.enums import EntryStatus
from judging.contests.models import Group, Stage
from judging.entries.models import Entry, Participation
from judging.extensions import db

PER_PAGE = 200


@dataclass(frozen=True)
class EntryPage:
    """One page of a contest's entries (by group, then code), with the counts per status."""

    rows: list[Entry]
    page: int
    pages: int
    total: int
    by_status: dict[EntryStatus, int]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def entry_page(
    contest_id: int,
    *,
    group_id: int | None = None,
    status: EntryStatus | None = None,
    search: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> EntryPage:
    """The contest's entries matching the filters (a group, a status, a code or title that
    contains ``search``), one page of them; a page past the last shows the last."""
    conditions = [Entry.contest_id == contest_id]
    if group_id is not None:
        conditions.append(Entry.group_id == group_id)
    if search:
        pattern = _like(search)
        conditions.append(
            sa.or_(Entry.code.like(pattern, escape="\\"), Entry.title.like(pattern, escape="\\"))
        )
    by_status = {
        EntryStatus(value): count
        for value, count in db.session.execute(
            sa.select(Entry.status, sa.func.count()).where(*conditions).group_by(Entry.status)
        )
    }
    if status is not None:
        conditions.append(Entry.status == status)
        total = by_status.get(status, 0)
    else:
        total = sum(by_status.values())
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = list(
        db.session.scalars(
            sa.select(Entry)
            .join(Group, Group.id == Entry.group_id)
            .where(*conditions)
            .options(joinedload(Entry.group), joinedload(Entry.field))
            .order_by(Group.position, Group.id, Entry.code)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return EntryPage(rows=rows, page=page, pages=pages, total=total, by_status=by_status)


def advanced_into(stage: Stage) -> set[int]:
    """The ids of the entries recorded as advanced into ``stage``."""
    return set(
        db.session.scalars(
            sa.select(Participation.entry_id).where(Participation.stage_id == stage.id)
        )
    )


def furthest_advanced(contest_id: int) -> dict[int, int]:
    """Entry id → the id of the furthest stage (by position) it was recorded as advanced
    into; entries only registered are absent (the workbook's 晋级至 column)."""
    rows = db.session.execute(
        sa.select(Participation.entry_id, Stage.id, Stage.position)
        .join(Stage, Stage.id == Participation.stage_id)
        .where(Stage.contest_id == contest_id)
    )
    best: dict[int, tuple[int, int]] = {}
    for entry_id, stage_id, position in rows:
        if entry_id not in best or position > best[entry_id][0]:
            best[entry_id] = (position, stage_id)
    return {entry_id: stage_id for entry_id, (_, stage_id) in best.items()}
