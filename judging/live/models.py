"""LiveState, Reveal and RunningPosition: the live final's room state, the scores revealed on
the big screen, and the running order of a roadshow stage."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from judging.common.enums import TitledEnum
from judging.common.models import POINTS, UTCDateTime, enum_type, utcnow
from judging.extensions import db

if TYPE_CHECKING:
    from judging.contests.models import Group, Stage
    from judging.entries.models import Entry


class LivePhase(TitledEnum):
    """What the entry on stage is doing: waiting, pitching (路演) or answering (答辩)."""

    IDLE = "idle", _l("Waiting")
    PITCH = "pitch", _l("Pitch")
    QA = "qa", _l("Q&A")


class LiveState(db.Model):
    """The room during a live roadshow stage: which entry is on stage and its timer.

    One row per stage. The timer is stored as when the phase started and how long it
    runs (frozen from the stage's minutes when it starts), so every client counts down
    from the same instant whatever its own clock says.
    """

    __tablename__ = "live_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(
        sa.ForeignKey("stages.id", ondelete="CASCADE"), unique=True
    )
    entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entries.id", ondelete="SET NULL"))
    phase: Mapped[LivePhase] = mapped_column(enum_type(LivePhase), default=LivePhase.IDLE)
    phase_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    phase_seconds: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    stage: Mapped[Stage] = relationship()
    entry: Mapped[Entry | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("phase_seconds >= 0", name="seconds_not_negative"),
        sa.CheckConstraint(
            "phase = 'idle' OR phase_started_at IS NOT NULL", name="running_phase_has_start"
        ),
    )

    @property
    def ends_at(self) -> datetime | None:
        """When the running phase's time is up, or None while idle."""
        if self.phase == LivePhase.IDLE or self.phase_started_at is None:
            return None
        return self.phase_started_at + timedelta(seconds=self.phase_seconds)

    def __repr__(self) -> str:
        return f"<LiveState stage={self.stage_id} entry={self.entry_id} {self.phase}>"


class Reveal(db.Model):
    """An entry's score shown on the big screen during the live final (当场亮分, Rule 8).

    The score and the sheet totals are frozen at the moment of the reveal: the room saw
    these numbers, and a sheet reopened afterwards must neither change them silently nor
    put a partial score on the screen. ``totals`` are ``{"judge_id", "total"}`` in
    ascending (total, judge id) order; the rule dropped ``cut`` of them at each end.
    """

    __tablename__ = "reveals"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(sa.ForeignKey("stages.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entries.id", ondelete="CASCADE"))
    revealed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revealed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    score: Mapped[Decimal] = mapped_column(POINTS)
    cut: Mapped[int] = mapped_column(default=0)
    totals: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)

    entry: Mapped[Entry] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("stage_id", "entry_id"),
        sa.CheckConstraint("cut >= 0", name="cut_not_negative"),
    )

    @property
    def total_values(self) -> list[Decimal]:
        """The frozen sheet totals, ascending."""
        return [Decimal(t["total"]) for t in self.totals]

    def __repr__(self) -> str:
        return f"<Reveal stage={self.stage_id} entry={self.entry_id} {self.score}>"


class RunningPosition(db.Model):
    """An entry's place in the running order of a roadshow stage, within its group (1, 2, …).

    A stage with no rows runs in code order; entries without a row (or whose group changed
    since) come after the ordered ones, by code. ``seed`` is the draw's (抽签) when the
    order was drawn by lot, or null when the organizer set it by hand; every row of a group
    is written together, so they share it.
    """

    __tablename__ = "running_positions"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(sa.ForeignKey("stages.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("groups.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entries.id", ondelete="CASCADE"))
    position: Mapped[int]
    seed: Mapped[str | None] = mapped_column(sa.String(64))

    entry: Mapped[Entry] = relationship()
    group: Mapped[Group] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("stage_id", "entry_id"),
        sa.UniqueConstraint("stage_id", "group_id", "position"),
        sa.CheckConstraint("position >= 1", name="position_positive"),
    )

    def __repr__(self) -> str:
        return f"<RunningPosition stage={self.stage_id} entry={self.entry_id} {self.position}>"
