"""Building a contest in the browser: the contest, its groups, fields, stages, award tiers
and special awards, one change at a time.

Each change is checked (codes and names unique in the contest, as the database requires),
recorded in the audit log with the old and new values, and bumps the contest's version
(it may move standings or public pages). A refused change raises ``SetupError`` naming the
field and writes nothing. The rubric, which touches score sheets, is in
``judging.awards.rubric``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from judging.auth.models import User
from judging.common.audit import record
from judging.common.enums import AggregationRule, StageKind
from judging.contests.models import (
    AdvanceQuota,
    AwardTier,
    Contest,
    Field,
    Group,
    SpecialAward,
    Stage,
)
from judging.contests.organizers import grant
from judging.contests.versions import bump_data_version
from judging.extensions import db

CONTEST_FIELDS = ("name", "year", "organizers", "starts_on", "ends_on")
STAGE_FIELDS = (
    "code",
    "name",
    "position",
    "kind",
    "judges_per_entry",
    "rule",
    "trim",
    "min_sheets_to_trim",
    "pitch_minutes",
    "qa_minutes",
    "advance_quota",
    "advance_threshold",
    "weight",
)
#: the rules a special award can have: every student team that reached the stage
SPECIAL_RULE = "student_team_reached:{code}"


class SetupError(ValueError):
    """A change refused, with the form field it is about."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value.value if hasattr(value, "value") else value


def _values(obj, names) -> dict:
    return {name: _plain(getattr(obj, name)) for name in names}


def _changed(action: str, contest_id: int, obj, old: dict | None, new: dict) -> None:
    if old == new:
        return
    record(action, contest_id=contest_id, obj=obj, old=old, new=new)
    bump_data_version(contest_id)


def _taken(model, contest_id: int, column, value, obj=None) -> bool:
    query = sa.select(model.id).where(model.contest_id == contest_id, column == value)
    if obj is not None and obj.id is not None:
        query = query.where(model.id != obj.id)
    return db.session.scalar(query.limit(1)) is not None


# -- the contest


