"""Rules 5 and 6 as pure code: advancement, award tiers, special awards, prize totals, snapshots.

Plain standings in (``judging.ranking.Standing``), plain results out; no Flask, no database.

- Advancement (Rule 5): the top ``quota`` of a group advance (an entry advances when its
  competition rank is at most the quota), or everyone whose official score is at least
  ``threshold``. Entries that share the rank straddling the quota are a tie across the
  cut: it is flagged, and by default all of them advance, so more than ``quota`` may
  advance (the reason is recorded). Entries without a score never advance.
- Award tiers (Rule 6): tiers are filled in rank order by position: an entry of
  competition rank r gets the first tier whose cumulative quota is at least r; entries
  ranked beyond the total quota get none. Entries sharing a rank always share a tier,
  so a tie across a tier boundary makes that tier hold more than its quota (and may
  leave a later tier short); it is flagged with the tier and the entries, never cut.
- Special awards: given by a rule, ``student_team_reached:<stage code>`` = every student
  team that reached that stage. An entry holds at most one tier award, plus any number
  of special awards.
- Prize totals are exact sums per group and overall.
- Snapshots: results frozen as canonical JSON (sorted keys, no whitespace, Decimals as
  strings with 2 places — more only where 2 would hide a digit, as in a weight of
  0.125 — and no floats) with a sha256 content hash; two snapshots can be diffed entry
  by entry (rank, score, tie, advancement, awards, prize) and rule by rule.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    Inexact,
    InvalidOperation,
    Overflow,
    Rounded,
)
from typing import Any, Protocol

from judging.ranking import CENT, Standing

__all__ = [
    "AdvancementProposal",
    "EntryChange",
    "FieldChange",
    "PrizeRow",
    "PrizeTotals",
    "SnapshotDiff",
    "SpecialAwardRow",
    "SpecialEntry",
    "SpecialInput",
    "TierAllocation",
    "TierAward",
    "TierFill",
    "TierInput",
    "allocate_tiers",
    "apply_special_awards",
    "canonical_json",
    "content_hash",
    "diff_snapshots",
    "parse_special_rule",
    "prize_rows",
    "prize_totals",
    "propose_advancement",
    "public_changes",
    "snapshot_payload",
]

SNAPSHOT_VERSION = 1
#: Money arithmetic: any rounding at all raises, so totals are exact sums.
_MONEY = Context(prec=40, traps=[Inexact, Rounded, InvalidOperation, Overflow])
_MONEY_ZERO = Decimal("0.00")


def _ranked(standings: Iterable[Standing]) -> list[Standing]:
    """The standings with a rank, in (rank, code) order; ValueError on a repeated entry."""
    standings = list(standings)
    ids = [s.entry_id for s in standings]
    if len(set(ids)) != len(ids):
        raise ValueError("an entry appears more than once in the standings")
    return sorted(
        (s for s in standings if s.rank is not None and s.score is not None),
        key=lambda s: (s.rank, s.code, s.entry_id),
    )


def _rank_groups(ranked: list[Standing]) -> list[list[Standing]]:
    """Consecutive runs of entries sharing a rank."""
    groups: list[list[Standing]] = []
    for standing in ranked:
        if groups and groups[-1][0].rank == standing.rank:
            groups[-1].append(standing)
        else:
            groups.append([standing])
    return groups


# ------------------------------------------------------------------ advancement


@dataclass(frozen=True, slots=True)
class AdvancementProposal:
    """Who advances from one group, and any tie across the cut (Rule 5).

    ``advancing`` and ``not_advancing`` are entry ids in rank order (entries with no
    score come last in ``not_advancing``). ``cut_tie`` are the entries sharing the rank
    that straddles the quota (empty with a threshold); ``reason`` explains a tie or a
    count different from the quota, for the organizer.
    """

    advancing: tuple[int, ...]
    not_advancing: tuple[int, ...]
    cut_tie: tuple[int, ...]
    cut_tie_rank: int | None
    tie_advances: bool
    quota: int | None
    threshold: Decimal | None
    reason: str

    @property
    def over_quota(self) -> int:
        """How many more entries advance than the quota allows (0 without a quota)."""
        return max(0, len(self.advancing) - self.quota) if self.quota is not None else 0


def propose_advancement(
    standings: Iterable[Standing],
    *,
    quota: int | None = None,
    threshold: Decimal | None = None,
    advance_cut_tie: bool = True,
) -> AdvancementProposal:
    """Propose who advances: the top ``quota`` by rank, or everyone scoring ``threshold``+.

    Give exactly one of ``quota`` and ``threshold``. With ``advance_cut_tie`` False the
    entries tied across the cut are held back (listed in ``cut_tie``) for the jury.
    """
    if (quota is None) == (threshold is None):
        raise ValueError("give exactly one of quota and threshold")
    if quota is not None and quota < 0:
        raise ValueError("the advancement quota must not be negative")
    if threshold is not None and not isinstance(threshold, Decimal):
        raise TypeError("the advancement threshold must be a Decimal")
    standings = list(standings)
    ranked = _ranked(standings)
    unranked = sorted(
        (s for s in standings if s.rank is None or s.score is None),
        key=lambda s: (s.code, s.entry_id),
    )
    cut_tie: tuple[int, ...] = ()
    cut_rank = None
    reason = ""
    if threshold is not None:
        advancing = [s for s in ranked if s.score >= threshold]
        reason = f"{len(advancing)} entries score {threshold} or more"
    else:
        advancing = [s for s in ranked if s.rank <= quota]
        for group in _rank_groups(ranked):
            rank = group[0].rank
            if rank <= quota < rank + len(group) - 1:
                cut_tie = tuple(s.entry_id for s in group)
                cut_rank = rank
                if advance_cut_tie:
                    reason = (
                        f"{len(group)} entries share rank {rank} across the cut at {quota}: "
                        f"all advance ({len(advancing)} for a quota of {quota})"
                    )
                else:
                    held = set(cut_tie)
                    advancing = [s for s in advancing if s.entry_id not in held]
                    reason = (
                        f"{len(group)} entries share rank {rank} across the cut at {quota}: "
                        f"held back for the jury ({len(advancing)} advance for now)"
                    )
                break
        else:
            if len(advancing) < quota:
                reason = f"only {len(advancing)} ranked entries for a quota of {quota}"
    advancing_ids = {s.entry_id for s in advancing}
    return AdvancementProposal(
        advancing=tuple(s.entry_id for s in advancing),
        not_advancing=tuple(s.entry_id for s in ranked if s.entry_id not in advancing_ids)
        + tuple(s.entry_id for s in unranked),
        cut_tie=cut_tie,
        cut_tie_rank=cut_rank,
        tie_advances=advance_cut_tie,
        quota=quota,
        threshold=threshold,
        reason=reason,
    )


# ------------------------------------------------------------------ award tiers


@dataclass(frozen=True, slots=True)
class TierInput:
    """An award tier of one stage and group: filled in position order up to its quota."""

    tier_id: int
    name: str
    position: int
    quota: int
    prize: Decimal


@dataclass(frozen=True, slots=True)
class TierAward:
    """One entry's tier award (at most one per entry)."""

    entry_id: int
    code: str
    rank: int
    tier_id: int
    tier_name: str
    prize: Decimal
    group_code: str = ""


