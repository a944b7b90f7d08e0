"""Reads for the public pages, the big screen, the JSON API and the live control.

Everything public is built here as plain data (dicts of str, int, bool, lists), the same
for the HTML pages and the JSON API, and holds only what may be public:

- a stage's standings and awards once the organizer has published it;
- during a live roadshow (a roadshow stage that is open or closed, not yet published),
  what Rule 8 allows: the entry on stage, its timer, how many judges have submitted (a
  count, never who or what), and the scores the organizer revealed.

Never contact data (phone, email, team leader) and never a judge's name. Decimals leave as
strings with two places ("85.13"), so no float ever rounds a score.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from judging.awards.models import Award, ResultSnapshot
from judging.common.enums import EntryStatus, SheetState, StageKind, StageState
from judging.contests.models import AwardTier, Contest, Group, SpecialAward, Stage
from judging.contests.standings import group_standings
from judging.entries.models import Entry
from judging.entries.queries import taking_part
from judging.extensions import db
from judging.judges.models import Assignment, Judge
from judging.judges.queries import binding_conflict_exists
from judging.leaderboard.models import LivePhase, LiveState, Reveal
from judging.ranking import round_score
from judging.scoring.models import ScoreSheet

LIVE_STATES = (StageState.OPEN, StageState.CLOSED)
CENT = Decimal("0.01")


def money_text(value: Decimal | None) -> str | None:
    """A decimal as a string with two places, or None."""
    return None if value is None else str(Decimal(value).quantize(CENT))


def iso(value) -> str | None:
    """An aware datetime as ISO 8601 in UTC, or None."""
    return None if value is None else value.isoformat().replace("+00:00", "Z")


# ------------------------------------------------------------------ what is public


def contest_by_slug(slug: str) -> Contest | None:
    """The contest with this slug, or None."""
    return db.session.scalar(sa.select(Contest).where(Contest.slug == slug))


def is_live(stage: Stage) -> bool:
    """Whether a stage is a live roadshow now: Rule 8's view of it is public."""
    return stage.kind == StageKind.ROADSHOW and stage.state in LIVE_STATES


def live_stage(contest: Contest) -> Stage | None:
    """The contest's live roadshow stage (the latest if several), or None."""
    live = [s for s in contest.stages if is_live(s)]
    return max(live, key=lambda s: s.position) if live else None


def published_stage(contest: Contest, code: str) -> Stage | None:
    """The stage with this code if its results are published, else None (answered as 404)."""
    stage = contest.stage(code)
    return stage if stage is not None and stage.is_published else None


def public_stages(contest: Contest) -> list[Stage]:
    """The stages the public may know of: published ones and the live roadshow."""
    return [s for s in contest.stages if s.is_published or is_live(s)]


def _group_dict(group: Group) -> dict:
    return {"code": group.code, "name": group.name}


def _contest_dict(contest: Contest) -> dict:
    return {
        "slug": contest.slug,
        "name": contest.name,
        "year": contest.year,
        "organizers": contest.organizers,
    }


def stage_dict(stage: Stage) -> dict:
    """A public stage: code, name, kind, state, whether live; standings only when published."""
    return {
        "code": stage.code,
        "name": stage.name,
        "position": stage.position,
        "kind": str(stage.kind),
        "state": str(stage.state),
        "published": stage.is_published,
        "live": is_live(stage),
        "rule": str(stage.rule),
        "pitch_minutes": stage.pitch_minutes,
        "qa_minutes": stage.qa_minutes,
    }


def contest_summary(contest: Contest) -> dict:
    """A contest for the public: its groups and its public stages."""
    return {
        **_contest_dict(contest),
        "groups": [_group_dict(g) for g in contest.groups],
        "stages": [stage_dict(s) for s in public_stages(contest)],
        "has_awards": has_published_awards(contest),
    }


def contest_list() -> list[dict]:
    """Every contest, newest first, as public summaries (no stages)."""
    contests = db.session.scalars(sa.select(Contest).order_by(Contest.year.desc(), Contest.id))
    return [_contest_dict(c) for c in contests]


# ------------------------------------------------------------------ published standings


def _tier_awards(stage: Stage, group: Group) -> dict[int, list[dict]]:
    """Confirmed tier awards of (stage, group) by entry."""
    rows = db.session.execute(
        sa.select(Award.entry_id, AwardTier.name, AwardTier.position, Award.prize)
        .join(AwardTier, AwardTier.id == Award.tier_id)
        .where(AwardTier.stage_id == stage.id, AwardTier.group_id == group.id)
    )
    awards: dict[int, list[dict]] = defaultdict(list)
    for entry_id, name, position, prize in rows:
        awards[entry_id].append(
            {"kind": "tier", "name": name, "position": position, "prize": money_text(prize)}
        )
    return awards


