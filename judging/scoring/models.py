"""ScoreSheet and Score."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from judging.common.enums import SheetState
from judging.common.models import POINTS, UTCDateTime, enum_type, utcnow
from judging.extensions import db

if TYPE_CHECKING:
    from judging.contests.models import Criterion, Stage
    from judging.entries.models import Entry
    from judging.judges.models import Judge


def sheet_totals(points: Iterable[Decimal]) -> dict[str, int]:
    """The stored ``total_hundredths`` and ``points_count`` of a sheet with these points.

    Raises ValueError for points with more than 2 decimals (the column cannot hold them).
    """
    values = [Decimal(p) for p in points]
    scaled = sum(values, Decimal(0)).scaleb(2)
    whole = scaled.to_integral_value()
    if scaled != whole:
        raise ValueError(f"points with more than 2 decimals: {values}")
    return {"total_hundredths": int(whole), "points_count": len(values)}


class ScoreSheet(db.Model):
    """One judge's sheet for one entry in one stage; unique per (stage, judge, entry).

    ``version`` grows with every write so a stale form can be detected (optimistic locking).
    """

    __tablename__ = "score_sheets"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(sa.ForeignKey("stages.id", ondelete="CASCADE"))
    judge_id: Mapped[int] = mapped_column(sa.ForeignKey("judges.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entries.id", ondelete="CASCADE"))
    state: Mapped[SheetState] = mapped_column(enum_type(SheetState), default=SheetState.DRAFT)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: when the organizer last reopened the sheet (Rule 7); its judge may finish it while
    #: the stage is closed
    reopened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Rule 1's total, written by every writer in the same statement or transaction as
    #: the points (see ``sheet_totals``): the sum of the points in hundredths of a point
    #: (exact, points have 2 decimals: 85.5 → 8550) and how many criteria have points.
    #: Standings read these two columns instead of every criterion row.
    total_hundredths: Mapped[int] = mapped_column(default=0, server_default="0")
    points_count: Mapped[int] = mapped_column(sa.SmallInteger, default=0, server_default="0")

    stage: Mapped[Stage] = relationship()
    judge: Mapped[Judge] = relationship()
    entry: Mapped[Entry] = relationship()
    scores: Mapped[list[Score]] = relationship(
        back_populates="sheet", cascade="all, delete-orphan", order_by="Score.criterion_id"
    )

    __table_args__ = (
        sa.UniqueConstraint("stage_id", "judge_id", "entry_id"),
        sa.Index("ix_score_sheets_stage_entry", "stage_id", "entry_id"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.CheckConstraint(
            "state <> 'submitted' OR submitted_at IS NOT NULL", name="submitted_has_time"
        ),
        sa.CheckConstraint(
            "total_hundredths >= 0 AND points_count >= 0", name="totals_not_negative"
        ),
    )

    @property
    def is_submitted(self) -> bool:
        """Whether the sheet is locked."""
        return self.state == SheetState.SUBMITTED

    @property
    def total(self) -> Decimal:
        """The sum of the sheet's criterion points (Rule 1)."""
        return sum((s.points for s in self.scores), Decimal("0"))

    def recount(self) -> None:
        """Set the stored total and count from the loaded score rows (ORM writers)."""
        for name, value in sheet_totals(s.points for s in self.scores).items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        return f"<ScoreSheet stage={self.stage_id} judge={self.judge_id} entry={self.entry_id}>"


class Score(db.Model):
    """The points one sheet gives one criterion; never negative."""

    __tablename__ = "scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(sa.ForeignKey("score_sheets.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("criteria.id", ondelete="RESTRICT"))
    points: Mapped[Decimal] = mapped_column(POINTS)

    sheet: Mapped[ScoreSheet] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("sheet_id", "criterion_id"),
        sa.CheckConstraint("points >= 0", name="points_not_negative"),
    )
