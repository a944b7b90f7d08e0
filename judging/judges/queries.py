"""Reads for a judge's own pages."""

from __future__ import annotations

import sqlalchemy as sa

from judging.auth.models import User
from judging.common.enums import ConflictStatus
from judging.extensions import db
from judging.judges.models import Conflict, Judge


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

    from judging.entries.models import Entry

    return list(
        db.session.scalars(
            sa.select(Conflict)
            .join(Entry, Entry.id == Conflict.entry_id)
            .where(Entry.contest_id == contest_id)
            .options(joinedload(Conflict.judge), joinedload(Conflict.entry))
            .order_by(Conflict.created_at.desc(), Conflict.id.desc())
        )
    )