def _special_awards(stage: Stage, entry_ids: list[int]) -> dict[int, list[dict]]:
    """Confirmed special awards frozen with this stage's results, by entry."""
    if not entry_ids:
        return {}
    rows = db.session.execute(
        sa.select(Award.entry_id, SpecialAward.name, Award.prize)
        .join(SpecialAward, SpecialAward.id == Award.special_award_id)
        .join(ResultSnapshot, ResultSnapshot.id == Award.snapshot_id)
        .where(ResultSnapshot.stage_id == stage.id, Award.entry_id.in_(entry_ids))
        .order_by(SpecialAward.name)
    )
    awards: dict[int, list[dict]] = defaultdict(list)
    for entry_id, name, prize in rows:
        awards[entry_id].append(
            {"kind": "special", "name": name, "position": None, "prize": money_text(prize)}
        )
    return awards


def _advanced(stage: Stage, entry_ids: list[int]) -> tuple[Stage | None, set[int]]:
    """The next stage and the entries the organizer advanced into it (or further)."""
    later = [s for s in stage.contest.stages if s.position > stage.position]
    if not later or not entry_ids:
        return None, set()
    nxt = min(later, key=lambda s: s.position)
    advanced = db.session.scalars(
        sa.select(Entry.id)
        .join(Stage, Stage.id == Entry.advanced_stage_id)
        .where(Entry.id.in_(entry_ids), Stage.position > stage.position)
    )
    return nxt, set(advanced)


def leaderboard(contest: Contest, stage: Stage, group: Group, version) -> dict:
    """A published stage's standings of one group, with award and advancement badges."""
    standings = group_standings(stage, group, version=version)
    ids = [row.entry_id for row in standings.rows]
    tiers = _tier_awards(stage, group)
    specials = _special_awards(stage, ids)
    nxt, advanced = _advanced(stage, ids)
    shared = defaultdict(int)
    for row in standings.rows:
        if row.rank is not None:
            shared[row.rank] += 1
    rows = []
    for row in standings.rows:
        facts = standings.facts(row)
        awards = sorted(tiers.get(row.entry_id, []), key=lambda a: a["position"])
        rows.append(
            {
                "rank": row.rank,
                "shared_rank": row.rank is not None and shared[row.rank] > 1,
                "code": facts.code,
                "title": facts.title,
                "organization": facts.organization,
                "is_student_team": facts.is_student_team,
                "score": money_text(row.score),
                "awards": awards + specials.get(row.entry_id, []),
                "advanced": row.entry_id in advanced,
            }
        )
    return {
        "contest": _contest_dict(contest),
        "stage": stage_dict(stage),
        "group": _group_dict(group),
        "next_stage": {"code": nxt.code, "name": nxt.name} if nxt is not None else None,
        "rows": rows,
    }


def has_published_awards(contest: Contest) -> bool:
    """Whether any confirmed tier award of a published stage exists (special awards come
    with the tier awards they were confirmed with)."""
    query = (
        sa.select(Award.id)
        .join(AwardTier, AwardTier.id == Award.tier_id)
        .join(Stage, Stage.id == AwardTier.stage_id)
        .where(Award.contest_id == contest.id, Stage.state == StageState.PUBLISHED)
        .limit(1)
    )
    return db.session.scalar(query) is not None


def published_award_rows(contest: Contest) -> list[tuple]:
    """Confirmed awards whose results are published: (award, entry, tier or special, stage)."""
    tier_rows = db.session.execute(
        sa.select(Award, Entry, AwardTier, Stage)
        .join(Entry, Entry.id == Award.entry_id)
        .join(AwardTier, AwardTier.id == Award.tier_id)
        .join(Stage, Stage.id == AwardTier.stage_id)
        .where(Award.contest_id == contest.id, Stage.state == StageState.PUBLISHED)
    ).all()
    special_rows = db.session.execute(
        sa.select(Award, Entry, SpecialAward, Stage)
        .join(Entry, Entry.id == Award.entry_id)
        .join(SpecialAward, SpecialAward.id == Award.special_award_id)
        .join(ResultSnapshot, ResultSnapshot.id == Award.snapshot_id)
        .join(Stage, Stage.id == ResultSnapshot.stage_id)
        .where(Award.contest_id == contest.id, Stage.state == StageState.PUBLISHED)
    ).all()
    return [tuple(r) for r in tier_rows] + [tuple(r) for r in special_rows]