def create_contest(
    *,
    creator: User | None = None,
    slug: str,
    name: str,
    year: int,
    organizers: str,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> Contest:
    """A new contest: a draft (not public) until the organizer makes it public; given to
    ``creator`` (the organizer creating it), so that they run it."""
    if db.session.scalar(sa.select(Contest.id).where(Contest.slug == slug)) is not None:
        raise SetupError("slug", "taken")
    contest = Contest(
        slug=slug,
        name=name,
        year=year,
        organizers=organizers or "",
        starts_on=starts_on,
        ends_on=ends_on,
        is_public=False,
    )
    db.session.add(contest)
    db.session.flush()
    record(
        "contest_create",
        contest_id=contest.id,
        obj=contest,
        new={"slug": slug, **_values(contest, CONTEST_FIELDS), "public": False},
    )
    if creator is not None:
        grant(contest=contest, user=creator, by=creator)
    return contest


def update_contest(
    contest: Contest,
    *,
    name: str,
    year: int,
    organizers: str,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> None:
    """Change the contest's name, year, organizers or dates."""
    old = _values(contest, CONTEST_FIELDS)
    contest.name, contest.year, contest.organizers = name, year, organizers or ""
    contest.starts_on, contest.ends_on = starts_on, ends_on
    _changed("contest_edit", contest.id, contest, old, _values(contest, CONTEST_FIELDS))


# -- groups and fields


def save_group(
    contest: Contest, group: Group | None, *, code: str, name: str, position: int | None
) -> Group:
    """Add a group (``group`` None) or change one."""
    if _taken(Group, contest.id, Group.code, code, group):
        raise SetupError("code", "taken")
    if _taken(Group, contest.id, Group.name, name, group):
        raise SetupError("name", "taken")
    old = _values(group, ("code", "name", "position")) if group is not None else None
    if position is None:  # (read before a new row joins the session: no flush half-made)
        last = max((g.position for g in contest.groups), default=0)
        position = group.position if group is not None else last + 1
    if group is None:
        group = Group(contest_id=contest.id)
        db.session.add(group)
    group.code, group.name, group.position = code, name, position
    db.session.flush()
    _changed("group_save", contest.id, group, old, _values(group, ("code", "name", "position")))
    return group


def save_field(contest: Contest, field: Field | None, *, name: str, position: int | None) -> Field:
    """Add a technology field or change one."""
    if _taken(Field, contest.id, Field.name, name, field):
        raise SetupError("name", "taken")
    old = _values(field, ("name", "position")) if field is not None else None
    if position is None:
        last = max((f.position for f in contest.fields), default=0)
        position = field.position if field is not None else last + 1
    if field is None:
        field = Field(contest_id=contest.id)
        db.session.add(field)
    field.name, field.position = name, position
    db.session.flush()
    _changed("field_save", contest.id, field, old, _values(field, ("name", "position")))
    return field


# -- stages


def save_stage(
    contest: Contest, stage: Stage | None, values: dict, quotas: dict[int, int | None]
) -> Stage:
    """Add a stage or change one; ``quotas`` is the number advancing per group id (None:
    the stage's own number applies)."""
    if _taken(Stage, contest.id, Stage.code, values["code"], stage):
        raise SetupError("code", "taken")
    if _taken(Stage, contest.id, Stage.position, values["position"], stage):
        raise SetupError("position", "taken")
    old = None
    if stage is not None:
        old = _stage_values(stage)
    else:
        stage = Stage(contest_id=contest.id)
        db.session.add(stage)
    for name in STAGE_FIELDS:
        setattr(stage, name, values[name])
    stage.kind = StageKind(values["kind"])
    stage.rule = AggregationRule(values["rule"])
    db.session.flush()
    by_group = {q.group_id: q for q in stage.quotas}
    for group_id, quota in quotas.items():
        existing = by_group.get(group_id)
        if quota is None and existing is not None:
            stage.quotas.remove(existing)
        elif quota is not None and existing is None:
            stage.quotas.append(AdvanceQuota(group_id=group_id, quota=quota))
        elif quota is not None:
            existing.quota = quota
    db.session.flush()
    _changed("stage_save", contest.id, stage, old, _stage_values(stage))
    return stage


def _stage_values(stage: Stage) -> dict:
    """A stage's settings for the audit log (``kind`` as ``stage_kind``: the log's ``kind``
    names what an import brought)."""
    values = _values(stage, STAGE_FIELDS)
    values["stage_kind"] = values.pop("kind")
    return {**values, "quotas": _quotas_of(stage)}


def _quotas_of(stage: Stage) -> dict[str, int]:
    codes = {g.id: g.code for g in stage.contest.groups}
    return {codes[q.group_id]: q.quota for q in stage.quotas if q.group_id in codes}


# -- awards


def save_tier(
    contest: Contest,
    tier: AwardTier | None,
    *,
    stage: Stage,
    group: Group,
    name: str,
    position: int,
    quota: int,
    prize: Decimal,
) -> AwardTier:
    """Add a prize level of a stage and group, or change one."""
    clash = sa.select(AwardTier.id).where(
        AwardTier.stage_id == stage.id,
        AwardTier.group_id == group.id,
        AwardTier.position == position,
    )
    if tier is not None:
        clash = clash.where(AwardTier.id != tier.id)
    if db.session.scalar(clash.limit(1)) is not None:
        raise SetupError("position", "taken")
    names = ("name", "position", "quota", "prize")
    old = None
    if tier is not None:
        old = {**_values(tier, names), "stage": tier.stage.code, "group": tier.group.code}
    else:
        tier = AwardTier(contest_id=contest.id)
        db.session.add(tier)
    tier.stage_id, tier.group_id = stage.id, group.id
    tier.name, tier.position, tier.quota, tier.prize = name, position, quota, prize
    db.session.flush()
    new = {**_values(tier, names), "stage": stage.code, "group": group.code}
    _changed("tier_save", contest.id, tier, old, new)
    return tier


def special_rules(contest: Contest) -> list[tuple[str, Stage]]:
    """The rules a special award of this contest can have, with the stage each names."""
    return [(SPECIAL_RULE.format(code=s.code), s) for s in contest.stages]


def save_special(
    contest: Contest, award: SpecialAward | None, *, name: str, rule: str, prize: Decimal
) -> SpecialAward:
    """Add a special award or change one."""
    if _taken(SpecialAward, contest.id, SpecialAward.name, name, award):
        raise SetupError("name", "taken")
    if rule not in {r for r, _ in special_rules(contest)}:
        raise SetupError("rule", "unknown")
    names = ("name", "rule", "prize")
    old = _values(award, names) if award is not None else None
    if award is None:
        award = SpecialAward(contest_id=contest.id)
        db.session.add(award)
    award.name, award.rule, award.prize = name, rule, prize
    db.session.flush()
    _changed("special_save", contest.id, award, old, _values(award, names))
    return award
