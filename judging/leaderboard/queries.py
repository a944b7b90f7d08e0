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
from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa

from judging.awards.models import Award, Publication, ResultSnapshot
from judging.awards.prizes import PrizeRow, prize_totals
from judging.awards.workflow import current_publication
from judging.common.db import plain_rows
from judging.common.enums import StageState
from judging.contests.models import AwardTier, Contest, Group, SpecialAward, Stage
from judging.entries.models import Entry
from judging.extensions import db
from judging.live.models import LivePhase, Reveal
from judging.live.queries import (
    is_live,
    live_stage,
    live_state,
    reveals,
    stage_entries,
    submission_counts,
)
from judging.ranking import CENT
from judging.standings.groups import group_standings
from judging.standings.participation import taking_part


def money_text(value: Decimal | None) -> str | None:
    """A decimal as a string with two places, or None."""
    return None if value is None else str(Decimal(value).quantize(CENT))


def iso(value) -> str | None:
    """An aware datetime as ISO 8601 in UTC, or None."""
    return None if value is None else value.isoformat().replace("+00:00", "Z")


# ------------------------------------------------------------------ what is public


def contest_by_slug(slug: str) -> Contest | None:
    """The public contest with this slug, or None (a draft is not public)."""
    return db.session.scalar(sa.select(Contest).where(Contest.slug == slug, Contest.is_public))


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
        "trim": stage.trim,
        "min_sheets_to_trim": stage.min_sheets_to_trim,
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
    """Every public contest, newest first, as public summaries (no stages)."""
    contests = db.session.scalars(
        sa.select(Contest).where(Contest.is_public).order_by(Contest.year.desc(), Contest.id)
    )
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


def _special_awards(stage: Stage, group: Group) -> dict[int, list[dict]]:
    """Confirmed special awards frozen with this stage's results, by entry of the group."""
    rows = db.session.execute(
        sa.select(Award.entry_id, SpecialAward.name, Award.prize)
        .join(SpecialAward, SpecialAward.id == Award.special_award_id)
        .join(ResultSnapshot, ResultSnapshot.id == Award.snapshot_id)
        .join(Entry, Entry.id == Award.entry_id)
        .where(ResultSnapshot.stage_id == stage.id, Entry.group_id == group.id)
        .order_by(SpecialAward.name)
    )
    awards: dict[int, list[dict]] = defaultdict(list)
    for entry_id, name, prize in rows:
        awards[entry_id].append(
            {"kind": "special", "name": name, "position": None, "prize": money_text(prize)}
        )
    return awards


def _advanced(stage: Stage) -> tuple[Stage | None, set[int]]:
    """The next stage and the entries that take part in it (advanced into it, or assigned
    or scored there)."""
    nxt = stage.next_stage
    if nxt is None:
        return None, set()
    part = taking_part(stage.contest_id, nxt.id)
    return nxt, set(db.session.scalars(sa.select(part.c.entry_id)))


def _live_rows(stage: Stage, group: Group, version) -> list[dict]:
    """A group's standings from the live engine, as frozen rows (a published stage that
    has no confirmed snapshot, as databases from before snapshots were published)."""
    standings = group_standings(stage, group, version=version)
    _nxt, advanced = _advanced(stage)
    return [
        {
            "entry": row.entry_id,
            "rank": row.rank,
            "score": money_text(row.score),
            "tied": row.tied,
            "advanced": row.entry_id in advanced,
            "parts": [
                {
                    "stage": p.code,
                    "weight": str(p.weight),
                    "score": money_text(p.score),
                    "part": None if p.value is None else format(p.value, "f"),
                }
                for p in standings.parts.get(row.entry_id, ())
            ]
            or None,
        }
        for row in standings.rows
    ]


def _frozen_rows(payload: dict, group: Group) -> list[dict]:
    """A group's rows of a confirmed snapshot, in rank order (fully tied entries by code,
    as the engine lists them; entries without a rank last)."""
    rows = [
        {
            "entry": int(key),
            "rank": item.get("rank"),
            "score": item.get("score"),
            "tied": bool(item.get("tied")),
            "advanced": item.get("advanced") is True,
            "parts": item.get("parts"),
            "code": item.get("code") or "",
        }
        for key, item in payload.get("entries", {}).items()
        if item.get("group") == group.code and item.get("code") is not None
    ]
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["code"]))
    return rows


