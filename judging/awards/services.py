"""Confirming results: advancing entries into the next stage, and freezing awards.

Both freeze a results snapshot of the stage (standings, outcome per entry, the rules and
parameters used, a content hash), so a later change shows as a difference against it.
Services flush; the request or command commits once.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from judging.auth.models import User
from judging.awards.engine import content_hash
from judging.awards.models import Award, ResultSnapshot
from judging.awards.queries import StageResult, live_payload, special_award_rows
from judging.common.audit import record
from judging.contests.models import AwardTier, SpecialAward
from judging.contests.standings import bump_data_version
from judging.entries.models import Entry
from judging.extensions import db


class ResultsError(ValueError):
    """A refused confirmation, with a message for the organizer."""


def _freeze(result: StageResult, *, user: User | None, with_specials: bool) -> ResultSnapshot:
    payload = live_payload(result, with_specials=with_specials)
    snapshot = ResultSnapshot(
        contest_id=result.stage.contest_id,
        stage_id=result.stage.id,
        created_by_id=user.id if user else None,
        rules=payload["rules"],
        payload=payload,
        content_hash=content_hash(payload),
    )
    db.session.add(snapshot)
    db.session.flush()
    return snapshot


def confirm_advancement(*, result: StageResult, user: User | None) -> ResultSnapshot:
    """Advance each group's proposed entries into the next stage (Rule 5) and freeze it.

    Entries advanced earlier that the proposal no longer takes are moved back to this stage.
    """
    stage, nxt = result.stage, result.next_stage
    if nxt is None:
        raise ResultsError(_("This is the last stage: nobody advances from it."))
    proposals = [g.advancement for g in result.groups if g.advancement is not None]
    if not proposals:
        raise ResultsError(_("No advancement quota or threshold is set for this stage."))
    advancing = [entry_id for p in proposals for entry_id in p.advancing]
    staying = [entry_id for p in proposals for entry_id in p.not_advancing]
    first = min(s.position for s in stage.contest.stages)
    if advancing:
        db.session.execute(
            sa.update(Entry).where(Entry.id.in_(advancing)).values(advanced_stage_id=nxt.id)
        )
    if staying:
        db.session.execute(
            sa.update(Entry)
            .where(Entry.id.in_(staying), Entry.advanced_stage_id == nxt.id)
            .values(advanced_stage_id=stage.id if stage.position > first else None)
        )
    snapshot = _freeze(result, user=user, with_specials=False)
    record(
        "advancement_confirm",
        contest_id=stage.contest_id,
        object_type="ResultSnapshot",
        object_id=snapshot.id,
        new={
            "stage": stage.code,
            "into": nxt.code,
            "advancing": len(advancing),
            "cut_ties": {
                g.group.code: list(g.advancement.cut_tie)
                for g in result.groups
                if g.advancement and g.advancement.cut_tie
            },
            "hash": snapshot.content_hash,
        },
        user_id=user.id if user else None,
    )
    bump_data_version(stage.contest_id)
    return snapshot


def confirm_awards(*, result: StageResult, user: User | None) -> ResultSnapshot:
    """Write the stage's tier awards and the contest's special awards, and freeze them.

    Replaces the awards confirmed earlier for this stage's tiers and for every special award.
    """
    stage = result.stage
    if not result.has_tiers:
        raise ResultsError(_("This stage has no award tiers."))
    contest_id = stage.contest_id
    tier_ids = sa.select(AwardTier.id).where(AwardTier.stage_id == stage.id)
    special_ids = sa.select(SpecialAward.id).where(SpecialAward.contest_id == contest_id)
    db.session.execute(
        sa.delete(Award).where(
            Award.contest_id == contest_id,
            sa.or_(Award.tier_id.in_(tier_ids), Award.special_award_id.in_(special_ids)),
        )
    )
    snapshot = _freeze(result, user=user, with_specials=True)
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
    record(
        "awards_confirm",
        contest_id=contest_id,
        object_type="ResultSnapshot",
        object_id=snapshot.id,
        new={
            "stage": stage.code,
            "awards": len(rows),
            "total": snapshot.payload["prize_totals"]["overall"],
            "hash": snapshot.content_hash,
        },
        user_id=user.id if user else None,
    )
    bump_data_version(contest_id)
    db.session.flush()
    return snapshot
