"""Every model, imported in one place so the mappers and migrations see them all."""

from judging.auth.models import LoginToken, User
from judging.awards.models import Award, Publication, ResultSnapshot
from judging.common.audit import AuditEvent, AuditHead
from judging.contests.models import (
    AdvanceQuota,
    AwardTier,
    Contest,
    Criterion,
    Field,
    Group,
    SpecialAward,
    Stage,
    StageVersion,
)
from judging.entries.models import Entry, Participation
from judging.judges.models import Assignment, Conflict, Judge, judge_fields
from judging.live.models import LiveState, Reveal, RunningPosition
from judging.scoring.models import Score, ScoreSheet

__all__ = [
    "AdvanceQuota",
    "AuditEvent",
    "AuditHead",
    "Assignment",
    "Award",
    "AwardTier",
    "Conflict",
    "Contest",
    "Criterion",
    "Entry",
    "Field",
    "Group",
    "Judge",
    "LiveState",
    "LoginToken",
    "Participation",
    "Publication",
    "ResultSnapshot",
    "Reveal",
    "RunningPosition",
    "Score",
    "ScoreSheet",
    "SpecialAward",
    "Stage",
    "StageVersion",
    "User",
    "judge_fields",
]