def corrections(stage: Stage, group: Group | None = None) -> list[dict]:
    """The stage's correction notices (成绩更正), oldest first: each republication whose
    public results differ from the previous publication, with its date and, per entry (of
    one group when ``group`` is given), the old and new values of what changed."""
    published = db.session.scalars(
        sa.select(Publication)
        .where(Publication.stage_id == stage.id, Publication.correction.is_not(None))
        .order_by(Publication.id)
    ).all()
    if not any(p.correction for p in published):
        return []
    titles = dict(
        db.session.execute(
            sa.select(Entry.code, Entry.title).where(Entry.contest_id == stage.contest_id)
        ).all()
    )
    notices = []
    for publication in published:
        entries: dict[str, dict] = {}
        for c in publication.correction or ():
            if group is not None and c.get("group") != group.code:
                continue
            item = entries.setdefault(
                c["code"], {"code": c["code"], "title": titles.get(c["code"], ""), "changes": []}
            )
            item["changes"].append({"field": c["field"], "old": c["old"], "new": c["new"]})
        if entries:
            notices.append(
                {"date": iso(publication.published_at), "entries": list(entries.values())}
            )
    return notices


class BoardRows(Sequence):
    """A group's published rows, each made into its public dict when it is read: a page
    of 100 out of 100,000 builds 100 dicts. Equal to the list of those dicts."""

    def __init__(self, rows_in, facts, tiers, specials):
        self._rows = [row for row in rows_in if row["entry"] in facts]
        self._facts, self._tiers, self._specials = facts, tiers, specials
        self._shared: dict[int, int] = defaultdict(int)
        for row in rows_in:
            if row["rank"] is not None:
                self._shared[row["rank"]] += 1

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def weighted(self) -> bool:
        """Whether the rows carry weighted stage parts (a combined score)."""
        return any(row.get("parts") for row in self._rows)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._item(row) for row in self._rows[index]]
        return self._item(self._rows[index])

    def __eq__(self, other) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    def __repr__(self) -> str:
        return f"<BoardRows {len(self)}>"

    def _item(self, row: dict) -> dict:
        entry_id = row["entry"]
        code, title, organization, student = self._facts[entry_id]
        tier_awards = self._tiers.get(entry_id)
        awards = sorted(tier_awards, key=lambda a: a["position"]) if tier_awards else []
        item = {
            "rank": row["rank"],
            "shared_rank": row["rank"] is not None and self._shared[row["rank"]] > 1,
            "code": code,
            "title": title,
            "organization": organization,
            "is_student_team": student,
            "score": row["score"],
            "awards": awards + self._specials.get(entry_id, []),
            "advanced": row["advanced"],
        }
        if row.get("parts"):
            item["parts"] = [
                {**part, "percent": format(Decimal(part["weight"]).scaleb(2).normalize(), "f")}
                for part in row["parts"]
            ]
        return item


