"""The assignment solver at contest scale (issue 14): judging/judges/assignment.py.

Two sizes, each a random contest (two groups, 10 fields; every judge knows 1–2 fields;
entries spread over the fields and groups):

- demo: 116 entries × 29 judges, 5 per entry, no conflicts;
- large: 10,000 entries × 500 judges, 5 per entry, 5% of the (entry, judge) pairs a
  binding conflict.

Timed per size, as medians of --rounds rotated rounds on the same input: ``solve()``
(the whole solver: eligibility, the class flow, the dealing) and, as the same-run
baseline, a plain greedy (each entry in turn takes the least loaded eligible judges,
experts first: the cheapest way to give every entry its judges). Reported: both times,
their ratio, and what each answer is worth: the loads' spread (max − min) and the
expertise matches.

    .venv/bin/python bench/assignment.py [--rounds 3] [--sizes demo,large]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from judging.judges.assignment import (  # noqa: E402
    EntryIn,
    JudgeIn,
    Problem,
    expertise_match,
    solve,
)

SIZES = {"demo": (116, 29, 5, 0.0), "large": (10_000, 500, 5, 0.05)}
FIELDS = 10


def build(entries: int, judges: int, per_entry: int, conflicts: float, seed: int = 2020):
    """A random contest of this size (the same for every round)."""
    r = random.Random(seed)
    es = tuple(EntryIn(i, r.randrange(2), r.randrange(FIELDS)) for i in range(entries))
    js = tuple(
        JudgeIn(100_000 + j, frozenset(r.sample(range(FIELDS), r.randint(1, 2))))
        for j in range(judges)
    )
    pairs = set()
    if conflicts:
        total = entries * judges
        for n in r.sample(range(total), int(total * conflicts)):
            pairs.add((es[n // judges].id, js[n % judges].id))
    return Problem(es, js, per_entry, frozenset(pairs))


def greedy(problem: Problem) -> list[tuple[int, int]]:
    """The baseline: each entry takes the least loaded eligible judges, experts first."""
    loads = {j.id: 0 for j in problem.judges}
    pairs = []
    for entry in problem.entries:
        eligible = [j for j in problem.judges if (entry.id, j.id) not in problem.conflicts]
        eligible.sort(key=lambda j: (loads[j.id], not expertise_match(entry, j), j.id))
        for judge in eligible[: problem.per_entry]:
            loads[judge.id] += 1
            pairs.append((entry.id, judge.id))
    return pairs


def worth(problem: Problem, pairs) -> tuple[int, int]:
    """(loads' spread, expertise matches) of an answer."""
    entries = {e.id: e for e in problem.entries}
    judges = {j.id: j for j in problem.judges}
    loads = dict.fromkeys(judges, 0)
    matches = 0
    for e, j in pairs:
        loads[j] += 1
        matches += expertise_match(entries[e], judges[j])
    return max(loads.values()) - min(loads.values()), matches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="demo,large")
    args = parser.parse_args()
    for name in args.sizes.split(","):
        entries, judges, per_entry, conflicts = SIZES[name]
        problem = build(entries, judges, per_entry, conflicts)
        times = {"solver": [], "greedy": []}
        answers = {}
        for round_ in range(args.rounds):
            order = ["solver", "greedy"] if round_ % 2 == 0 else ["greedy", "solver"]
            for which in order:
                start = time.perf_counter()
                if which == "solver":
                    proposal = solve(problem)
                    answers[which] = proposal.pairs
                else:
                    answers[which] = greedy(problem)
                times[which].append(time.perf_counter() - start)
        solver_s = statistics.median(times["solver"])
        greedy_s = statistics.median(times["greedy"])
        s_spread, s_matches = worth(problem, answers["solver"])
        g_spread, g_matches = worth(problem, answers["greedy"])
        print(
            f"{name}: {entries} entries × {judges} judges, {per_entry} per entry, "
            f"{conflicts:.0%} conflicts ({len(problem.conflicts)}), {args.rounds} rounds"
        )
        print(
            f"  solver {solver_s:.3f} s (spread {s_spread}, matches {s_matches}); "
            f"greedy {greedy_s:.3f} s (spread {g_spread}, matches {g_matches}); "
            f"solver/greedy time {solver_s / greedy_s:.2f}×"
        )


if __name__ == "__main__":
    main()
