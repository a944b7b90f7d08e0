"""Award, ResultSnapshot and Publication."""

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
    #: what was confirmed: ``advancement``, ``awards`` or ``standings`` (results alone)
    kind: Mapped[str] = mapped_column(sa.String(20), default="standings")
    rules: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    #: why the organizer confirmed a stage that was still open or missed sheets ("" when
    #: it was closed with every needed sheet in); shown on the results page and exports
    override_reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    #: what the confirmation overrode or cascaded: {"override": {"state", "missing",
    #: "by_judge"}, "cascade": {"reason", "added", "removed"}}
    details: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    @property
    def override(self) -> dict[str, Any] | None:
        """What was incomplete when the results were confirmed anyway, or None."""
        return (self.details or {}).get("override")


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


class Publication(db.Model):
    """One publication of a stage's results (公布): the frozen snapshot the public sees.

    Withdrawing sets ``withdrawn_at`` with a reason; publishing again makes a new row whose
    ``correction`` lists what changed against the previous publication (成绩更正), shown
    to the public with its date.
    """

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(sa.ForeignKey("stages.id", ondelete="CASCADE"))
    snapshot_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("result_snapshots.id", ondelete="SET NULL")
    )
    published_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    withdraw_reason: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    #: public changes against the previous publication: [{"entry", "code", "group",
    #: "field", "old", "new"}]; empty for a first publication or an unchanged one
    correction: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON)

    snapshot: Mapped[ResultSnapshot | None] = relationship()

    __table_args__ = (sa.Index("ix_publications_stage", "stage_id", "id"),)
