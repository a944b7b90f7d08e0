"""The assignment solver (judging/judges/assignment.py): worked examples, an exact
reference on small inputs, and properties."""

from __future__ import annotations

import random

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judging.judges.assignment import EntryIn, JudgeIn, Problem, expertise_match, solve


def objective(problem: Problem, pairs) -> tuple[int, int]:
    """(Σ load², expertise misses): what the solver minimises, in that order."""
    entries = {e.id: e for e in problem.entries}
    judges = {j.id: j for j in problem.judges}
    loads = dict.fromkeys(judges, 0)
    misses = 0
    for e, j in pairs:
        loads[j] += 1
        misses += not expertise_match(entries[e], judges[j])
    return sum(n * n for n in loads.values()), misses


def reference(problem: Problem) -> tuple[int, int] | None:
    """The exact optimum by brute force of a different kind: one node per entry, one
    arc per eligible (entry, judge), unit load arcs up to every judge's reach."""
    kept = set(problem.existing) if problem.keep else set()
    graph = nx.MultiDiGraph()
    total = 0
    big = len(problem.entries) * problem.per_entry + 1
    reach = {j.id: 0 for j in problem.judges}
    for entry in problem.entries:
        mine = {j for e, j in kept if e == entry.id}
        need = max(0, problem.per_entry - len(mine))
        total += need
        graph.add_edge("s", ("e", entry.id), capacity=need, weight=0)
        for judge in problem.judges:
            if (entry.id, judge.id) in problem.conflicts or judge.id in mine:
                continue
            if problem.panels and judge.group not in (None, entry.group):
                continue
            cost = 0 if expertise_match(entry, judge) else 1
            graph.add_edge(("e", entry.id), ("j", judge.id), capacity=1, weight=cost)
            reach[judge.id] += 1
    base = {j.id: sum(1 for _e, k in kept if k == j.id) for j in problem.judges}
    for judge in problem.judges:
        for t in range(base[judge.id] + 1, base[judge.id] + reach[judge.id] + 1):
            graph.add_edge(("j", judge.id), "t", capacity=1, weight=big * (2 * t - 1))
    graph.add_node("s", demand=-total)
    graph.add_node("t", demand=total)
    try:
        _cost, flow = nx.network_simplex(graph)
    except nx.NetworkXUnfeasible:
        return None
    pairs = list(kept)
    for entry in problem.entries:
        for node, arcs in flow.get(("e", entry.id), {}).items():
            if sum(arcs.values()):
                pairs.append((entry.id, node[1]))
    return objective(problem, pairs)


def random_problem(
    seed: int,
    *,
    entries=12,
    judges=6,
    per_entry=3,
    conflict=0.15,
    panels=False,
    existing=0.0,
    fields=3,
) -> Problem:
    r = random.Random(seed)
    es = tuple(EntryIn(i, r.randrange(2), r.choice([None, *range(fields)])) for i in range(entries))
    js = tuple(
        JudgeIn(
            100 + j,
            frozenset(r.sample(range(fields), r.randint(0, 2))),
            r.choice([None, 0, 1]) if panels else None,
        )
        for j in range(judges)
    )
    cs = frozenset((e.id, j.id) for e in es for j in js if r.random() < conflict)
    ex = frozenset(
        (e.id, j.id) for e in es for j in js if (e.id, j.id) not in cs and r.random() < existing
    )
    return Problem(es, js, per_entry, cs, ex, keep=True, panels=panels)


def check_valid(problem: Problem, proposal) -> None:
    entries = {e.id: e for e in problem.entries}
    judges = {j.id: j for j in problem.judges}
    count = {e: 0 for e in entries}
    assert len(set(proposal.pairs)) == len(proposal.pairs)
    for e, j in proposal.pairs:
        count[e] += 1
        if (e, j) not in problem.existing or not problem.keep:
            assert (e, j) not in problem.conflicts
            if problem.panels:
                assert judges[j].group in (None, entries[e].group)
    for e, n in count.items():
        held = sum(1 for x, _j in problem.existing if x == e) if problem.keep else 0
        assert n == max(problem.per_entry, held)
    assert set(proposal.kept) == (set(problem.existing) if problem.keep else set())
    assert proposal.loads == {j: sum(1 for _e, k in proposal.pairs if k == j) for j in judges}