def leaderboard(contest: Contest, stage: Stage, group: Group, version) -> dict:
    """A published stage's standings of one group as published: the confirmed snapshot
    the organizer published (frozen: later changes show only once republished, with a
    correction notice), the entries' public facts, and award and advancement badges.
    ``rows`` is a ``BoardRows`` (each row's dict made when read)."""
    publication = current_publication(stage)
    snapshot = publication.snapshot if publication is not None else None
    frozen = _frozen_rows(snapshot.payload, group) if snapshot is not None else None
    rows_in = frozen if frozen is not None else _live_rows(stage, group, version)
    facts = {
        entry_id: (code, title, organization, bool(student))
        for entry_id, code, title, organization, student in plain_rows(
            sa.select(
                Entry.id, Entry.code, Entry.title, Entry.organization, Entry.is_student_team
            ).where(Entry.contest_id == contest.id, Entry.group_id == group.id)
        )
    }
    rows = BoardRows(rows_in, facts, _tier_awards(stage, group), _special_awards(stage, group))
    nxt = stage.next_stage
    return {
        "contest": _contest_dict(contest),
        "stage": stage_dict(stage),
        "group": _group_dict(group),
        "next_stage": {"code": nxt.code, "name": nxt.name} if nxt is not None else None,
        "published_at": iso(publication.published_at) if publication is not None else None,
        "weighted": rows.weighted,
        "stage_names": {s.code: s.name for s in contest.stages},
        "corrections": corrections(stage, group),
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
    prizes: list[PrizeRow] = []
    for award, entry, what, stage in published_award_rows(contest):
        prizes.append(PrizeRow(groups[entry.group_id].code, entry.id, what.name, award.prize))
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
    totals = prize_totals(prizes)  # the exact sums of judging.awards.prizes
    return {
        "contest": _contest_dict(contest),
        "stages": stages,
        "special_awards": sorted(specials.values(), key=lambda s: s["name"]),
        "prize_totals": {
            "groups": {code: money_text(v) for code, v in sorted(totals.by_group.items())},
            "overall": money_text(totals.overall),
        },
    }


# ------------------------------------------------------------------ the live final


def reveal_dict(reveal: Reveal) -> dict:
    """A revealed score for the public: totals ascending, the dropped ones marked; no judges."""
    n, cut = len(reveal.totals), reveal.cut
    totals = []
    for i, item in enumerate(reveal.totals):
        dropped = "low" if i < cut else "high" if i >= n - cut else None
        totals.append({"total": money_text(Decimal(item["total"])), "dropped": dropped})
    return {"score": money_text(reveal.score), "cut": cut, "totals": totals}


def revealed_standings(stage: Stage, entries: dict[int, Entry], found: dict[int, Reveal]):
    """Revealed entries per group code, ranked by the same engine as every other ranking
    (Rules 2–4 with exact tie-breaks, and the stage weights when set): the group's
    standings with only the revealed entries kept, in order. Ranks are competition ranks
    among the revealed; an entry tied with the one above through every step shares its
    rank. Where two neighbours share the rounded score, ``tiebreak`` names the step that
    separated them. Provisional until published."""
    result = {}
    for group in stage.contest.groups:
        standings = group_standings(stage, group)
        shown = [
            row
            for row in standings.rows
            if row.entry_id in found and row.entry_id in entries and row.rank is not None
        ]
        ranked = []
        for index, row in enumerate(shown):
            above = shown[index - 1] if index else None
            rank = index + 1
            tiebreak = None
            if above is not None and above.score == row.score:
                step, mine, theirs = standings.separation(above, row)
                if step == "unresolved":
                    rank = ranked[-1]["rank"]
                tiebreak = {
                    "step": step,
                    "criterion": _criterion_name(standings.criteria, step),
                    "above": money_text_exact(mine),
                    "this": money_text_exact(theirs),
                }
            entry = entries[row.entry_id]
            ranked.append(
                {
                    "rank": rank,
                    "code": entry.code,
                    "title": entry.title,
                    "organization": entry.organization,
                    "score": money_text(row.score),
                    "tiebreak": tiebreak,
                }
            )
        result[group.code] = ranked
    return result


def _criterion_name(criteria: tuple[str, ...], step: str) -> str | None:
    if step.startswith("criterion:"):
        index = int(step.partition(":")[2])
        return criteria[index] if index < len(criteria) else None
    return None


def money_text_exact(value: Decimal | None) -> str | None:
    """A value with 2 decimals, or as many more (up to 6) as it carries (a mean of 85.125
    is not 85.13 when it decides a tie)."""
    if value is None:
        return None
    rounded = Decimal(value).quantize(CENT)
    if rounded == value:
        return str(rounded)
    return format(Decimal(value).quantize(Decimal("0.000001")).normalize(), "f")


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
    order = list(entries.values())  # the running order (``stage_entries``)
    if current is not None:
        following = order[order.index(current) + 1 :]
        up_next = following[0] if following else None
    else:  # before the first entry only: between entries the organizer picks who is next
        up_next = order[0] if order and not found and state is None else None
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
        "up_next": _entry_dict(up_next, groups) if up_next is not None else None,
        "focus_group": _group_dict(focus) if focus is not None else None,
        "standings": revealed_standings(stage, entries, found),
        "revealed": len(found),
        "entries": len(entries),
        "groups": _group_counts(contest, entries, found),
    }


def _group_counts(contest: Contest, entries: dict[int, Entry], found: dict[int, Reveal]) -> dict:
    """Per group code: the stage's entries of the group and how many of them are revealed
    (the big screen's "天使组 · 已亮分 5 / 12" is that group's own count)."""
    counts = {g.id: {"revealed": 0, "entries": 0} for g in contest.groups}
    for entry in entries.values():
        if entry.group_id in counts:
            counts[entry.group_id]["entries"] += 1
            counts[entry.group_id]["revealed"] += entry.id in found
    return {g.code: counts[g.id] for g in contest.groups}
