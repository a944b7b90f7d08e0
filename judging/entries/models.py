"""The Entry model."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from judging.common.enums import EntryStatus
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
    # The latest stage the organizer advanced this entry into; None while only registered.
    advanced_stage_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stages.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    contest: Mapped[Contest] = relationship(back_populates="entries")
    group: Mapped[Group] = relationship()
    field: Mapped[Field | None] = relationship()
    advanced_stage: Mapped[Stage | None] = relationship()

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