# ------------------------------------------------------------------ worked examples


def test_worked_example_by_hand():
    """4 entries, 4 judges, 2 per entry: 8 places, 2 per judge.

    Fields: entries 1, 2 are field A (0), entries 3, 4 field B (1). Judges 10, 11 know A,
    12, 13 know B; judge 10 has a conflict with entry 1. Every entry can get two
    experts except entry 1, whose only other A expert is 11: it takes 11 and a B judge.
    Loads 2 each (Σ load² = 16); misses: entry 1 once, so entry 2 takes 10 and 11, and
    3 and 4 take 12 and 13 — but then 12 or 13 carry 3. Balance first: one entry of B
    gives up an expert to judge 10, which had only entry 2: 2 misses in all.
    """
    entries = (EntryIn(1, 0, 0), EntryIn(2, 0, 0), EntryIn(3, 0, 1), EntryIn(4, 0, 1))
    judges = (
        JudgeIn(10, frozenset({0})),
        JudgeIn(11, frozenset({0})),
        JudgeIn(12, frozenset({1})),
        JudgeIn(13, frozenset({1})),
    )
    problem = Problem(entries, judges, 2, frozenset({(1, 10)}))
    proposal = solve(problem)
    check_valid(problem, proposal)
    assert proposal.loads == {10: 2, 11: 2, 12: 2, 13: 2}
    assert objective(problem, proposal.pairs) == (16, 2)
    assert proposal.matches == 6
    assert (1, 11) in proposal.pairs and (2, 10) in proposal.pairs and (2, 11) in proposal.pairs


def test_loads_within_one_and_every_entry_its_judges():
    """116 entries × 29 judges, 5 each (the demo's shape): 580 places, 20 per judge."""
    problem = random_problem(1, entries=116, judges=29, per_entry=5, conflict=0.05, fields=8)
    proposal = solve(problem)
    check_valid(problem, proposal)
    assert set(proposal.loads.values()) == {20}


def test_uneven_total_spreads_by_one():
    problem = random_problem(2, entries=7, judges=4, per_entry=3, conflict=0.0)
    proposal = solve(problem)
    check_valid(problem, proposal)
    assert sorted(proposal.loads.values()) == [5, 5, 5, 6]


def test_infeasible_names_the_entries_and_proposes_nothing():
    entries = (EntryIn(1, 0), EntryIn(2, 0), EntryIn(3, 1))
    judges = (JudgeIn(10, group=0), JudgeIn(11, group=0), JudgeIn(12, group=1))
    conflicts = frozenset({(1, 10)})
    proposal = solve(Problem(entries, judges, 2, conflicts, panels=True))
    assert not proposal.feasible and proposal.pairs == ()
    found = {p.entry: p for p in proposal.problems}
    assert set(found) == {1, 3}
    assert (found[1].eligible, found[1].panel, found[1].conflicts) == (1, 2, 1)
    assert (found[3].eligible, found[3].panel, found[3].conflicts) == (1, 1, 0)


def test_panels_keep_groups_apart():
    problem = random_problem(3, entries=20, judges=10, per_entry=2, panels=True, conflict=0.0)
    proposal = solve(problem)
    check_valid(problem, proposal)


def test_incremental_moves_no_existing_assignment():
    problem = random_problem(4, entries=30, judges=8, per_entry=3, existing=0.05)
    proposal = solve(problem)
    check_valid(problem, proposal)
    assert set(problem.existing) <= set(proposal.pairs)
    assert set(proposal.new).isdisjoint(problem.existing)
    assert reference(problem) == objective(problem, proposal.pairs)


def test_fresh_proposal_ignores_existing():
    problem = random_problem(5, entries=10, judges=5, per_entry=2, existing=0.2)
    fresh = Problem(
        problem.entries, problem.judges, 2, problem.conflicts, problem.existing, keep=False
    )
    proposal = solve(fresh)
    assert proposal.kept == ()
    assert sorted(proposal.loads.values()) == [4, 4, 4, 4, 4]