@dataclass(frozen=True, slots=True)
class TierFill:
    """How one tier was filled: its holders, and the tie that overfilled it, if any.

    ``tied_entries`` are the entries sharing ``tied_rank`` across the tier's lower
    boundary, which is why the tier holds more than its quota; a tier short of its quota
    (a tie above it used its places, or too few entries) has ``shortfall`` > 0.
    """

    tier_id: int
    name: str
    quota: int
    holders: tuple[int, ...]
    tied_rank: int | None
    tied_entries: tuple[int, ...]

    @property
    def over_quota(self) -> int:
        """How many more entries the tier holds than its quota."""
        return max(0, len(self.holders) - self.quota)

    @property
    def shortfall(self) -> int:
        """How many of the tier's places are empty."""
        return max(0, self.quota - len(self.holders))

    @property
    def is_flagged(self) -> bool:
        """Whether a tie across the tier's boundary made it hold more than its quota."""
        return bool(self.tied_entries)


@dataclass(frozen=True, slots=True)
class TierAllocation:
    """The tier awards of one group, every tier's fill, and the flagged boundary ties."""

    awards: tuple[TierAward, ...]
    tiers: tuple[TierFill, ...]
    no_award: tuple[int, ...]
    group_code: str = ""

    @property
    def boundary_ties(self) -> tuple[TierFill, ...]:
        """The tiers overfilled by a tie across their boundary, for the organizer."""
        return tuple(fill for fill in self.tiers if fill.is_flagged)

    def award_of(self, entry_id: int) -> TierAward | None:
        """The entry's tier award, if it has one."""
        return next((a for a in self.awards if a.entry_id == entry_id), None)


