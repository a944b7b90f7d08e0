"""The assignment solver: which judges score which entries in a stage (pure, no Flask).

For one stage, every entry gets exactly ``per_entry`` distinct judges, in this order
of priority:

1. **Never a binding conflict**, and with panels on, a group's entries go only to its
   own judges (a judge without a group sits on every panel). Kept assignments stay.
2. **Loads as even as possible**: the judges' loads (kept ones included) minimise the
   sum of their squares. That vector is the lexicographically optimal one (Fujishige,
   "Lexicographically optimal base of a polymatroid", 1980: the loads a flow can give
   form the base of a polymatroid): the largest load is as small as it can be, the
   smallest as large, and max − min ≤ 1 whenever any assignment reaches it.
3. **Expertise**: among those, as many (entry, judge) pairs as possible where the
   entry's field is one of the judge's fields.
4. **Determinism**: the same input gives the same answer (ids sorted everywhere).

Formulation: a min-cost flow (networkx's network simplex). Entries of the same group,
field and need are one source node (a *class*), joined to each judge by an arc whose
capacity is how many of the class's entries may take that judge and whose cost is 0
for an expertise match, 1 otherwise; each judge reaches the sink through arcs whose
unit costs are ``M·(2t − 1)`` for the judge's t-th unit of load (the increments of
t²), with ``M`` larger than any expertise total so that balance comes first. Below a
level ``L`` under the mean load, one arc of slope ``M·(2L − 1)`` stands for all the
lower units, and above ``L + W`` one arc at the slope of the next unit stands for all
the higher ones: both underestimate t², and the estimate is exact for loads from
``L − 1`` to ``L + W``. When the answer leaves a judge outside that range, ``L`` goes
down or ``W`` up and it is solved again; an optimum of an underestimate whose cost is
exact is an optimum of the exact cost.

The class flows are then dealt to the class's entries: most constrained entry first,
each takes the judges with the most of the class's flow left (Gale–Ryser's greedy,
exact without exclusions), or else an exact max-flow for the class. Loads and matches
are those of the flow, so the result is optimal. When the entries' own exclusions make
a class's flow impossible to deal, those entries become classes of their own (one
entry per class is the exact, un-aggregated problem) and the flow is solved again.

Feasibility: judges have no upper limit, so an assignment exists exactly when every
entry has at least its need of eligible judges. Otherwise the answer names every such
entry with its numbers, and proposes nothing.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field

import networkx as nx


@dataclass(frozen=True)
class JudgeIn:
    """A judge: their fields of expertise and, for panels, their group (None: any)."""

    id: int
    fields: frozenset[int] = frozenset()
    group: int | None = None


@dataclass(frozen=True)
class EntryIn:
    """An entry: its group and its field (None: no field, never an expertise match)."""

    id: int
    group: int
    field: int | None = None


@dataclass(frozen=True)
class Problem:
    """One stage's assignment question.

    ``conflicts``: binding (entry id, judge id) pairs. ``existing``: the stage's current
    (entry id, judge id) assignments; with ``keep`` they stay and only what is missing
    is placed (incremental), without it they are ignored (a fresh proposal).
    """

    entries: tuple[EntryIn, ...]
    judges: tuple[JudgeIn, ...]
    per_entry: int
    conflicts: frozenset[tuple[int, int]] = frozenset()
    existing: frozenset[tuple[int, int]] = frozenset()
    keep: bool = True
    panels: bool = False


@dataclass(frozen=True)
class Unplaceable:
    """An entry that cannot get its judges: ``eligible`` judges for ``needed`` places.

    ``panel``: judges its group's panel has (all judges without panels); ``conflicts``:
    how many of those have a binding conflict with it; ``kept``: how many already judge
    it (they count towards ``per_entry`` and cannot be placed twice).
    """

    entry: int
    needed: int
    eligible: int
    panel: int
    conflicts: int
    kept: int


@dataclass(frozen=True)
class Proposal:
    """The answer: every (entry, judge) pair of the stage, kept and new, or the
    entries that make it impossible (``problems``, then no pairs)."""

    pairs: tuple[tuple[int, int], ...] = ()
    new: tuple[tuple[int, int], ...] = ()
    kept: tuple[tuple[int, int], ...] = ()
    loads: dict[int, int] = field(default_factory=dict)
    matches: int = 0
    problems: tuple[Unplaceable, ...] = ()

    @property
    def feasible(self) -> bool:
        return not self.problems

    @property
    def spread(self) -> int:
        """max − min of the judges' loads (0 without judges)."""
        return max(self.loads.values()) - min(self.loads.values()) if self.loads else 0


def expertise_match(entry: EntryIn, judge: JudgeIn) -> bool:
    """Whether the judge's fields include the entry's field."""
    return entry.field is not None and entry.field in judge.fields