def test_deterministic_whatever_the_input_order():
    problem = random_problem(6, entries=40, judges=9, per_entry=4)
    shuffled = list(problem.entries), list(problem.judges)
    random.Random(1).shuffle(shuffled[0])
    random.Random(2).shuffle(shuffled[1])
    again = Problem(tuple(shuffled[0]), tuple(shuffled[1]), 4, problem.conflicts)
    assert solve(problem).pairs == solve(again).pairs == solve(problem).pairs


def test_per_entry_must_be_positive():
    with pytest.raises(ValueError):
        solve(Problem((EntryIn(1, 0),), (JudgeIn(2),), 0))


def test_an_entry_whose_exclusions_block_its_class_is_solved_on_its_own(monkeypatch):
    """Seed 1 (6 entries, 4 judges, 2 each, 30% conflicts): a class's flow cannot be
    dealt past its entries' conflicts, neither greedily nor by max-flow; those entries
    become classes of their own and the answer is still the exact optimum."""
    from judging.judges import assignment

    calls = []
    exact = assignment._deal_exactly

    def spy(*args):
        calls.append(exact(*args))
        return calls[-1]

    monkeypatch.setattr(assignment, "_deal_exactly", spy)
    problem = random_problem(1, entries=6, judges=4, per_entry=2, conflict=0.3)
    proposal = solve(problem)
    assert None in calls  # the path this test is about was taken
    check_valid(problem, proposal)
    assert reference(problem) == objective(problem, proposal.pairs)


# ------------------------------------------------------------------ properties


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    entries=st.integers(1, 14),
    judges=st.integers(1, 7),
    per_entry=st.integers(1, 4),
    conflict=st.sampled_from([0.0, 0.1, 0.3, 0.6]),
    panels=st.booleans(),
    existing=st.sampled_from([0.0, 0.1]),
)
def test_optimal_against_the_exact_reference(
    seed, entries, judges, per_entry, conflict, panels, existing
):
    problem = random_problem(
        seed,
        entries=entries,
        judges=judges,
        per_entry=per_entry,
        conflict=conflict,
        panels=panels,
        existing=existing,
    )
    proposal = solve(problem)
    best = reference(problem)
    if best is None:
        assert not proposal.feasible and proposal.problems
        return
    assert proposal.feasible
    check_valid(problem, proposal)
    assert objective(problem, proposal.pairs) == best


def greedy(problem: Problem) -> list[tuple[int, int]]:
    """Each entry in turn takes the least loaded eligible judges, experts first."""
    loads = {j.id: 0 for j in problem.judges}
    pairs = []
    for entry in problem.entries:
        eligible = [
            j
            for j in problem.judges
            if (entry.id, j.id) not in problem.conflicts
            and (not problem.panels or j.group in (None, entry.group))
        ]
        eligible.sort(key=lambda j: (loads[j.id], not expertise_match(entry, j), j.id))
        for judge in eligible[: problem.per_entry]:
            loads[judge.id] += 1
            pairs.append((entry.id, judge.id))
    return pairs


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    entries=st.integers(1, 30),
    judges=st.integers(1, 10),
    per_entry=st.integers(1, 4),
    conflict=st.sampled_from([0.0, 0.05, 0.2]),
)
def test_never_fewer_expertise_matches_than_a_greedy_as_even(
    seed, entries, judges, per_entry, conflict
):
    """Against a greedy assignment of the same input: never less even, and never fewer
    expertise matches when the greedy is as even."""
    problem = random_problem(
        seed, entries=entries, judges=judges, per_entry=per_entry, conflict=conflict, fields=4
    )
    proposal = solve(problem)
    if not proposal.feasible:
        return
    squares, misses = objective(problem, proposal.pairs)
    g_squares, g_misses = objective(problem, greedy(problem))
    assert squares <= g_squares
    if squares == g_squares:
        assert misses <= g_misses