def allocate_tiers(
    standings: Iterable[Standing], tiers: Iterable[TierInput], *, group_code: str = ""
) -> TierAllocation:
    """Fill the award tiers of one group in rank order by quota (Rule 6).

    Rank r gets the first tier (by position) whose cumulative quota is at least r; tied
    entries share a tier even past its quota, and that tier is flagged.
    """
    standings = list(standings)
    tiers = sorted(tiers, key=lambda t: (t.position, t.tier_id))
    for tier in tiers:
        if tier.quota < 0:
            raise ValueError(f"tier {tier.name}: the quota must not be negative")
        if not isinstance(tier.prize, Decimal) or tier.prize < 0:
            raise ValueError(f"tier {tier.name}: the prize must be a Decimal of 0 or more")
    ceilings = []
    running = 0
    for tier in tiers:
        running += tier.quota
        ceilings.append(running)
    holders: list[list[Standing]] = [[] for _ in tiers]
    awards = []
    no_award = []
    for standing in _ranked(standings):
        index = bisect_left(ceilings, standing.rank)
        if index == len(tiers):
            no_award.append(standing.entry_id)
            continue
        tier = tiers[index]
        holders[index].append(standing)
        awards.append(
            TierAward(
                standing.entry_id,
                standing.code,
                standing.rank,
                tier.tier_id,
                tier.name,
                tier.prize,
                group_code,
            )
        )
    fills = []
    for tier, held in zip(tiers, holders, strict=True):
        tied_rank = None
        tied: tuple[int, ...] = ()
        if len(held) > tier.quota:
            # The overflow is the run of entries sharing the last rank the tier took.
            tied_rank = held[-1].rank
            tied = tuple(s.entry_id for s in held if s.rank == tied_rank)
        fills.append(
            TierFill(
                tier.tier_id,
                tier.name,
                tier.quota,
                tuple(s.entry_id for s in held),
                tied_rank,
                tied,
            )
        )
    unranked = [
        s.entry_id
        for s in sorted(standings, key=lambda s: (s.code, s.entry_id))
        if s.rank is None or s.score is None
    ]
    return TierAllocation(tuple(awards), tuple(fills), tuple(no_award + unranked), group_code)


# ------------------------------------------------------------------ special awards


@dataclass(frozen=True, slots=True)
class SpecialEntry:
    """What special-award rules look at: whether a student team, which stages it reached.

    An entry *reached* a stage when it takes part in it: it was advanced into it, or has
    an assignment or a score there.
    """

    entry_id: int
    is_student_team: bool
    reached_stage_codes: frozenset[str]
    group_code: str = ""


@dataclass(frozen=True, slots=True)
class SpecialInput:
    """A special award (专项奖): its rule and the prize each recipient gets."""

    award_id: int
    name: str
    rule: str
    prize: Decimal


