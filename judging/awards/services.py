"""Confirming results: advancing entries into the next stage, awards, and frozen snapshots.

Each confirmation freezes a results snapshot of the stage (standings, outcome per entry,
the rules and parameters used, a content hash), so a later change shows as a difference
against it. The checks live in ``judging.awards.workflow``, which calls these; they
flush, and the request or command commits once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from judging.auth.models import User
from judging.awards.models import Award, ResultSnapshot
from judging.awards.queries import StageResult, live_payload, special_award_rows
from judging.awards.snapshots import content_hash
from judging.common.audit import record
from judging.common.db import id_table
from judging.common.enums import ParticipationSource
from judging.contests.models import AwardTier, SpecialAward
from judging.contests.versions import bump_data_version
from judging.entries.models import Participation
from judging.entries.services import add_participations
from judging.extensions import db
from judging.judges.models import Assignment
from judging.live.models import Reveal
from judging.scoring.models import ScoreSheet
from judging.scoring.services import describe_sheet

if TYPE_CHECKING:
    from judging.awards.workflow import AdvancementChanges


def freeze(
    result: StageResult,
    *,
    kind: str,
    user: User | None,
    with_specials: bool,
    override_reason: str,
    details: dict | None,
) -> ResultSnapshot:
    """Freeze the stage's live results into a snapshot (with the contest's special awards
    when ``with_specials``)."""
    payload = live_payload(result, with_specials=with_specials)
    snapshot = ResultSnapshot(
        contest_id=result.stage.contest_id,
        stage_id=result.stage.id,
        kind=kind,
        created_by_id=user.id if user else None,
        rules=payload["rules"],
        payload=payload,
        content_hash=content_hash(payload),
        override_reason=override_reason,
        details=details,
    )
    db.session.add(snapshot)
    db.session.flush()
    return snapshot


def _cascade(result: StageResult, entry_ids: list[int], *, reason: str, user: User | None) -> dict:
    """Take entries out of every stage after ``result``'s: their participation, assignments,
    revealed scores and sheets there go; each sheet is kept in the audit log first."""
    stage = result.stage
    later = [s.id for s in stage.later_stages]
    if not later or not entry_ids:
        return {"sheets": 0, "assignments": 0}
    user_id = user.id if user else None
    sheets = []
    assignments = 0
    with id_table(entry_ids) as listed:
        found = db.session.execute(
            sa.select(ScoreSheet.id, ScoreSheet.entry_id).where(
                ScoreSheet.stage_id.in_(later), ScoreSheet.entry_id.in_(sa.select(listed.c.id))
            )
        ).all()
        for sheet_id, entry_id in found:
            record(
                "sheet_delete",
                contest_id=stage.contest_id,
                entry_id=entry_id,
                object_type="ScoreSheet",
                object_id=sheet_id,
                old=describe_sheet(sheet_id),
                reason=reason,
                user_id=user_id,
            )
        sheets += found
        for model in (ScoreSheet, Participation, Reveal):
            db.session.execute(
                sa.delete(model).where(
                    model.stage_id.in_(later), model.entry_id.in_(sa.select(listed.c.id))
                )
            )
        assignments += db.session.execute(
            sa.delete(Assignment).where(
                Assignment.stage_id.in_(later), Assignment.entry_id.in_(sa.select(listed.c.id))
            )
        ).rowcount
    return {"sheets": len(sheets), "assignments": assignments}


def confirm_advancement(
    *,
    result: StageResult,
    changes: AdvancementChanges,
    user: User | None,
    override_reason: str = "",
    cascade_reason: str = "",
    details: dict | None = None,
) -> ResultSnapshot:
    """Record the proposal's entries as advanced into the next stage (Rule 5) and freeze it.

    Only the next stage's participants change: entries the proposal adds join it, entries
    it no longer takes leave it. With ``cascade_reason`` (the workflow asks for one when
    later stages are touched), leaving entries also leave every later stage.
    """
    stage, nxt = result.stage, changes.into
    add_participations(
        ((nxt.id, entry_id) for entry_id, _ in changes.added),
        source=ParticipationSource.ADVANCED,
    )
    removed_ids = [entry_id for entry_id, _ in changes.removed]
    cascaded = None
    if removed_ids:
        if cascade_reason:
            cascaded = _cascade(result, removed_ids, reason=cascade_reason, user=user)
        else:
            with id_table(removed_ids) as listed:
                db.session.execute(
                    sa.delete(Participation).where(
                        Participation.stage_id == nxt.id,
                        Participation.entry_id.in_(sa.select(listed.c.id)),
                    )
                )
    snapshot = freeze(
        result,
        kind="advancement",
        user=user,
        with_specials=False,
        override_reason=override_reason,
        details=details,
    )
    new = {
        "stage": stage.code,
        "into": nxt.code,
        "advancing": sum(len(g.advancement.advancing) for g in result.groups if g.advancement),
        "added": [code for _, code in changes.added],
        "removed": [code for _, code in changes.removed],
        "cut_ties": {
            g.group.code: list(g.advancement.cut_tie)
            for g in result.groups
            if g.advancement and g.advancement.cut_tie
        },
        "hash": snapshot.content_hash,
    }
    if override_reason:
        new["override"] = override_reason
    if cascaded is not None:
        new["cascade"] = cascaded
    record(
        "advancement_confirm",
        contest_id=stage.contest_id,
        object_type="ResultSnapshot",
        object_id=snapshot.id,
        new=new,
        reason=cascade_reason or override_reason,
        user_id=user.id if user else None,
    )
    bump_data_version(stage.contest_id)
    return snapshot


def confirm_awards(
    *,
    result: StageResult,
    user: User | None,
    override_reason: str = "",
    details: dict | None = None,
) -> ResultSnapshot:
    """Write the stage's tier awards and the contest's special awards, and freeze them.

    Replaces the awards confirmed earlier for this stage's tiers and for every special award.
    """
    stage = result.stage
    contest_id = stage.contest_id
    tier_ids = sa.select(AwardTier.id).where(AwardTier.stage_id == stage.id)
    special_ids = sa.select(SpecialAward.id).where(SpecialAward.contest_id == contest_id)
    db.session.execute(
        sa.delete(Award).where(
            Award.contest_id == contest_id,
            sa.or_(Award.tier_id.in_(tier_ids), Award.special_award_id.in_(special_ids)),
        )
    )
    snapshot = freeze(
        result,
        kind="awards",
        user=user,
        with_specials=True,
        override_reason=override_reason,
        details=details,
    )
    rows = [
        Award(
            contest_id=contest_id,
            entry_id=award.entry_id,
            tier_id=award.tier_id,
            prize=award.prize,
            snapshot_id=snapshot.id,
        )
        for g in result.groups
        if g.tiers is not None
        for award in g.tiers.awards
    ]
    rows += [
        Award(
            contest_id=contest_id,
            entry_id=row.entry_id,
            special_award_id=row.award_id,
            prize=row.prize,
            snapshot_id=snapshot.id,
        )
        for row in special_award_rows(stage.contest)
    ]
    db.session.add_all(rows)
    new = {
        "stage": stage.code,
        "awards": len(rows),
        "total": snapshot.payload["prize_totals"]["overall"],
        "hash": snapshot.content_hash,
    }
    if override_reason:
        new["override"] = override_reason
    record(
        "awards_confirm",
        contest_id=contest_id,
        object_type="ResultSnapshot",
        object_id=snapshot.id,
        new=new,
        reason=override_reason,
        user_id=user.id if user else None,
    )
    bump_data_version(contest_id)
    db.session.flush()
    return snapshot


def confirm_standings(
    *,
    result: StageResult,
    user: User | None,
    override_reason: str = "",
    details: dict | None = None,
) -> ResultSnapshot:
    """Freeze the stage's standings as they are (a stage with no advancement or awards)."""
    stage = result.stage
    snapshot = freeze(
        result,
        kind="standings",
        user=user,
        with_specials=False,
        override_reason=override_reason,
        details=details,
    )
    new = {"stage": stage.code, "hash": snapshot.content_hash}
    if override_reason:
        new["override"] = override_reason
    record(
        "results_confirm",
        contest_id=stage.contest_id,
        object_type="ResultSnapshot",
        object_id=snapshot.id,
        new=new,
        reason=override_reason,
        user_id=user.id if user else None,
    )
    bump_data_version(stage.contest_id)
    return snapshot
