"""Reads about the jury: who judges what (``on_panel``), the judges and their conflicts."""

from __future__ import annotations

import sqlalchemy as sa

from judging.auth.models import User
from judging.common.enums import ConflictStatus
from judging.contests.models import Stage
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Assignment, Conflict, Judge


def binding_conflict_exists(judge_id_col, entry_id_col):
    """SQL condition: a binding conflict between these judge and entry columns."""
    return (
        sa.select(Conflict.id)
        .where(
            Conflict.judge_id == judge_id_col,
            Conflict.entry_id == entry_id_col,
            Conflict.status == ConflictStatus.BINDING,
        )
        .exists()
    )


def on_panel(assignment=Assignment) -> sa.ColumnElement[bool]:
    """SQL condition on an ``Assignment``: its judge judges its entry — the judge has no
    binding conflict with it (SPEC: a binding conflict means the judge is never shown the
    entry and never counted). The one definition of who judges what: every query that
    lists, opens, counts or writes a judge's entries applies it to the assignment it
    joins, and ``judges_entry`` asks it of one assignment."""
    return ~binding_conflict_exists(assignment.judge_id, assignment.entry_id)


def judges_entry(judge: Judge, entry: Entry, stage: Stage) -> bool:
    """Whether the judge judges the entry in the stage (same contest, assigned, on panel)."""
    if not entry.contest_id == judge.contest_id == stage.contest_id:
        return False
    found = db.session.scalar(
        sa.select(Assignment.id).where(
            Assignment.stage_id == stage.id,
            Assignment.judge_id == judge.id,
            Assignment.entry_id == entry.id,
            on_panel(),
        )
    )
    return found is not None


def judge_records(user: User) -> list[Judge]:
    """The judge records of a user, one per contest."""
    return list(db.session.scalars(sa.select(Judge).where(Judge.user_id == user.id)))


def contest_judges(contest_id: int) -> list[Judge]:
    """The contest's judges by name, with their accounts."""
    from sqlalchemy.orm import selectinload

    return list(
        db.session.scalars(
            sa.select(Judge)
            .where(Judge.contest_id == contest_id)
            .options(selectinload(Judge.user), selectinload(Judge.expertise))
            .order_by(Judge.name)
        )
    )


def contest_conflicts(contest_id: int) -> list[Conflict]:
    """Every conflict of the contest, newest first, with judge and entry."""
    from sqlalchemy.orm import joinedload

    return list(
        db.session.scalars(
            sa.select(Conflict)
            .join(Entry, Entry.id == Conflict.entry_id)
            .where(Entry.contest_id == contest_id)
            .options(joinedload(Conflict.judge), joinedload(Conflict.entry))
            .order_by(Conflict.created_at.desc(), Conflict.id.desc())
        )
    )