def _entry_dict(entry: Entry, groups: dict[int, Group] | None = None) -> dict:
    group = groups[entry.group_id] if groups else entry.group
    return {
        "code": entry.code,
        "title": entry.title,
        "organization": entry.organization,
        "group": group.code,
    }


def awards(contest: Contest) -> dict:
    """The published prize list: tier awards per stage and group, special awards, totals."""
    groups = {g.id: g for g in contest.groups}
    tiers: dict[tuple[int, int], list[dict]] = defaultdict(list)
    specials: dict[int, dict] = {}
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for award, entry, what, stage in published_award_rows(contest):
        totals[groups[entry.group_id].code] += award.prize
        if isinstance(what, AwardTier):
            tiers[(stage.id, what.group_id)].append(
                {
                    "tier": what.name,
                    "position": what.position,
                    "prize": money_text(award.prize),
                    "entry": _entry_dict(entry, groups),
                }
            )
        else:
            item = specials.setdefault(
                what.id,
                {"name": what.name, "prize": money_text(what.prize), "entries": []},
            )
            item["entries"].append(_entry_dict(entry, groups))
    stages = []
    for stage in contest.stages:
        stage_groups = [
            {
                **_group_dict(group),
                "awards": sorted(
                    tiers[(stage.id, group.id)], key=lambda a: (a["position"], a["entry"]["code"])
                ),
            }
            for group in contest.groups
            if tiers.get((stage.id, group.id))
        ]
        if stage_groups:
            stages.append({"code": stage.code, "name": stage.name, "groups": stage_groups})
    for item in specials.values():
        item["entries"].sort(key=lambda e: e["code"])
    overall = sum(totals.values(), Decimal(0))
    return {
        "contest": _contest_dict(contest),
        "stages": stages,
        "special_awards": sorted(specials.values(), key=lambda s: s["name"]),
        "prize_totals": {
            "groups": {code: money_text(v) for code, v in sorted(totals.items())},
            "overall": money_text(overall),
        },
    }


# ------------------------------------------------------------------ the live final


def stage_entries(stage: Stage) -> list[Entry]:
    """The competing entries taking part in a stage, by group and code (the running order)."""
    part = taking_part(stage.contest_id)
    return list(
        db.session.scalars(
            sa.select(Entry)
            .join(Group, Group.id == Entry.group_id)
            .where(
                Entry.id.in_(sa.select(part.c.entry_id).where(part.c.stage_id == stage.id)),
                Entry.status == EntryStatus.REGISTERED,
            )
            .order_by(Group.position, Group.id, Entry.code)
        )
    )


def live_state(stage: Stage) -> LiveState | None:
    """The room state of a stage, if the organizer has used the live control."""
    return db.session.scalar(sa.select(LiveState).where(LiveState.stage_id == stage.id))


def submission_counts(stage: Stage, entry_ids: list[int] | None = None) -> dict[int, tuple]:
    """Per entry: (assigned non-conflicted judges, of them submitted), in one query."""
    submitted = sa.func.count(ScoreSheet.id)
    query = (
        sa.select(Assignment.entry_id, sa.func.count(Assignment.id), submitted)
        .outerjoin(
            ScoreSheet,
            sa.and_(
                ScoreSheet.stage_id == Assignment.stage_id,
                ScoreSheet.judge_id == Assignment.judge_id,
                ScoreSheet.entry_id == Assignment.entry_id,
                ScoreSheet.state == SheetState.SUBMITTED,
            ),
        )
        .where(
            Assignment.stage_id == stage.id,
            ~binding_conflict_exists(Assignment.judge_id, Assignment.entry_id),
        )
        .group_by(Assignment.entry_id)
    )
    if entry_ids is not None:
        query = query.where(Assignment.entry_id.in_(entry_ids))
    return {entry_id: (assigned, done) for entry_id, assigned, done in db.session.execute(query)}


@dataclass
class JudgeStatus:
    """One assigned judge of the entry on stage, for the organizer: submitted or not."""

    judge_id: int
    name: str
    submitted: bool


