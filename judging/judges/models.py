"""Judge, Conflict and Assignment."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from judging.common.enums import ConflictSource, ConflictStatus
from judging.common.models import UTCDateTime, enum_type, utcnow
from judging.extensions import db

if TYPE_CHECKING:
    from judging.auth.models import User
    from judging.contests.models import Contest, Field, Stage
    from judging.entries.models import Entry

judge_fields = sa.Table(
    "judge_fields",
    db.metadata,
    sa.Column("judge_id", sa.ForeignKey("judges.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("field_id", sa.ForeignKey("fields.id", ondelete="CASCADE"), primary_key=True),
)


class Judge(db.Model):
    """A member of a contest's jury, tied to a user account."""

    __tablename__ = "judges"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(sa.ForeignKey("contests.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(sa.String(120))
    title: Mapped[str] = mapped_column(sa.String(120), default="")
    organization: Mapped[str] = mapped_column(sa.String(255), default="")
    email: Mapped[str] = mapped_column(sa.String(255), default="")
    #: the group whose panel the judge sits on (None: every group's); used when a stage
    #: is assigned with panels (``judging.judges.assignment``)
    panel_group_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("groups.id", ondelete="SET NULL"), index=True
    )

    contest: Mapped[Contest] = relationship(back_populates="judges")
    user: Mapped[User] = relationship(back_populates="judges")
    expertise: Mapped[list[Field]] = relationship(secondary=judge_fields, order_by="Field.position")

    __table_args__ = (sa.UniqueConstraint("contest_id", "user_id"),)

    def __repr__(self) -> str:
        return f"<Judge {self.name}>"


class Conflict(db.Model):
    """A conflict of interest between a judge and an entry (回避).

    Only a binding conflict counts: the judge is then never assigned the entry, never
    shown it, and never counted in its score. A system proposal binds once accepted.
    """

    __tablename__ = "conflicts"

    id: Mapped[int] = mapped_column(primary_key=True)
    judge_id: Mapped[int] = mapped_column(sa.ForeignKey("judges.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entries.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    source: Mapped[ConflictSource] = mapped_column(enum_type(ConflictSource))
    status: Mapped[ConflictStatus] = mapped_column(
        enum_type(ConflictStatus), default=ConflictStatus.BINDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: when an organizer looked at a judge's declaration (None: new, shown as such)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    #: the organizer's note on the conflict
    note: Mapped[str] = mapped_column(sa.Text, default="", server_default="")

    judge: Mapped[Judge] = relationship()
    entry: Mapped[Entry] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("judge_id", "entry_id"),
        sa.Index("ix_conflicts_entry", "entry_id"),
    )

    @property
    def is_binding(self) -> bool:
        """Whether this conflict keeps the judge away from the entry."""
        return self.status == ConflictStatus.BINDING


class Assignment(db.Model):
    """A judge asked to score an entry in a stage (分配)."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(sa.ForeignKey("stages.id", ondelete="CASCADE"))
    judge_id: Mapped[int] = mapped_column(sa.ForeignKey("judges.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entries.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    stage: Mapped[Stage] = relationship()
    judge: Mapped[Judge] = relationship()
    entry: Mapped[Entry] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("stage_id", "judge_id", "entry_id"),
        sa.Index("ix_assignments_stage_entry", "stage_id", "entry_id"),
    )