@dataclass(frozen=True, slots=True)
class SpecialAwardRow:
    """One special award given to one entry."""

    award_id: int
    name: str
    entry_id: int
    prize: Decimal
    group_code: str = ""


def parse_special_rule(rule: str) -> tuple[str, str]:
    """Split a special-award rule into (kind, argument); ValueError naming an unknown rule.

    The grammar: ``student_team_reached:<stage code>``.
    """
    kind, sep, argument = str(rule).strip().partition(":")
    kind, argument = kind.strip(), argument.strip()
    if kind == "student_team_reached" and sep and argument:
        return kind, argument
    raise ValueError(
        f"unknown special award rule {rule!r}; expected student_team_reached:<stage code>"
    )


def apply_special_awards(
    entries: Iterable[SpecialEntry], specials: Iterable[SpecialInput]
) -> list[SpecialAwardRow]:
    """Every (special award, entry) its rule grants, by award id then entry id.

    Every rule is checked before any is applied, so one bad rule gives nothing at all.
    """
    entries = sorted(entries, key=lambda e: e.entry_id)
    ids = [e.entry_id for e in entries]
    if len(set(ids)) != len(ids):
        raise ValueError("an entry appears more than once")
    specials = sorted(specials, key=lambda s: s.award_id)
    parsed = []
    for special in specials:
        if not isinstance(special.prize, Decimal) or special.prize < 0:
            raise ValueError(f"special award {special.name}: the prize must be a Decimal >= 0")
        parsed.append((special, parse_special_rule(special.rule)))
    rows = []
    for special, (_kind, stage_code) in parsed:
        # The one kind there is: student_team_reached.
        rows.extend(
            SpecialAwardRow(
                special.award_id, special.name, entry.entry_id, special.prize, entry.group_code
            )
            for entry in entries
            if entry.is_student_team and stage_code in entry.reached_stage_codes
        )
    return rows


# ------------------------------------------------------------------ prize totals


class _HasPrize(Protocol):
    """Anything with a group code and a prize: a prize row, a tier or special award."""

    group_code: str
    prize: Decimal


@dataclass(frozen=True, slots=True)
class PrizeRow:
    """One line of the prize list (获奖名单): an award to an entry of a group."""

    group_code: str
    entry_id: int
    award_name: str
    prize: Decimal


@dataclass(frozen=True, slots=True)
class PrizeTotals:
    """Prize money per group (in first-seen order) and overall, with row counts."""

    by_group: dict[str, Decimal]
    count_by_group: dict[str, int]
    overall: Decimal
    count: int


def prize_rows(
    allocations: Iterable[TierAllocation], specials: Iterable[SpecialAwardRow] = ()
) -> list[PrizeRow]:
    """The prize list's rows: every tier award, then every special award."""
    rows = [
        PrizeRow(award.group_code, award.entry_id, award.tier_name, award.prize)
        for allocation in allocations
        for award in allocation.awards
    ]
    rows.extend(PrizeRow(s.group_code, s.entry_id, s.name, s.prize) for s in specials)
    return rows


def prize_totals(rows: Iterable[_HasPrize]) -> PrizeTotals:
    """Exact prize totals per group and overall of rows carrying ``group_code`` and ``prize``.

    Raises TypeError for a prize that is not a Decimal (a float would not add up exactly).
    """
    by_group: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    overall = _MONEY_ZERO
    count = 0
    for row in rows:
        prize = row.prize
        if not isinstance(prize, Decimal):
            raise TypeError(f"prize {prize!r} is not a Decimal")
        group = row.group_code
        by_group[group] = _MONEY.add(by_group.get(group, _MONEY_ZERO), prize)
        counts[group] = counts.get(group, 0) + 1
        overall = _MONEY.add(overall, prize)
        count += 1
    return PrizeTotals(by_group, counts, overall, count)


# ------------------------------------------------------------------ snapshots


