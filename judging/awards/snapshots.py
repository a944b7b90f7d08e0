"""Results snapshots: results frozen as canonical JSON with a content hash, and differences.

Canonical JSON: sorted keys, no whitespace, Decimals as strings with 2 places (more only
where 2 would hide a digit, as in a weight of 0.125) and no floats; the sha256 of that
text is the snapshot's content hash. Two snapshots can be diffed entry by entry (rank,
score, tie, advancement, awards, prize, stage parts) and rule by rule; the public part of
a difference is a republished stage's correction notice. No Flask, no database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from judging.awards.prizes import MONEY_ZERO, PrizeRow, _HasPrize, money_sum, prize_totals
from judging.ranking import CENT, Standing
from judging.ranking.rules import AdvancementProposal, SpecialAwardRow, TierAllocation

SNAPSHOT_VERSION = 1


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
                "prize": award.prize if award is not None else MONEY_ZERO,
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
                "prize": MONEY_ZERO,
            },
        )
        record["specials"].append(row.name)
        record["prize"] = money_sum(record["prize"], row.prize)
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