def judge_statuses(stage: Stage, entry: Entry) -> list[JudgeStatus]:
    """The entry's assigned, non-conflicted judges in the stage and whether each submitted."""
    rows = db.session.execute(
        sa.select(Judge.id, Judge.name, ScoreSheet.state)
        .join(Assignment, Assignment.judge_id == Judge.id)
        .outerjoin(
            ScoreSheet,
            sa.and_(
                ScoreSheet.stage_id == Assignment.stage_id,
                ScoreSheet.judge_id == Assignment.judge_id,
                ScoreSheet.entry_id == Assignment.entry_id,
            ),
        )
        .where(
            Assignment.stage_id == stage.id,
            Assignment.entry_id == entry.id,
            ~binding_conflict_exists(Assignment.judge_id, Assignment.entry_id),
        )
        .order_by(Judge.name, Judge.id)
    )
    return [
        JudgeStatus(judge_id, name, state == SheetState.SUBMITTED) for judge_id, name, state in rows
    ]


def reveals(stage: Stage) -> dict[int, Reveal]:
    """The stage's revealed scores by entry."""
    found = db.session.scalars(sa.select(Reveal).where(Reveal.stage_id == stage.id))
    return {r.entry_id: r for r in found}


def reveal_dict(reveal: Reveal) -> dict:
    """A revealed score for the public: totals ascending, the dropped ones marked; no judges."""
    n, cut = len(reveal.totals), reveal.cut
    totals = []
    for i, item in enumerate(reveal.totals):
        dropped = "low" if i < cut else "high" if i >= n - cut else None
        totals.append({"total": money_text(Decimal(item["total"])), "dropped": dropped})
    return {"score": money_text(reveal.score), "cut": cut, "totals": totals}


def _mean(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values) if values else Decimal(0)


def revealed_standings(stage: Stage, entries: dict[int, Entry], found: dict[int, Reveal]):
    """Revealed entries per group code, ranked by revealed score (then the mean of all
    sheets, Rule 4 a); equal on both share the rank. Provisional until published."""
    by_group: dict[int, list[tuple]] = defaultdict(list)
    for entry_id, reveal in found.items():
        entry = entries.get(entry_id)
        if entry is None:
            continue
        key = (reveal.score, round_score(_mean(reveal.total_values)))
        by_group[entry.group_id].append((key, entry, reveal))
    result = {}
    for group in stage.contest.groups:
        rows = sorted(by_group.get(group.id, []), key=lambda r: (-r[0][0], -r[0][1], r[1].code))
        ranked, previous, rank = [], None, 0
        for i, (key, entry, reveal) in enumerate(rows, 1):
            if key != previous:
                rank, previous = i, key
            ranked.append(
                {
                    "rank": rank,
                    "code": entry.code,
                    "title": entry.title,
                    "organization": entry.organization,
                    "score": money_text(reveal.score),
                }
            )
        result[group.code] = ranked
    return result


def live(contest: Contest) -> dict | None:
    """Rule 8's public view of the live roadshow, or None when no stage is live."""
    stage = live_stage(contest)
    if stage is None:
        return None
    entries = {e.id: e for e in stage_entries(stage)}
    state = live_state(stage)
    found = reveals(stage)
    groups = {g.id: g for g in contest.groups}
    on_stage = None
    current = entries.get(state.entry_id) if state is not None and state.entry_id else None
    if current is not None:
        assigned, done = submission_counts(stage, [current.id]).get(current.id, (0, 0))
        reveal = found.get(current.id)
        running = state.phase != LivePhase.IDLE
        on_stage = {
            "entry": {**_entry_dict(current, groups), "id": current.id},
            "group": _group_dict(groups[current.group_id]),
            "phase": str(state.phase),
            "started_at": iso(state.phase_started_at) if running else None,
            "seconds": state.phase_seconds if running else None,
            "ends_at": iso(state.ends_at),
            "judges": {"assigned": assigned, "submitted": done},
            "reveal": reveal_dict(reveal) if reveal is not None else None,
        }
    if current is not None:
        focus = groups[current.group_id]
    elif found:
        latest = max(found.values(), key=lambda r: (r.revealed_at, r.id))
        shown = entries.get(latest.entry_id)
        focus = groups.get(shown.group_id) if shown is not None else None
    else:
        focus = None
    focus = focus or (contest.groups[0] if contest.groups else None)
    return {
        "contest": _contest_dict(contest),
        "stage": {**stage_dict(stage), "id": stage.id},
        "on_stage": on_stage,
        "focus_group": _group_dict(focus) if focus is not None else None,
        "standings": revealed_standings(stage, entries, found),
        "revealed": len(found),
        "entries": len(entries),
    }
