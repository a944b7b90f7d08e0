"""Standings from the database at contest scale (issue 4, point 5).

Generates one contest per size straight into the database (bulk inserts in one
transaction: executemany on SQLite, COPY on PostgreSQL) and times, on the same data,
each as the median of --rounds rounds with a cold standings cache (``clear_cache()``
before every round, after one untimed warm-up; the database's own page cache is warm):

1. standings: ``group_standings(stage, group)`` in an app context, the whole path (data
   version, rubric, the entries, the sheets aggregated per entry, ranking with the
   criterion sums that tie-breaks need, judge names); with two groups both are timed and
   summed;
2. baseline: one plain ``SELECT entry_id, SUM(points) ... GROUP BY entry_id`` over the
   same submitted sheets and scores, fetched completely into Python.

It also times the split of (1) into its query part (``entry_facts`` and ``stage_sheets``)
and its rank part (``rank_counted``: the engine, reading the sheet lists and asking for
the criterion sums of entries still tied), and measures the peak memory of (1) and of (2) in a fresh
subprocess each: the growth of the peak RSS across one cold call (``VmHWM``, the counter
behind ``ru_maxrss``, first reset through /proc/self/clear_refs, since a child's
``ru_maxrss`` starts at its parent's peak; the whole process, C allocations of the drivers
included; no tracemalloc). That subprocess runs first and is bounded by --timeout: a
standings call that outlasts it is reported as timed out and only the baseline is timed.

Sizes: small 116 entries x 29 judges, medium 10,000 x 500, large 100,000 x 5,000; every
entry has 5 submitted sheets from 5 distinct judges (each with its assignment), 6
criteria (20, 20, 20, 15, 15, 10 points, step 0.5), one closed stage under the trimmed
rule. The large contest holds 500,000 sheets and 3 million criterion scores. For the
small size the ranks are checked to be the competition ranks 1..n of every entry and the
scores against an independent trimmed mean; for every size each entry's sum of sheet
totals is checked against the baseline's sum.

Points in steps of 0.5 leave few entries equal beyond the first criterion and none equal
through every step (issue 13: the deep tie-break reads were never exercised at scale).
The size ``ties`` (100,000 x 5,000) scores on a coarse grid, as juries often do: every
criterion's points are a fifth of its maximum at a time (0, 4, 8 … 20), so nearly every
entry shares its rounded score and its mean of all sheets with another, thousands stay
equal through several criteria and some through all six; those go to step c: the
measured stage is the second one, after an online review where each entry has one sheet
of whole points (60–100), whose standings the tie-break then computes (included in the
time: the app does it too); entries equal there as well share their rank. Each line
reports how many neighbours each step separated.

    .venv/bin/python bench/ranking.py [--sizes small,medium,large,ties] [--db sqlite,postgresql]
                                      [--rounds N] [--groups 1|2] [--timeout 300]

Generation is not measured but reported: ids are given explicitly, PostgreSQL loads with
per-row foreign-key triggers off (``session_replication_role = replica``; the rows are
consistent by construction) and is then VACUUM ANALYZEd, as autovacuum would soon do.

Results: one line per (database, size) and bench/results/ranking.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    PG_ADMIN_URL,
    ROOT,
    db_name,
    drop_database,
    fresh_database,
    median,
)

SIZES = {
    "small": (116, 29),
    "medium": (10_000, 500),
    "large": (100_000, 5_000),
    "ties": (100_000, 5_000),
}
#: The sizes held to the issue's targets (seconds, ratio, memory).
TARGET_SIZES = {"large", "ties"}
SHEETS_PER_ENTRY = 5
RUBRIC = [
    ("技术与产品", 20),
    ("商业模式", 20),
    ("行业与市场", 20),
    ("团队", 15),
    ("财务与融资", 15),
    ("路演与答辩", 10),
]
STAMP = "2024-05-01 08:00:00.000000"  # SQLAlchemy's SQLite DATETIME text form (UTC)
BASELINE_SQL = sa.text(
    "SELECT s.entry_id, SUM(sc.points) FROM scores sc "
    "JOIN score_sheets s ON s.id = sc.sheet_id "
    "WHERE s.stage_id = :stage AND s.state = 'submitted' "
    "GROUP BY s.entry_id"
)
TOTALS_SQL = sa.text(
    "UPDATE score_sheets SET "
    "total_hundredths = (SELECT CAST(ROUND(SUM(points) * 100) AS INTEGER) "
    "FROM scores WHERE scores.sheet_id = score_sheets.id), "
    "points_count = (SELECT COUNT(*) FROM scores WHERE scores.sheet_id = score_sheets.id)"
)
TARGET_SECONDS, TARGET_RATIO, TARGET_MIB = 2.5, 1.5, 300


def make_app(url: str):
    """A judging app bound to the bench database."""
    from judging import Config, create_app

    config = Config()
    config.SQLALCHEMY_DATABASE_URI = url
    return create_app(config)


def bulk_insert(conn, table: str, columns: tuple[str, ...], rows) -> int:
    """Stream rows into table inside conn's transaction; returns how many were written."""
    dbapi = conn.connection.driver_connection
    count = 0

    def counted():
        nonlocal count
        for row in rows:
            count += 1
            yield row

    names = ", ".join(columns)
    if conn.dialect.name == "sqlite":
        marks = ", ".join("?" * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 - our own names
        dbapi.cursor().executemany(sql, counted())
    else:
        with dbapi.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in counted():
                copy.write_row(row)
    return count


def generate(
    url: str, entries: int, judges: int, groups: int, seed: int = 4, ties: bool = False
) -> dict:
    """Create the schema and one contest of this size; return its ids and row counts.

    With ``ties`` the points are drawn from shared patterns on a coarse grid, and the
    measured stage follows an online review of one sheet per entry (see the module's
    docstring).
    """
    from judging.common.enums import AggregationRule, StageState
    from judging.contests.models import Contest, Criterion, Group, Stage
    from judging.extensions import db

    app = make_app(url)
    rng = random.Random(seed)
    with app.app_context():
        db.create_all()
        contest = Contest(slug="bench-ranking", name="Ranking bench", year=2024)
        earlier = None
        if ties:
            earlier = Stage(
                contest=contest,
                position=1,
                code="online",
                name="网评",
                state=StageState.CLOSED,
                rule=AggregationRule.TRIMMED,
            )
        stage = Stage(
            contest=contest,
            position=2 if ties else 1,
            code="semi" if ties else "online",
            name="复赛" if ties else "网评",
            state=StageState.CLOSED,
            rule=AggregationRule.TRIMMED,
        )
        group_rows = [
            Group(contest=contest, code=f"g{i}", name=f"组{i}", position=i)
            for i in range(1, groups + 1)
        ]
        criteria = {
            g.code: [
                Criterion(
                    stage=stage,
                    group=g,
                    position=i,
                    name=name,
                    max_points=Decimal(top),
                    step=Decimal("0.5"),
                )
                for i, (name, top) in enumerate(RUBRIC, 1)
            ]
            for g in group_rows
        }
        overall = {  # the online review's one criterion per group (ties only)
            g.code: Criterion(
                stage=earlier, group=g, position=1, name="综合", max_points=Decimal(100)
            )
            for g in group_rows
            if earlier is not None
        }
        db.session.add_all(
            [contest, stage, *group_rows, *(c for cs in criteria.values() for c in cs)]
            + ([earlier, *overall.values()] if earlier is not None else [])
        )
        db.session.commit()
        contest_id, stage_id = contest.id, stage.id
        earlier_id = earlier.id if earlier is not None else None
        group_ids = [g.id for g in group_rows]
        rubric_of = {g.id: [c.id for c in criteria[g.code]] for g in group_rows}
        overall_of = {g.id: overall[g.code].id for g in group_rows if g.code in overall}
        db.session.close()  # no read transaction left open (it would stall the checkpoint)
        sqlite = db.engine.dialect.name == "sqlite"
        stamp = STAMP if sqlite else "2024-05-01 08:00:00+00"
        yes = 1 if sqlite else True
        # The points a judge may give on each criterion: 0 to the maximum in steps of 0.5,
        # in the form the driver stores for NUMERIC (float on SQLite, text on PostgreSQL).
        steps = [
            [k / 2 if sqlite else str(Decimal(k) / 2) for k in range(2 * top + 1)]
            for _, top in RUBRIC
        ]
        # Entries split evenly over the groups, in order; judges drawn per entry.
        group_of = [group_ids[i * groups // entries] for i in range(entries)]
        panels = [rng.sample(range(1, judges + 1), SHEETS_PER_ENTRY) for _ in range(entries)]
        # ties: each criterion's points in fifths of its maximum; the online review: one
        # sheet per entry (its first judge), whole points 60–100.
        if ties:
            steps = [
                [k * top / 5 if sqlite else str(Decimal(k * top) / 5) for k in range(6)]
                for _, top in RUBRIC
            ]
        online = [rng.randint(60, 100) for _ in range(entries)] if ties else []
        online_sheets = entries if ties else 0  # their ids come first

        def sheets():
            sheet_id = online_sheets
            for entry_id, panel in enumerate(panels, 1):
                for judge_id in panel:
                    sheet_id += 1
                    yield sheet_id, entry_id, judge_id

        def all_sheets():
            for entry_id, panel in enumerate(panels[:online_sheets], 1):
                yield entry_id, earlier_id, entry_id, panel[0]
            for sheet_id, entry_id, judge_id in sheets():
                yield sheet_id, stage_id, entry_id, judge_id

        def scores():
            score_id = 0
            random_ = rng.random
            for entry_id, points in enumerate(online, 1):
                score_id += 1
                value = float(points) if sqlite else str(points)
                yield score_id, entry_id, overall_of[group_of[entry_id - 1]], value
            for sheet_id, entry_id, _ in sheets():
                rubric = rubric_of[group_of[entry_id - 1]]
                for cid, values in zip(rubric, steps, strict=True):
                    score_id += 1
                    yield score_id, sheet_id, cid, values[int(random_() * len(values))]

        counts = {}
        started = time.perf_counter()
        with db.engine.begin() as conn:
            if sqlite:  # a larger page cache for the one big write transaction
                conn.exec_driver_sql("PRAGMA cache_size = -262144")
            else:  # the rows are consistent by construction: skip per-row FK triggers
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            counts["users"] = bulk_insert(
                conn,
                "users",
                (
                    "id",
                    "username",
                    "display_name",
                    "password_hash",
                    "role",
                    "is_enabled",
                    "created_at",
                ),
                (
                    (i, f"judge{i:05d}", "", "bench-hash", "judge", yes, stamp)
                    for i in range(1, judges + 1)
                ),
            )
            counts["judges"] = bulk_insert(
                conn,
                "judges",
                ("id", "contest_id", "user_id", "name", "title", "organization", "email"),
                ((i, contest_id, i, f"评委{i:05d}", "", "", "") for i in range(1, judges + 1)),
            )
            counts["entries"] = bulk_insert(
                conn,
                "entries",
                (
                    "id",
                    "contest_id",
                    "code",
                    "title",
                    "group_id",
                    "organization",
                    "leader",
                    "is_student_team",
                    "phone",
                    "email",
                    "summary",
                    "status",
                    "created_at",
                ),
                (
                    (
                        i,
                        contest_id,
                        f"E{i:06d}",
                        f"项目 {i}",
                        group_of[i - 1],
                        f"学校 {i % 97}",
                        "",
                        yes if i % 3 == 0 else not yes,
                        "",
                        "",
                        "",
                        "registered",
                        stamp,
                    )
                    for i in range(1, entries + 1)
                ),
            )
            counts["assignments"] = bulk_insert(
                conn,
                "assignments",
                ("id", "stage_id", "judge_id", "entry_id", "created_at"),
                ((sid, st, jid, eid, stamp) for sid, st, eid, jid in all_sheets()),
            )
            counts["score_sheets"] = bulk_insert(
                conn,
                "score_sheets",
                (
                    "id",
                    "stage_id",
                    "judge_id",
                    "entry_id",
                    "state",
                    "comment",
                    "version",
                    "created_at",
                    "updated_at",
                    "submitted_at",
                ),
                (
                    (sid, st, jid, eid, "submitted", "", 2, stamp, stamp, stamp)
                    for sid, st, eid, jid in all_sheets()
                ),
            )
            counts["scores"] = bulk_insert(
                conn, "scores", ("id", "sheet_id", "criterion_id", "points"), scores()
            )
            # Each sheet's stored total, as the app writes it with the points.
            conn.execute(TOTALS_SQL)
            if not sqlite:  # explicit ids: move the sequences past them
                for table in counts:
                    sql = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608 - our own names
                    conn.execute(sa.text(sql))
        inserted = time.perf_counter() - started
        # Settle the database as it would be after a while in service: the WAL checkpointed
        # on SQLite; on PostgreSQL what autovacuum would do (statistics, visibility map).
        if sqlite:
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        settled = time.perf_counter() - started - inserted
        db.engine.dispose()
    return {
        "stage": stage_id,
        "groups": group_ids,
        "counts": counts,
        "insert_s": inserted,
        "settle_s": settled,
    }


def load(stage_id: int, group_ids: list[int]):
    """The stage and its groups, read in the current app context."""
    from judging.contests.models import Group, Stage
    from judging.extensions import db

    return db.session.get(Stage, stage_id), [db.session.get(Group, g) for g in group_ids]


def run_standings(app, stage_id: int, group_ids: list[int]) -> tuple[float, list]:
    """Seconds for group_standings of every group with a cold cache, and the results."""
    from judging.standings.groups import clear_cache, group_standings

    with app.app_context():
        stage, groups = load(stage_id, group_ids)
        clear_cache()
        started = time.perf_counter()
        results = [group_standings(stage, g) for g in groups]
        return time.perf_counter() - started, results


def run_baseline(app, stage_id: int) -> tuple[float, list]:
    """Seconds for the plain GROUP BY over the same rows, fetched completely, and its rows."""
    from judging.extensions import db

    with app.app_context():
        db.session.execute(sa.text("SELECT 1"))  # the connection is open, as for standings
        started = time.perf_counter()
        rows = db.session.execute(BASELINE_SQL, {"stage": stage_id}).all()
        return time.perf_counter() - started, rows


def run_split(app, stage_id: int, group_ids: list[int]) -> tuple[float, float]:
    """Seconds of the query part (entries, sheet totals) and of the rank part, summed.

    The rank part includes the reads of criterion points that tie-break step b needs,
    and, when step c is needed, the previous stage's standings (cold cache), as in
    ``group_standings``. The collector is paused as ``group_standings`` pauses it.
    """
    from judging.ranking.standings import gc_paused
    from judging.standings.groups import (
        clear_cache,
        entry_facts,
        group_standings,
        rank_counted,
        stage_sheets,
    )

    query = ranking = 0.0
    with app.app_context():
        stage, groups = load(stage_id, group_ids)
        clear_cache()
        for group in groups:
            criterion_ids = [c.id for c in stage.rubric(group)]

            def previous_scores(group=group):
                if stage.previous_stage is None:
                    return {}
                before = group_standings(stage.previous_stage, group)
                return {r.entry_id: r.score for r in before.rows if r.score is not None}

            with gc_paused():
                started = time.perf_counter()
                facts = entry_facts(stage, group)
                counted = stage_sheets(stage, facts, criterion_ids)
                middle = time.perf_counter()
                rows = rank_counted(stage, criterion_ids, facts, counted, previous_scores)
                query += middle - started
                ranking += time.perf_counter() - middle
            del facts, counted, rows  # freed outside the timed parts
    return query, ranking


def peak_rss_kib() -> int:
    """The process's peak resident set size in KiB (VmHWM; ru_maxrss where there is no /proc)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reset_peak_rss() -> None:
    """Reset the peak RSS to the current RSS (Linux), so the next peak is this call's own."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass  # the growth is then measured from the import-time peak: an underestimate


def memory_child(url: str, stage_id: int, group_ids: list[int], what: str) -> None:
    """(In a fresh process) print the peak RSS growth in MiB and the seconds of one cold call."""
    import gc

    from judging.extensions import db
    from judging.standings.groups import clear_cache, group_standings

    app = make_app(url)
    with app.app_context():
        stage, groups = load(stage_id, group_ids)
        db.session.execute(sa.text("SELECT 1"))
        clear_cache()
        gc.collect()
        reset_peak_rss()
        before = peak_rss_kib()
        started = time.perf_counter()
        if what == "standings":
            kept = [group_standings(stage, g) for g in groups]
        else:
            kept = db.session.execute(BASELINE_SQL, {"stage": stage_id}).all()
        seconds = time.perf_counter() - started
        after = peak_rss_kib()
    print(json.dumps({"peak_mib": (after - before) / 1024, "seconds": seconds, "rows": len(kept)}))


def in_subprocess(url: str, stage_id: int, group_ids: list[int], what: str, timeout: float):
    """Run memory_child for standings or the baseline; its result, or None after timeout s."""
    cmd = [sys.executable, __file__, "--memory-child", what, url, str(stage_id)]
    cmd += [str(g) for g in group_ids]
    try:
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode:
        raise RuntimeError(f"{what} subprocess failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def check(results: list, baseline_rows: list, entries: int, strict: bool) -> None:
    """Assert the standings agree with the baseline (and, if strict, are exactly right)."""
    rows = [row for result in results for row in result.rows]
    assert len(rows) == entries, f"{len(rows)} ranked rows for {entries} entries"
    sums = {entry_id: Decimal(str(total)) for entry_id, total in baseline_rows}
    for row in rows:
        assert sum(row.totals) == sums[row.entry_id], f"entry {row.code}: totals differ"
    if not strict:
        return
    for result in results:
        group_rows = result.rows
        assert group_rows[0].rank == 1
        for position, (above, row) in enumerate(pairwise(group_rows), 2):
            if row.rank == above.rank:
                assert row.score == above.score and row.tied, f"{row.code}: shared rank untied"
            else:
                assert row.rank == position, f"{row.code}: rank {row.rank} at {position}"
                assert row.score <= above.score
        for row in group_rows:
            totals = sorted(row.totals)
            kept = totals[1:-1] if len(totals) >= 5 else totals
            expected = (sum(kept) / len(kept)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            assert row.score == expected, f"{row.code}: score {row.score}, expected {expected}"


def bench_one(kind: str, size: str, tmp: Path, rounds: int, groups: int, timeout: float):
    """Generate one contest in one database and measure it; None if the database is absent."""
    entries, judges = SIZES[size]
    name = db_name(f"judging_bench_ranking_{size}_{os.getpid()}")  # runs never collide
    url = fresh_database(kind, tmp, name)
    if url is None:
        return None
    started = time.perf_counter()
    plan = generate(url, entries, judges, groups, ties=size == "ties")
    generated = time.perf_counter() - started
    stage_id, group_ids = plan["stage"], plan["groups"]
    summary = {
        "entries": entries,
        "judges": judges,
        "groups": groups,
        "counts": plan["counts"],
        "score_rows": plan["counts"]["scores"],
        "rounds": rounds,
        "generate_s": generated,
        "insert_s": plan["insert_s"],
        "settle_s": plan["settle_s"],
        "memory_method": "peak RSS growth (VmHWM reset via /proc/self/clear_refs) across "
        "one cold call in a fresh subprocess",
    }
    # First, in fresh processes: peak memory and a first cold time; a standings call that
    # outlasts the timeout is reported as such instead of holding the run for hours.
    probe = in_subprocess(url, stage_id, group_ids, "standings", timeout)
    if probe is None and kind == "postgresql":
        terminate_backends(name)
    base_probe = in_subprocess(url, stage_id, group_ids, "baseline", timeout)
    summary["peak_mib"] = probe and probe["peak_mib"]
    summary["first_cold_s"] = probe and probe["seconds"]
    summary["baseline_peak_mib"] = base_probe and base_probe["peak_mib"]
    summary["timed_out"] = probe is None
    summary["timeout_s"] = timeout
    app = make_app(url)
    _, baseline_rows = run_baseline(app, stage_id)  # warm-up, untimed
    summary["baseline_rows"] = len(baseline_rows)
    standings, baseline, query, ranking = [], [], [], []
    if probe is not None:
        # Warm-up, untimed: also the correctness check of this size.
        _, results = run_standings(app, stage_id, group_ids)
        run_split(app, stage_id, group_ids)
        check(results, baseline_rows, entries, strict=True)
        summary["rows"] = sum(len(r.rows) for r in results)
        summary["tied_rows"] = sum(1 for r in results for row in r.rows if row.tied)
        summary["steps"] = step_counts(results)
        del results
    for _ in range(rounds):
        if probe is not None:
            standings.append(run_standings(app, stage_id, group_ids)[0])
        baseline.append(run_baseline(app, stage_id)[0])
        if probe is not None:
            q, r = run_split(app, stage_id, group_ids)
            query.append(q)
            ranking.append(r)
    with app.app_context():
        from judging.extensions import db

        db.engine.dispose()
    summary["baseline_s"] = median(baseline)
    summary["baseline_all_s"] = baseline
    if probe is not None:
        summary["standings_s"] = median(standings)
        summary["standings_all_s"] = standings
        summary["query_s"] = median(query)
        summary["rank_s"] = median(ranking)
        summary["ratio"] = summary["standings_s"] / summary["baseline_s"]
        if size in TARGET_SIZES:
            summary["targets_met"] = {
                "seconds": summary["standings_s"] < TARGET_SECONDS,
                "ratio": summary["ratio"] <= TARGET_RATIO,
                "peak_mib": summary["peak_mib"] < TARGET_MIB,
            }
    if kind == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        summary["db_mib"] = path.stat().st_size / 2**20
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        drop_database(name)
    return summary


def step_counts(results: list) -> dict[str, int]:
    """How many neighbours of equal rounded score each tie-break step separated (each pair
    once; "unresolved": equal through every step), and how many entries share a score."""
    counts: dict[str, int] = {}
    shared = 0
    for result in results:
        for row in result.rows:
            shared += bool(row.tiebreak)
            for step in row.tiebreak:
                if step.outcome != "behind":  # the upper entry's side of each pair
                    counts[step.step] = counts.get(step.step, 0) + 1
    return {"entries_sharing_a_score": shared, **dict(sorted(counts.items()))}


def terminate_backends(name: str) -> None:
    """Stop queries still running in a PostgreSQL bench database (after a timed-out child)."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
    finally:
        admin.dispose()


def code_fingerprint() -> str:
    """A short hash of the code under test, so results can be matched to a version of it."""
    digest = hashlib.sha256()
    paths = [ROOT / "judging/standings/groups.py", ROOT / "judging/standings/participation.py"]
    for path in paths + sorted((ROOT / "judging/ranking").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def report(kind: str, size: str, s: dict) -> str:
    """One line of results."""
    head = f"{kind:10} {size:6} {s['entries']:>7} entries x {s['judges']:>5} judges: "
    tail = (
        f"{s['score_rows']} scores | generated in {s['generate_s']:.1f} s (median of {s['rounds']})"
    )
    if s["timed_out"]:
        return (
            f"{head}standings TIMED OUT (one cold call > {s['timeout_s']:.0f} s) | "
            f"baseline {s['baseline_s']:.3f} s | baseline peak +{s['baseline_peak_mib']:.0f} MiB | "
            f"{tail}"
        )
    return (
        f"{head}standings {s['standings_s']:.3f} s | baseline {s['baseline_s']:.3f} s | "
        f"ratio {s['ratio']:.2f} | query {s['query_s']:.3f} s + rank {s['rank_s']:.3f} s | "
        f"peak +{s['peak_mib']:.0f} MiB (baseline +{s['baseline_peak_mib']:.0f}) | "
        f"{s['rows']} rows ({s['tied_rows']} tied), steps {steps_text(s['steps'])} | "
        f"{tail}{verdict(s)}"
    )


def steps_text(steps: dict[str, int]) -> str:
    """The tie-break steps taken, short: a (mean of all sheets), b0, b1… (criteria), c
    (previous stage), = (unresolved), and how many entries share their rounded score."""
    short = {"all_sheets_mean": "a", "previous_stage": "c", "unresolved": "="}
    parts = [
        f"{short.get(step, step.replace('criterion:', 'b'))} {count}"
        for step, count in steps.items()
        if step != "entries_sharing_a_score"
    ]
    return f"[{', '.join(parts) or 'none'}; {steps['entries_sharing_a_score']} share a score]"


def verdict(s: dict) -> str:
    """The issue's targets for the large size: which were met."""
    met = s.get("targets_met")
    if met is None:
        return ""
    shown = {
        "seconds": f"< {TARGET_SECONDS} s",
        "ratio": f"<= {TARGET_RATIO}x",
        "peak_mib": f"< {TARGET_MIB} MiB",
    }
    return " | targets: " + ", ".join(
        f"{shown[k]} {'met' if ok else 'MISSED'}" for k, ok in met.items()
    )


def main() -> int:
    """Run the benchmark and print the medians."""
    if len(sys.argv) > 1 and sys.argv[1] == "--memory-child":
        what, url, stage_id, *group_ids = sys.argv[2:]
        memory_child(url, int(stage_id), [int(g) for g in group_ids], what)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="small,medium,large,ties")
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, help="default 5 (small, medium) or 3 (large)")
    parser.add_argument("--groups", type=int, choices=(1, 2), default=1)
    parser.add_argument(
        "--timeout", type=float, default=300, help="seconds for one cold standings call"
    )
    args = parser.parse_args()
    sizes = args.sizes.split(",")
    unknown = set(sizes) - set(SIZES)
    if unknown:
        parser.error(f"unknown sizes: {', '.join(sorted(unknown))}")
    results: dict = {
        "meta": {
            "python": platform.python_version(),
            "sqlalchemy": sa.__version__,
            "groups": args.groups,
            "targets": {"large_s": TARGET_SECONDS, "ratio": TARGET_RATIO, "peak_mib": TARGET_MIB},
            "code_under_test": code_fingerprint(),
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
        }
    }
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.db.split(","):
            for size in sizes:
                rounds = args.rounds or (3 if size in TARGET_SIZES else 5)
                summary = bench_one(kind, size, Path(tmp), rounds, args.groups, args.timeout)
                if summary is None:
                    break  # the database is unreachable: fresh_database said so
                results.setdefault(kind, {})[size] = summary
                print(report(kind, size, summary), flush=True)
    results["meta"]["load_average_at_end"] = os.getloadavg()
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "ranking.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