def solve(problem: Problem) -> Proposal:
    """The optimal assignment of ``problem`` (see the module's docstring), or its problems."""
    if problem.per_entry < 1:
        raise ValueError("per_entry must be at least 1")
    entries = sorted(problem.entries, key=lambda e: e.id)
    judges = sorted(problem.judges, key=lambda j: j.id)
    judge_ids = {j.id for j in judges}
    entry_ids = {e.id for e in entries}
    kept = sorted(p for p in problem.existing if p[0] in entry_ids and p[1] in judge_ids)
    if not problem.keep:
        kept = []
    excluded: dict[int, set[int]] = defaultdict(set)  # entry -> judges it cannot take
    for entry_id, judge_id in problem.conflicts:
        excluded[entry_id].add(judge_id)
    held: dict[int, set[int]] = defaultdict(set)
    for entry_id, judge_id in kept:
        held[entry_id].add(judge_id)
        excluded[entry_id].add(judge_id)

    panels = _panels(judges, problem.panels)
    problems = []
    need: dict[int, int] = {}
    for entry in entries:
        panel = panels(entry.group)
        out = excluded.get(entry.id, ())
        blocked = sum(1 for j in out if j in panel.ids)
        conflicted = sum(1 for j in out if j in panel.ids and (entry.id, j) in problem.conflicts)
        need[entry.id] = max(0, problem.per_entry - len(held.get(entry.id, ())))
        eligible = len(panel.ids) - blocked
        if eligible < need[entry.id]:
            problems.append(
                Unplaceable(
                    entry=entry.id,
                    needed=need[entry.id],
                    eligible=eligible,
                    panel=len(panel.ids),
                    conflicts=conflicted,
                    kept=len(held.get(entry.id, ())),
                )
            )
    if problems:
        return Proposal(problems=tuple(problems))

    loads0 = {j.id: 0 for j in judges}
    for _entry, judge_id in kept:
        loads0[judge_id] += 1
    alone: set[int] = set()  # entries that are a class of their own
    while True:
        classes = _classes(entries, need, alone)
        flows = _class_flows(classes, judges, panels, excluded, loads0)
        new, blocked = [], []
        for key, members in classes.items():
            dealt = _deal(members, need, flows.get(key, {}), excluded)
            if dealt is None:
                blocked.extend(e.id for e in members if excluded.get(e.id))
            else:
                new.extend(dealt)
        if not blocked:
            break
        # Exclusions in a class got in the way of its flow: those entries become
        # classes of their own (exact for them) and the flow is solved again.
        alone.update(blocked)
    new.sort()
    by_id = {j.id: j for j in judges}
    loads = dict(loads0)
    for _entry, judge_id in new:
        loads[judge_id] += 1
    entry_by_id = {e.id: e for e in entries}
    pairs = sorted(kept + new)
    matches = sum(1 for e, j in pairs if expertise_match(entry_by_id[e], by_id[j]))
    return Proposal(
        pairs=tuple(pairs), new=tuple(new), kept=tuple(kept), loads=loads, matches=matches
    )


@dataclass(frozen=True)
class _Panel:
    ids: frozenset[int]
    judges: tuple[JudgeIn, ...]


def _panels(judges: list[JudgeIn], on: bool):
    """A function group -> the judges who may score its entries."""
    everyone = _Panel(frozenset(j.id for j in judges), tuple(judges))
    if not on:
        return lambda _group: everyone
    cache: dict[int, _Panel] = {}

    def panel(group: int) -> _Panel:
        if group not in cache:
            members = tuple(j for j in judges if j.group is None or j.group == group)
            cache[group] = _Panel(frozenset(j.id for j in members), members)
        return cache[group]

    return panel


def _classes(entries, need, alone) -> dict[tuple, list[EntryIn]]:
    """Entries that need judges, by (group, field, need): alike for the flow; an entry in
    ``alone`` is a class of its own."""
    classes: dict[tuple, list[EntryIn]] = {}
    for entry in entries:
        if need[entry.id]:
            field_id = entry.field if entry.field is not None else -1
            own = entry.id if entry.id in alone else -1
            key = (entry.group, field_id, need[entry.id], own)
            classes.setdefault(key, []).append(entry)
    return dict(sorted(classes.items()))