def _money(value: Decimal | None) -> str | None:
    """A Decimal as a string with 2 places (half-up), as snapshots store them."""
    if value is None:
        return None
    return format(value.quantize(CENT, rounding=ROUND_HALF_UP), "f")


def _decimal_text(value: Decimal) -> str:
    """A Decimal as text with 2 places, or more where 2 would lose digits (a weight 0.125)."""
    rounded = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return format(rounded if rounded == value else value, "f")


def _canonical(value: Any) -> Any:
    """Plain JSON values: Decimals as text (``_decimal_text``); no floats (not exact)."""
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        raise TypeError(f"float {value!r} in a snapshot: use Decimal")
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(_canonical(v) for v in value)
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    raise TypeError(f"{type(value).__name__} cannot go into a snapshot")


def snapshot_payload(
    *,
    rules: Mapping[str, Any],
    standings: Mapping[str, Sequence[Standing]],
    advancement: Mapping[str, AdvancementProposal] | None = None,
    tiers: Mapping[str, TierAllocation] | None = None,
    specials: Iterable[SpecialAwardRow] = (),
    parts: Mapping[int, Sequence[Mapping[str, Any]]] | None = None,
) -> dict[str, Any]:
    """Freeze results as a JSON-ready dict: the rules used, and per entry its outcome.

    ``standings``, ``advancement`` and ``tiers`` are keyed by group code. Each entry (by
    id, as a string) records code, group, rank, score, tie flag, whether it advances
    (None when the group has no advancement), tier, special awards and total prize; on a
    stage ranked on combined scores (Rule 3) also ``parts``, each weighted stage's part
    from ``parts`` (entry id → [{"stage", "weight", "score", "part"}]).
    """
    parts = parts or {}
    advancement = advancement or {}
    tiers = tiers or {}
    specials = list(specials)
    entries: dict[str, dict[str, Any]] = {}
    rows: list[_HasPrize] = []
    for group_code, group_standings in standings.items():
        proposal = advancement.get(group_code)
        advancing = set(proposal.advancing) if proposal is not None else None
        allocation = tiers.get(group_code)
        tier_of = {a.entry_id: a for a in allocation.awards} if allocation is not None else {}
        for s in group_standings:
            award = tier_of.get(s.entry_id)
            if award is not None:
                rows.append(PrizeRow(group_code, s.entry_id, award.tier_name, award.prize))
            entries[str(s.entry_id)] = {
                "code": s.code,
                "group": group_code,
                "rank": s.rank,
                "score": _money(s.score),
                "tied": s.tied,
                "advanced": None if advancing is None else s.entry_id in advancing,
                "tier": award.tier_name if award is not None else None,
                "specials": [],
                "prize": award.prize if award is not None else _MONEY_ZERO,
            }
            if s.entry_id in parts:
                entries[str(s.entry_id)]["parts"] = [_canonical(dict(p)) for p in parts[s.entry_id]]
    for row in sorted(specials, key=lambda r: (r.entry_id, r.award_id)):
        record = entries.setdefault(
            str(row.entry_id),
            {
                "code": None,
                "group": row.group_code or None,
                "rank": None,
                "score": None,
                "tied": False,
                "advanced": None,
                "tier": None,
                "specials": [],
                "prize": _MONEY_ZERO,
            },
        )
        record["specials"].append(row.name)
        record["prize"] = _MONEY.add(record["prize"], row.prize)
        rows.append(PrizeRow(record["group"] or "", row.entry_id, row.name, row.prize))
    for record in entries.values():
        record["prize"] = _money(record["prize"])
    totals = prize_totals(rows)
    return {
        "version": SNAPSHOT_VERSION,
        "rules": _canonical(rules),
        "entries": entries,
        "prize_totals": {
            "by_group": {group: _money(total) for group, total in totals.by_group.items()},
            "overall": _money(totals.overall),
        },
    }


