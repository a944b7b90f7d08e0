"""Award and ResultSnapshot."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from judging.common.models import MONEY, UTCDateTime, utcnow
from judging.extensions import db

if TYPE_CHECKING:
    from judging.contests.models import AwardTier, SpecialAward
    from judging.entries.models import Entry


class ResultSnapshot(db.Model):
    """Frozen results: standings, awards and the rules used, with a content hash."""

    __tablename__ = "result_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(sa.ForeignKey("contests.id", ondelete="CASCADE"))
    stage_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stages.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    rules: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    content_hash: Mapped[str] = mapped_column(sa.String(64))


class Award(db.Model):
    """A confirmed award: one tier award per entry, plus any special awards."""

    __tablename__ = "awards"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(sa.ForeignKey("contests.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entries.id", ondelete="CASCADE"))
    tier_id: Mapped[int | None] = mapped_column(sa.ForeignKey("award_tiers.id", ondelete="CASCADE"))
    special_award_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("special_awards.id", ondelete="CASCADE")
    )
    prize: Mapped[Decimal] = mapped_column(MONEY)
    snapshot_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("result_snapshots.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    entry: Mapped[Entry] = relationship()
    tier: Mapped[AwardTier | None] = relationship()
    special_award: Mapped[SpecialAward | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "(tier_id IS NULL) <> (special_award_id IS NULL)", name="tier_xor_special"
        ),
        sa.CheckConstraint("prize >= 0", name="prize_not_negative"),
        sa.UniqueConstraint("entry_id", "special_award_id"),
        # One tier award per entry; special awards come on top.
        sa.Index(
            "uq_awards_entry_tier",
            "entry_id",
            unique=True,
            sqlite_where=sa.text("tier_id IS NOT NULL"),
            postgresql_where=sa.text("tier_id IS NOT NULL"),
        ),
    )