def _class_flows(classes, judges, panels, excluded, loads0) -> dict[tuple, dict[int, int]]:
    """The min-cost flow from entry classes to judges: units per (class, judge)."""
    total = sum(key[2] * len(members) for key, members in classes.items())
    if not total:
        return {}
    # Arcs class -> judge: how many of the class's entries may take the judge.
    arcs: dict[tuple, dict[int, int]] = {}
    reach: dict[int, int] = defaultdict(int)  # judge -> most units it could receive
    for key, members in classes.items():
        group, field_id, _need, _own = key
        panel = panels(group)
        blocked: dict[int, int] = defaultdict(int)
        for entry in members:
            for judge_id in excluded.get(entry.id, ()):
                blocked[judge_id] += 1
        arcs[key] = {}
        for judge in panel.judges:
            capacity = len(members) - blocked.get(judge.id, 0)
            if capacity > 0:
                arcs[key][judge.id] = capacity
                reach[judge.id] += capacity
    weight = total + 1  # one unit of balance outweighs every expertise match
    mean = (total + sum(loads0.values())) // max(1, len(judges))
    level, width = max(0, mean - 1), 3
    while True:
        graph = _network(classes, judges, arcs, reach, loads0, weight, level, width, total)
        _cost, flow = nx.network_simplex(graph)
        loads = {j.id: loads0[j.id] + sum(flow[("j", j.id)].get("t", {}).values()) for j in judges}
        low = [j for j in judges if reach[j.id] and loads[j.id] < level - 1]
        top = [j for j in judges if loads[j.id] > max(level, loads0[j.id]) + width]
        if not low and not top:
            break
        if low:
            level = max(0, min(loads[j.id] for j in low) - 1)
        if top:
            width *= 2
    units = {}
    for key, targets in arcs.items():
        out = flow.get(("c", key), {})
        units[key] = {j: n for j in targets if (n := sum(out.get(("j", j), {}).values()))}
    return units


def _network(classes, judges, arcs, reach, loads0, weight, level, width, total):
    """The flow network for one (level, width); see the module's docstring."""
    graph = nx.MultiDiGraph()
    graph.add_node("s", demand=-total)
    graph.add_node("t", demand=total)
    by_id = {j.id: j for j in judges}
    for key, members in classes.items():
        _group, field_id, need, _own = key
        graph.add_edge("s", ("c", key), capacity=need * len(members), weight=0)
        for judge_id, capacity in arcs[key].items():
            cost = 0 if field_id in by_id[judge_id].fields else 1
            graph.add_edge(("c", key), ("j", judge_id), capacity=capacity, weight=cost)
    for judge in judges:
        node, start, most = ("j", judge.id), loads0[judge.id], loads0[judge.id] + reach[judge.id]
        graph.add_node(node)
        if start < level and most > start:
            # Units start+1 .. level at the slope of the level-th unit (an underestimate
            # of t², exact at level − 1 and level).
            units = min(level, most) - start
            graph.add_edge(node, "t", capacity=units, weight=weight * (2 * level - 1))
            start = level
        end = min(most, start + width)
        for t in range(start + 1, end + 1):
            graph.add_edge(node, "t", capacity=1, weight=weight * (2 * t - 1))
        if most > end:
            # Units above the width at the slope of the next one (an underestimate again;
            # a load that uses it widens the unit arcs and solves again).
            graph.add_edge(node, "t", capacity=most - end, weight=weight * (2 * end + 1))
    return graph


def _deal(members, need, flows, excluded) -> list[tuple[int, int]] | None:
    """The class's flow to each judge dealt to its entries: (entry, judge) pairs, or
    None when its entries' exclusions make that impossible."""
    left = {j: n for j, n in flows.items() if n}
    order = sorted(members, key=lambda e: (-len(excluded.get(e.id, ())), e.id))
    buckets: dict[int, list[int]] = defaultdict(list)  # units left -> judge ids, sorted
    for judge_id in sorted(left):
        buckets[left[judge_id]].append(judge_id)
    pairs = []
    for entry in order:
        out = excluded.get(entry.id, set())
        chosen = []
        for units in sorted(buckets, reverse=True):
            for judge_id in buckets[units]:
                if judge_id not in out:
                    chosen.append(judge_id)
                    if len(chosen) == need[entry.id]:
                        break
            if len(chosen) == need[entry.id]:
                break
        if len(chosen) < need[entry.id]:
            return _deal_exactly(members, need, flows, excluded)
        for judge_id in chosen:
            units = left[judge_id]
            buckets[units].remove(judge_id)
            if not buckets[units]:
                del buckets[units]
            left[judge_id] = units - 1
            if units > 1:
                bisect.insort(buckets[units - 1], judge_id)
            pairs.append((entry.id, judge_id))
    return pairs


def _deal_exactly(members, need, flows, excluded) -> list[tuple[int, int]] | None:
    """The dealing as a max-flow (when the greedy one is blocked by exclusions), or None
    when no dealing exists."""
    graph = nx.DiGraph()
    for entry in sorted(members, key=lambda e: e.id):
        graph.add_edge("s", ("e", entry.id), capacity=need[entry.id])
        out = excluded.get(entry.id, set())
        for judge_id in sorted(flows):
            if judge_id not in out:
                graph.add_edge(("e", entry.id), ("j", judge_id), capacity=1)
    for judge_id in sorted(flows):
        graph.add_edge(("j", judge_id), "t", capacity=flows[judge_id])
    value, flow = nx.maximum_flow(graph, "s", "t")
    if value != sum(need[e.id] for e in members):
        return None
    return [
        (entry.id, judge_id)
        for entry in members
        for (_tag, judge_id), units in flow[("e", entry.id)].items()
        if units
    ]