def canonical_json(payload: Mapping[str, Any]) -> str:
    """The canonical JSON text of a payload: sorted keys, no whitespace, Decimals as 0.00."""
    return json.dumps(
        _canonical(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def content_hash(payload: Mapping[str, Any]) -> str:
    """The sha256 hex digest of the payload's canonical JSON (UTF-8)."""
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One value that differs between two snapshots."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class EntryChange:
    """An entry whose outcome differs: ``added``, ``removed`` or ``changed`` (with fields)."""

    entry_id: int
    code: str | None
    kind: str
    changes: tuple[FieldChange, ...]

    def describe(self) -> str:
        """One line for the organizer, e.g. ``A-007 changed: rank 3 → 2, score 85.10 → 85.20``."""
        name = self.code or f"entry {self.entry_id}"
        if not self.changes:
            return f"{name} {self.kind}"
        parts = ", ".join(f"{c.field} {c.old} → {c.new}" for c in self.changes)
        return f"{name} {self.kind}: {parts}"


@dataclass(frozen=True, slots=True)
class SnapshotDiff:
    """What changed between two snapshots: entries (by id) and rules (by name)."""

    entries: tuple[EntryChange, ...]
    rules: tuple[FieldChange, ...]

    def __bool__(self) -> bool:
        """Whether anything changed."""
        return bool(self.entries or self.rules)


#: The outcome fields of a snapshot entry a diff compares, in display order.
DIFF_FIELDS = ("rank", "score", "tied", "advanced", "tier", "specials", "prize", "parts")


def diff_snapshots(old: Mapping[str, Any], new: Mapping[str, Any]) -> SnapshotDiff:
    """List the entries whose rank, score, tie, advancement or awards changed, old → new."""
    old, new = _canonical(old), _canonical(new)
    old_entries, new_entries = old.get("entries", {}), new.get("entries", {})
    changes = []
    for key in sorted(set(old_entries) | set(new_entries), key=int):
        before, after = old_entries.get(key), new_entries.get(key)
        code = (after or before).get("code")
        if before is None:
            changes.append(EntryChange(int(key), code, "added", _fields(None, after)))
        elif after is None:
            changes.append(EntryChange(int(key), code, "removed", _fields(before, None)))
        else:
            fields = tuple(
                FieldChange(f, before.get(f), after.get(f))
                for f in DIFF_FIELDS
                if before.get(f) != after.get(f)
            )
            if fields:
                changes.append(EntryChange(int(key), code, "changed", fields))
    old_rules, new_rules = old.get("rules", {}), new.get("rules", {})
    rules = tuple(
        FieldChange(name, old_rules.get(name), new_rules.get(name))
        for name in sorted(set(old_rules) | set(new_rules))
        if old_rules.get(name) != new_rules.get(name)
    )
    return SnapshotDiff(tuple(changes), rules)


#: The outcome fields the public sees, compared for a correction notice (成绩更正).
PUBLIC_FIELDS = ("rank", "score", "advanced", "tier", "specials", "prize", "parts")


def public_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What the public sees change between two snapshots, one item per entry and field:
    ``{"entry", "code", "group", "field", "old", "new"}`` (a republished stage's correction
    notice). Values are the snapshots' canonical JSON values (scores as text)."""
    old_entries = _canonical(old).get("entries", {})
    new_entries = _canonical(new).get("entries", {})
    items = []
    for change in diff_snapshots(old, new).entries:
        key = str(change.entry_id)
        group = (new_entries.get(key) or old_entries.get(key) or {}).get("group")
        items.extend(
            {
                "entry": change.entry_id,
                "code": change.code,
                "group": group,
                "field": c.field,
                "old": c.old,
                "new": c.new,
            }
            for c in change.changes
            if c.field in PUBLIC_FIELDS
        )
    return items


def _fields(before: Mapping | None, after: Mapping | None) -> tuple[FieldChange, ...]:
    """The outcome fields of an added or removed entry, as changes from or to nothing."""
    before, after = before or {}, after or {}
    return tuple(
        FieldChange(f, before.get(f), after.get(f))
        for f in DIFF_FIELDS
        if before.get(f) != after.get(f)
    )
