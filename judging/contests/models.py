"""Contest, Stage, Group, Field, Criterion, AwardTier and SpecialAward."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from judging.common.enums import AggregationRule, ContestStatus, StageKind, StageState
from judging.common.models import MONEY, POINTS, UTCDateTime, enum_type, utcnow
from judging.extensions import db

if TYPE_CHECKING:
    from judging.auth.models import User
    from judging.entries.models import Entry
    from judging.judges.models import Judge


class Contest(db.Model):
    """One contest (赛事), e.g. the 2020 Dalian universities contest."""

    __tablename__ = "contests"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    year: Mapped[int]
    organizers: Mapped[str] = mapped_column(sa.Text, default="")
    #: when the contest runs (shown to organizers and the public; optional)
    starts_on: Mapped[date | None] = mapped_column(sa.Date)
    ends_on: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[ContestStatus] = mapped_column(
        enum_type(ContestStatus), default=ContestStatus.SETUP
    )
    #: ``status`` as the organizer set it; otherwise it follows the stages (``current_status``)
    status_by_hand: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: whether the public pages and the API show the contest (a draft never)
    is_public: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Grows in the same transaction as any change that can move standings (a submitted or
    # reopened sheet, a conflict, an assignment, a rule, an award); cached standings are
    # keyed by it, so every worker and host sees a change at its next request.
    data_version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    stages: Mapped[list[Stage]] = relationship(
        back_populates="contest", order_by="Stage.position", cascade="all, delete-orphan"
    )
    groups: Mapped[list[Group]] = relationship(
        back_populates="contest", order_by="Group.position", cascade="all, delete-orphan"
    )
    fields: Mapped[list[Field]] = relationship(
        back_populates="contest", order_by="Field.position", cascade="all, delete-orphan"
    )
    entries: Mapped[list[Entry]] = relationship(
        back_populates="contest", order_by="Entry.code", cascade="all, delete-orphan"
    )
    judges: Mapped[list[Judge]] = relationship(
        back_populates="contest", order_by="Judge.name", cascade="all, delete-orphan"
    )
    special_awards: Mapped[list[SpecialAward]] = relationship(
        back_populates="contest", order_by="SpecialAward.id", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.CheckConstraint("year BETWEEN 1900 AND 9999", name="year_range"),)

    @property
    def current_status(self) -> ContestStatus:
        """The status set by hand, else the one its stages give: 筹备中 while every stage
        is a draft (or there is none), 已结束 once every stage is published, else 进行中."""
        if self.status_by_hand:
            return self.status
        return status_of_stages([s.state for s in self.stages])

    def stage(self, code: str) -> Stage | None:
        """Return the stage with this code, or None."""
        return next((s for s in self.stages if s.code == code), None)

    def group(self, code: str) -> Group | None:
        """Return the group with this code, or None."""
        return next((g for g in self.groups if g.code == code), None)

    def __repr__(self) -> str:
        return f"<Contest {self.slug}>"


class ContestOrganizer(db.Model):
    """An organizer account given one contest to run (SPEC: a contest has organizers).

    An organizer manages only the contests they hold a row for; every other contest
    answers 404, as a missing one does (``judging.contests.organizers``).
    """

    __tablename__ = "contest_organizers"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contests.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: who gave it (None: the command line, the demo loader or the migration)
    granted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    contest: Mapped[Contest] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])

    __table_args__ = (sa.UniqueConstraint("contest_id", "user_id"),)

    def __repr__(self) -> str:
        return f"<ContestOrganizer {self.contest_id} {self.user_id}>"


#: PostgreSQL notifies this channel whenever a contest row changes (its data version
#: above all) or goes, from a trigger, so no writer can forget to: the public front
#: door keeps versions between notifications (``judging.leaderboard.front``).
VERSION_CHANNEL = "judging_data_version"
NOTIFY_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION judging_notify_data_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{VERSION_CHANNEL}', CAST(COALESCE(NEW.id, OLD.id) AS text));
    RETURN NULL;
END
$$
"""
NOTIFY_TRIGGERS_SQL = (
    "CREATE TRIGGER contests_notify_change AFTER UPDATE OR DELETE ON contests "
    "FOR EACH ROW EXECUTE FUNCTION judging_notify_data_version()",
    "CREATE TRIGGER contests_notify_truncate AFTER TRUNCATE ON contests "
    "FOR EACH STATEMENT EXECUTE FUNCTION judging_notify_data_version()",
)
for _sql in (NOTIFY_FUNCTION_SQL, *NOTIFY_TRIGGERS_SQL):
    sa.event.listen(
        Contest.__table__, "after_create", sa.DDL(_sql).execute_if(dialect="postgresql")
    )


