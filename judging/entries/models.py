"""The Entry model, and Participation: which entries took part in which stage."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from judging.common.enums import EntryStatus, ParticipationSource
from judging.common.models import UTCDateTime, enum_type, utcnow
from judging.extensions import db

if TYPE_CHECKING:
    from judging.contests.models import Contest, Field, Group, Stage


class Entry(db.Model):
    """A project in the contest (参赛项目). Phone and email are private to organizers."""

    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(sa.ForeignKey("contests.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(255))
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("groups.id", ondelete="RESTRICT"))
    field_id: Mapped[int | None] = mapped_column(sa.ForeignKey("fields.id", ondelete="SET NULL"))
    organization: Mapped[str] = mapped_column(sa.String(255), default="")
    leader: Mapped[str] = mapped_column(sa.String(120), default="")
    is_student_team: Mapped[bool] = mapped_column(default=False)
    phone: Mapped[str] = mapped_column(sa.String(64), default="")
    email: Mapped[str] = mapped_column(sa.String(255), default="")
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[EntryStatus] = mapped_column(
        enum_type(EntryStatus), default=EntryStatus.REGISTERED
    )
    #: why the entry was withdrawn or disqualified (or reinstated), as the organizer wrote it
    status_reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contest: Mapped[Contest] = relationship(back_populates="entries")
    group: Mapped[Group] = relationship()
    field: Mapped[Field | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("contest_id", "code"),
        sa.Index("ix_entries_contest_group", "contest_id", "group_id"),
    )

    @property
    def is_active(self) -> bool:
        """Whether the entry is still competing (not withdrawn or disqualified)."""
        return self.status == EntryStatus.REGISTERED

    def __repr__(self) -> str:
        return f"<Entry {self.code}>"


class Participation(db.Model):
    """An entry advanced into a stage (晋级): one row per (entry, stage) it was moved into.

    Recorded per stage, so confirming one stage's advancement writes only the next
    stage's rows and never touches who took part in any later stage. An entry also takes
    part in a stage where it has an assignment or a score sheet
    (``judging.entries.queries.takes_part``).
    """

    __tablename__ = "participations"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(sa.ForeignKey("stages.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entries.id", ondelete="CASCADE"))
    source: Mapped[ParticipationSource] = mapped_column(
        enum_type(ParticipationSource), default=ParticipationSource.ADVANCED
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    stage: Mapped[Stage] = relationship()
    entry: Mapped[Entry] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("stage_id", "entry_id"),
        sa.Index("ix_participations_entry", "entry_id"),
    )
