"""A rubric as plain values, read once per request and safe to cache between requests."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from judging.contests.models import Criterion
from judging.extensions import db


@dataclass(frozen=True, slots=True)
class CriterionSpec:
    """One rubric line: what the form shows and what the points are checked against."""

    id: int
    position: int
    name: str
    description: str
    max_points: Decimal
    step: Decimal


#: A ``CriterionSpec``'s columns, in its fields' order.
RUBRIC_COLUMNS = (
    Criterion.id,
    Criterion.position,
    Criterion.name,
    Criterion.description,
    Criterion.max_points,
    Criterion.step,
)
_RUBRIC = (
    sa.select(*RUBRIC_COLUMNS)
    .where(Criterion.stage_id == sa.bindparam("stage"), Criterion.group_id == sa.bindparam("group"))
    .order_by(Criterion.position)
)


def rubric_specs(stage_id: int, group_id: int) -> tuple[CriterionSpec, ...]:
    """The rubric of a stage for a group, in order, as plain values (one query)."""
    rows = db.session.execute(_RUBRIC, {"stage": stage_id, "group": group_id})
    return tuple(CriterionSpec(*row) for row in rows)