class StageVersion(db.Model):
    """The data version of one group's results in one stage: grows with every change to
    that group's sheets there (a submitted, reopened or removed sheet) and with the live
    final's state (``judging.contests.versions``). Changes of the contest itself (its
    stages' states, publications, entries, awards) grow ``contests.data_version``
    instead, so a sheet in the final leaves the cached pages of a published stage valid.
    """

    __tablename__ = "stage_versions"

    stage_id: Mapped[int] = mapped_column(
        sa.ForeignKey("stages.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        sa.ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    contest_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contests.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(default=1, server_default="1")


#: Any change of a stage version notifies the same channel as a contest row.
STAGE_NOTIFY_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION judging_notify_stage_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{VERSION_CHANNEL}', CAST(COALESCE(NEW.contest_id, OLD.contest_id) AS text));
    RETURN NULL;
END
$$
"""
STAGE_NOTIFY_TRIGGERS_SQL = (
    "CREATE TRIGGER stage_versions_notify_change AFTER INSERT OR UPDATE OR DELETE "
    "ON stage_versions FOR EACH ROW EXECUTE FUNCTION judging_notify_stage_version()",
    "CREATE TRIGGER stage_versions_notify_truncate AFTER TRUNCATE ON stage_versions "
    "FOR EACH STATEMENT EXECUTE FUNCTION judging_notify_stage_version()",
)
for _sql in (STAGE_NOTIFY_FUNCTION_SQL, *STAGE_NOTIFY_TRIGGERS_SQL):
    sa.event.listen(
        StageVersion.__table__, "after_create", sa.DDL(_sql).execute_if(dialect="postgresql")
    )


class Stage(db.Model):
    """One round of a contest (赛段): online review, semi-final, live final."""

    __tablename__ = "stages"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(sa.ForeignKey("contests.id", ondelete="CASCADE"))
    position: Mapped[int]
    code: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[StageKind] = mapped_column(enum_type(StageKind), default=StageKind.ONLINE)
    state: Mapped[StageState] = mapped_column(enum_type(StageState), default=StageState.DRAFT)
    judges_per_entry: Mapped[int] = mapped_column(default=5)
    rule: Mapped[AggregationRule] = mapped_column(
        enum_type(AggregationRule), default=AggregationRule.TRIMMED
    )
    trim: Mapped[int] = mapped_column(default=1)
    min_sheets_to_trim: Mapped[int] = mapped_column(default=5)
    advance_quota: Mapped[int | None]
    advance_threshold: Mapped[Decimal | None] = mapped_column(POINTS)
    weight: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 4, asdecimal=True))
    pitch_minutes: Mapped[int] = mapped_column(default=8)
    qa_minutes: Mapped[int] = mapped_column(default=7)

    contest: Mapped[Contest] = relationship(back_populates="stages")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="stage",
        order_by="(Criterion.group_id, Criterion.position)",
        cascade="all, delete-orphan",
    )
    quotas: Mapped[list[AdvanceQuota]] = relationship(
        back_populates="stage", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.UniqueConstraint("contest_id", "code"),
        sa.UniqueConstraint("contest_id", "position"),
        sa.CheckConstraint("judges_per_entry >= 1", name="judges_per_entry_positive"),
        sa.CheckConstraint("trim >= 0", name="trim_not_negative"),
        sa.CheckConstraint("min_sheets_to_trim >= 0", name="min_sheets_not_negative"),
        sa.CheckConstraint("advance_quota IS NULL OR advance_quota >= 0", name="quota_ok"),
        sa.CheckConstraint("weight IS NULL OR (weight >= 0 AND weight <= 1)", name="weight_ok"),
        sa.CheckConstraint("pitch_minutes >= 0 AND qa_minutes >= 0", name="minutes_ok"),
    )

    @property
    def is_open(self) -> bool:
        """Whether judges may score in this stage now."""
        return self.state == StageState.OPEN

    @property
    def is_published(self) -> bool:
        """Whether the public may see this stage's results."""
        return self.state == StageState.PUBLISHED

    @property
    def later_stages(self) -> list[Stage]:
        """The stages after this one, in order."""
        return sorted(
            (s for s in self.contest.stages if s.position > self.position),
            key=lambda s: s.position,
        )

    @property
    def next_stage(self) -> Stage | None:
        """The stage after this one in the contest, or None for the last."""
        later = self.later_stages
        return later[0] if later else None

    @property
    def previous_stage(self) -> Stage | None:
        """The stage before this one in the contest, or None for the first."""
        earlier = [s for s in self.contest.stages if s.position < self.position]
        return max(earlier, key=lambda s: s.position) if earlier else None

    def quota_for(self, group: Group) -> int | None:
        """How many entries of group advance from this stage: its own quota, else the stage's."""
        for quota in self.quotas:
            if quota.group_id == group.id:
                return quota.quota
        return self.advance_quota

    def rubric(self, group: Group) -> list[Criterion]:
        """Return this stage's criteria for one group, in rubric order."""
        return sorted(
            (c for c in self.criteria if c.group_id == group.id), key=lambda c: c.position
        )

    def __repr__(self) -> str:
        return f"<Stage {self.code}>"


class AdvanceQuota(db.Model):
    """How many entries of one group advance from a stage (groups may differ: 12 and 10)."""

    __tablename__ = "advance_quotas"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(sa.ForeignKey("stages.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("groups.id", ondelete="CASCADE"))
    quota: Mapped[int]

    stage: Mapped[Stage] = relationship(back_populates="quotas")
    group: Mapped[Group] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("stage_id", "group_id"),
        sa.CheckConstraint("quota >= 0", name="quota_not_negative"),
    )


class Group(db.Model):
    """A division of a contest (组别), e.g. 天使组 or 成长组."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(sa.ForeignKey("contests.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    code: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(120))

    contest: Mapped[Contest] = relationship(back_populates="groups")

    __table_args__ = (sa.UniqueConstraint("contest_id", "code"),)

    def __repr__(self) -> str:
        return f"<Group {self.code}>"


class Field(db.Model):
    """A technology field (领域), used to match judges' expertise to entries."""

    __tablename__ = "fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(sa.ForeignKey("contests.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(120))

    contest: Mapped[Contest] = relationship(back_populates="fields")

    __table_args__ = (sa.UniqueConstraint("contest_id", "name"),)

    def __repr__(self) -> str:
        return f"<Field {self.name}>"


class Criterion(db.Model):
    """One line of a stage's rubric for one group (评分项)."""

    __tablename__ = "criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(sa.ForeignKey("stages.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("groups.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    max_points: Mapped[Decimal] = mapped_column(POINTS)
    step: Mapped[Decimal] = mapped_column(POINTS, default=Decimal("0.5"))

    stage: Mapped[Stage] = relationship(back_populates="criteria")
    group: Mapped[Group] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("stage_id", "group_id", "position"),
        sa.UniqueConstraint("stage_id", "group_id", "name"),
        sa.CheckConstraint("max_points > 0", name="max_positive"),
        sa.CheckConstraint("step > 0 AND step <= max_points", name="step_ok"),
    )

    def __repr__(self) -> str:
        return f"<Criterion {self.name} /{self.max_points}>"


class AwardTier(db.Model):
    """A prize level of a stage and group (奖项等级), filled in rank order up to its quota."""

    __tablename__ = "award_tiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(sa.ForeignKey("contests.id", ondelete="CASCADE"))
    stage_id: Mapped[int] = mapped_column(sa.ForeignKey("stages.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("groups.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(120))
    quota: Mapped[int]
    prize: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))

    stage: Mapped[Stage] = relationship()
    group: Mapped[Group] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("stage_id", "group_id", "position"),
        sa.CheckConstraint("quota >= 0", name="quota_not_negative"),
        sa.CheckConstraint("prize >= 0", name="prize_not_negative"),
    )

    def __repr__(self) -> str:
        return f"<AwardTier {self.name} x{self.quota}>"


class SpecialAward(db.Model):
    """An award given by a rule (专项奖), e.g. every student team that reached 复赛.

    ``rule`` is a small expression, currently ``student_team_reached:<stage code>``.
    """

    __tablename__ = "special_awards"

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(sa.ForeignKey("contests.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(120))
    rule: Mapped[str] = mapped_column(sa.String(120))
    prize: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))

    contest: Mapped[Contest] = relationship(back_populates="special_awards")

    __table_args__ = (
        sa.UniqueConstraint("contest_id", "name"),
        sa.CheckConstraint("prize >= 0", name="prize_not_negative"),
    )

    def __repr__(self) -> str:
        return f"<SpecialAward {self.name}>"


def status_of_stages(states) -> ContestStatus:
    """A contest's status from its stages' states (see ``Contest.current_status``)."""
    states = list(states)
    if not states or all(s == StageState.DRAFT for s in states):
        return ContestStatus.SETUP
    if all(s == StageState.PUBLISHED for s in states):
        return ContestStatus.FINISHED
    return ContestStatus.RUNNING
