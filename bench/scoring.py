"""Judges submitting concurrently over HTTP, against a bare endpoint upserting the same sheets
(issue 3; issue 13, item 6).

A contest shaped like the demo (116 entries in two groups, 29 judges) where every
judge scores every entry: 3,364 sheets of 6 criteria. 29 client threads, one per
judge, submit all their sheets as fast as the server answers, each with the session
cookie it had after signing in (as a browser has once it has shown the page a
submission redirects to; see ``sign_in_judges``).

Two gunicorn servers with the same settings (``--worker-class`` sync, ``--workers`` 4,
``--threads`` 1 by default; the same flags and virtual env) on the same database:

- app: production's ``wsgi:app``; the judges POST their sheets to the scoring page;
- bare: bench/bare_upsert.py, a bare Flask app whose one POST endpoint takes the same
  form and writes the sheet with one upsert (the sheet row and its 6 score rows, in one
  transaction), into a stage of its own so that the two never meet.

The same 29 threads send the same 3,364 forms to each (the bare one with the judge's id
added), every request built before the clock starts. Each round is a fresh database
(a SQLite file; a PostgreSQL database named ``<BENCH_DB_PREFIX>judging_bench_scoring_<n>``,
dropped afterwards). A round sends each judge's sheets in ``--segments`` parts, the two
targets taking turns part by part in rotated order (round 1: bare, app, app, bare;
round 2: app, bare, bare, app; …), so that a burst of load from elsewhere on a shared
machine falls on both alike; a target's time is the sum of its parts.

Reports per database the medians over ``--rounds`` rounds: sheets/s and the bare
endpoint's requests/s, their ratio (the median of each round's ratio), p50/p99 of both,
and what the database holds after the run: lost (answered but not submitted),
duplicated (two sheets for one key), server errors, answers other than 302 — for the
app and for the bare endpoint alike. Target (issue 13): sheets/s >= 0.4 x bare on
SQLite, >= 0.3 x on PostgreSQL, 0 lost.

    .venv/bin/python bench/scoring.py [--rounds 3] [--db sqlite,postgresql] [--segments 2]
        [--workers 4] [--threads 1] [--worker-class sync]

Results: a table, and bench/results/scoring.json with every round.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ROOT,
    Client,
    db_name,
    drop_database,
    fresh_database,
    gunicorn,
    median,
    percentile,
)

JUDGES = 29
ENTRIES = {"angel": 64, "growth": 52}
RUBRIC = [
    ("技术与产品", 20),
    ("商业模式", 20),
    ("行业与市场", 20),
    ("团队", 15),
    ("财务与融资", 15),
    ("路演与答辩", 10),
]
PASSWORD = "bench-password"
#: The issue's floor for sheets/s ÷ the bare upsert's requests/s, per database.
TARGET_RATIO = {"sqlite": 0.4, "postgresql": 0.3}
TARGETS = ("bare", "app")


def build_contest(url: str) -> dict:
    """Create the schema and the contest; return what the clients need."""
    from judging import Config, create_app
    from judging.auth.models import User
    from judging.auth.passwords import hash_password
    from judging.common.enums import Role, StageState
    from judging.contests.models import Contest, Criterion, Group, Stage
    from judging.entries.models import Entry
    from judging.extensions import db
    from judging.judges.models import Assignment, Judge

    config = Config()
    config.SQLALCHEMY_DATABASE_URI = url
    app = create_app(config)
    with app.app_context():
        db.create_all()
        contest = Contest(slug="bench", name="Bench contest", year=2020)
        stage = Stage(contest=contest, position=1, code="final", name="决赛", state=StageState.OPEN)
        # Where the bare endpoint writes its sheets (never open: the app ignores it).
        bare = Stage(contest=contest, position=2, code="bare", name="bare", state=StageState.DRAFT)
        db.session.add_all([contest, stage, bare])
        entries, criteria = [], {}
        for pos, (code, count) in enumerate(ENTRIES.items(), 1):
            group = Group(contest=contest, code=code, name=code, position=pos)
            criteria[code] = [
                Criterion(
                    stage=stage,
                    group=group,
                    position=i,
                    name=name,
                    max_points=Decimal(top),
                    step=Decimal("0.5"),
                )
                for i, (name, top) in enumerate(RUBRIC, 1)
            ]
            db.session.add_all(criteria[code])
            prefix = code[0].upper()
            entries += [
                Entry(contest=contest, group=group, code=f"{prefix}-{i:03d}", title=f"项目 {i}")
                for i in range(1, count + 1)
            ]
        db.session.add_all(entries)
        digest = hash_password(PASSWORD)  # one hash for all bench accounts: setup speed only
        judges = []
        for i in range(1, JUDGES + 1):
            user = User(username=f"bench{i:02d}", role=Role.JUDGE, password_hash=digest)
            judges.append(Judge(contest=contest, user=user, name=f"评委{i:02d}"))
        db.session.add_all(judges)
        db.session.flush()
        db.session.add_all(
            Assignment(stage=stage, judge=j, entry=e) for j in judges for e in entries
        )
        db.session.commit()
        plan = {
            "stage": stage.id,
            "bare_stage": bare.id,
            "entries": [(e.id, [c.id for c in criteria[e.group.code]]) for e in entries],
            "judges": [(j.user.username, j.id) for j in judges],
        }
        db.engine.dispose()
    return plan


def count_after(url: str, stage_id: int) -> dict:
    """A stage's sheets, distinct (judge, entry) keys, submitted sheets and score rows."""
    engine = sa.create_engine(url)
    stage = {"stage": stage_id}
    with engine.connect() as conn:

        def scalar(sql: str) -> int:
            return conn.execute(sa.text(sql), stage).scalar()

        counts = {
            "sheets": scalar("SELECT count(*) FROM score_sheets WHERE stage_id = :stage"),
            "distinct": scalar(
                "SELECT count(*) FROM (SELECT DISTINCT judge_id, entry_id FROM score_sheets "
                "WHERE stage_id = :stage) k"
            ),
            "submitted": scalar(
                "SELECT count(*) FROM score_sheets WHERE stage_id = :stage AND state = 'submitted'"
            ),
            "scores": scalar(
                "SELECT count(*) FROM scores JOIN score_sheets s ON s.id = scores.sheet_id "
                "WHERE s.stage_id = :stage"
            ),
        }
    engine.dispose()
    return counts


def rng_points(seed, entry_id, cid, top) -> Decimal:
    """Deterministic valid points (multiples of 0.5 within 0..top)."""
    r = random.Random(f"{seed}-{entry_id}-{cid}")
    return Decimal(r.randint(top, 2 * top)) / 2


def requests_for(plan: dict, judge_id: int, seed: float, target: str, token: str):
    """A judge's submissions in their (shuffled) order: (path, encoded form) each.

    The app and the bare endpoint get the same forms and points; the bare one's go to
    its own stage and carry the judge's id, which the app takes from the session.
    """
    order = list(plan["entries"])
    random.Random(seed).shuffle(order)
    stage = plan["stage"] if target == "app" else plan["bare_stage"]
    requests = []
    for entry_id, criterion_ids in order:
        form = {"csrf_token": token, "version": "0", "action": "submit", "comment": ""}
        for cid, (_, top) in zip(criterion_ids, RUBRIC, strict=True):
            form[f"c{cid}"] = str(rng_points(seed, entry_id, cid, top))
        if target == "bare":
            form["judge"] = str(judge_id)
        requests.append((f"/judge/stages/{stage}/entries/{entry_id}", urlencode(form)))
    return requests


def sign_in_judges(host: str, port: int, plan: dict) -> dict[str, tuple[dict, str]]:
    """Every judge signed in through the form, in parallel: username -> (cookies, CSRF token).

    Each client sends the cookie it has after sign-in with every submission. A
    submission does not change it (its message rides in the next page's address:
    ``scoring.next_sheet``); the clients would ignore a new one all the same, as they did
    when the message went in the cookie, where the bench, sending only the POSTs and not
    the GETs that show the messages, would have piled up 116 unread ones.
    """
    sessions: dict[str, tuple[dict, str]] = {}
    failures: list[BaseException] = []

    def sign_in(username: str):
        try:
            client = Client(host, port)
            token = client.csrf("/sign-in")
            form = {"csrf_token": token, "username": username, "password": PASSWORD}
            status, _, _ = client.request("POST", "/sign-in", form)
            assert status == 302, f"sign-in failed for {username}: {status}"
            token = client.csrf("/judge/")  # puts the token in the session cookie
            sessions[username] = (dict(client.cookies), token)
        except BaseException as err:  # noqa: BLE001 - raised below, in the caller's thread
            failures.append(err)

    threads = [threading.Thread(target=sign_in, args=(u,)) for u, _ in plan["judges"]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(f"signing the judges in failed: {failures[0]}")
    return sessions


def run_segment(server, plan: dict, target: str, sessions: dict, part: slice) -> dict:
    """29 threads, one per judge, send their submissions ``part`` (of each judge's 116, in
    the judge's order) to the target as fast as it answers; the requests are built and
    the threads started before the clock starts."""
    rng = random.Random(7)
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    ready = threading.Barrier(len(plan["judges"]) + 1)

    def judge_thread(client: Client, requests: list):
        ready.wait()
        mine_lat, mine_status = [], []
        for path, body in requests:
            status, _, elapsed = client.request("POST", path, body)
            mine_lat.append(elapsed)
            mine_status.append(status)
        with lock:
            latencies.extend(mine_lat)
            statuses.extend(mine_status)

    threads = []
    for username, judge_id in plan["judges"]:
        cookies, token = sessions[username]
        client = Client(*server)
        client.cookies, client.accept_cookies = dict(cookies), False
        seed = rng.random()  # the same per judge for both targets: the same sheets in order
        requests = requests_for(plan, judge_id, seed, target, token)[part]
        threads.append(threading.Thread(target=judge_thread, args=(client, requests)))
    for t in threads:
        t.start()
    ready.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {"wall": wall, "latencies": latencies, "statuses": statuses}


def schedule(round_no: int, segments: int) -> list[tuple[str, int]]:
    """The (target, segment) runs of a round: the targets' order rotated with the round,
    and reversed from one segment to the next (bare, app, app, bare, … / app, bare, …), so
    that both meet the same moments of a shared machine."""
    order = list(TARGETS[round_no % 2 :] + TARGETS[: round_no % 2])
    runs = []
    for segment in range(segments):
        runs += [(target, segment) for target in order]
        order.reverse()
    return runs


def one_round(kind: str, tmp: Path, round_no: int, server: dict, segments: int) -> dict | None:
    """Build a fresh database, serve it twice, run the targets' segments in turn, count."""
    name = f"judging_bench_scoring_{round_no}"
    url = fresh_database(kind, tmp, name)
    if url is None:
        return None
    try:
        plan = build_contest(url)
        per_judge = len(plan["entries"])
        expected = len(plan["judges"]) * per_judge
        bounds = [round(i * per_judge / segments) for i in range(segments + 1)]
        parts = [slice(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]
        load = [round(os.getloadavg()[0], 2)]
        runs = {t: {"wall": 0.0, "latencies": [], "statuses": []} for t in TARGETS}
        plan_order = schedule(round_no, segments)
        with (
            gunicorn(url, app="wsgi:app", **server) as app_server,
            gunicorn(url, app="bench.bare_upsert:app", **server) as bare_server,
        ):
            servers = {"app": app_server, "bare": bare_server}
            sessions = sign_in_judges(*app_server, plan)
            for target, segment in plan_order:
                run = run_segment(servers[target], plan, target, sessions, parts[segment])
                runs[target]["wall"] += run["wall"]
                runs[target]["latencies"] += run["latencies"]
                runs[target]["statuses"] += run["statuses"]
        load.append(round(os.getloadavg()[0], 2))
        order = [t for t, segment in plan_order if segment == 0]
        result = {"order": order, "load_average": load, "sheets": expected}
        for target, stage in (("app", plan["stage"]), ("bare", plan["bare_stage"])):
            run, counts = runs[target], count_after(url, stage)
            statuses = run["statuses"]
            result[target] = {
                "per_s": expected / run["wall"],
                "seconds": run["wall"],
                "p50_ms": 1000 * percentile(run["latencies"], 50),
                "p99_ms": 1000 * percentile(run["latencies"], 99),
                "lost": expected - counts["submitted"],
                "duplicated": counts["sheets"] - counts["distinct"],
                "server_errors": sum(1 for s in statuses if s >= 500),
                "other_answers": sum(1 for s in statuses if s != 302),
                "score_rows_ok": counts["scores"] == len(RUBRIC) * counts["sheets"],
            }
        result["ratio"] = result["app"]["per_s"] / result["bare"]["per_s"]
        return result
    finally:
        if kind == "postgresql":
            drop_database(db_name(name))


def summarize(kind: str, rounds: list[dict]) -> dict:
    """Medians over the rounds (the ratio: the median of each round's), worst counts."""
    summary: dict = {"sheets": rounds[0]["sheets"], "ratio": median([r["ratio"] for r in rounds])}
    for target in TARGETS:
        rs = [r[target] for r in rounds]
        summary[target] = {
            **{k: median([r[k] for r in rs]) for k in ("per_s", "seconds", "p50_ms", "p99_ms")},
            **{k: max(r[k] for r in rs) for k in ("lost", "duplicated", "server_errors")},
            "other_answers": max(r["other_answers"] for r in rs),
            "score_rows_ok": all(r["score_rows_ok"] for r in rs),
        }
    app = summary["app"]
    clean = not (app["lost"] or app["duplicated"] or app["server_errors"] or app["other_answers"])
    summary["target_ratio"] = TARGET_RATIO.get(kind)
    summary["met"] = clean and summary["ratio"] >= TARGET_RATIO.get(kind, 0)
    summary["rounds"] = rounds
    return summary


def report(kind: str, s: dict) -> list[str]:
    """The lines of one database."""
    app, bare = s["app"], s["bare"]
    lines = [
        f"{kind:10} app  {app['per_s']:7.0f} sheets/s ({s['sheets']} in {app['seconds']:.2f} s) "
        f"p50 {app['p50_ms']:6.1f} ms p99 {app['p99_ms']:6.1f} ms | lost {app['lost']} "
        f"duplicated {app['duplicated']} 5xx {app['server_errors']} "
        f"other {app['other_answers']} scores ok {app['score_rows_ok']}",
        f"{kind:10} bare {bare['per_s']:7.0f} req/s    ({s['sheets']} in {bare['seconds']:.2f} s) "
        f"p50 {bare['p50_ms']:6.1f} ms p99 {bare['p99_ms']:6.1f} ms | lost {bare['lost']} "
        f"duplicated {bare['duplicated']} 5xx {bare['server_errors']} "
        f"other {bare['other_answers']} scores ok {bare['score_rows_ok']}",
        f"{kind:10} ratio {s['ratio']:.3f} x bare (rounds: "
        + ", ".join(
            f"{'/'.join(r['order'])} {r['ratio']:.3f} ({r['app']['per_s']:.0f}/{r['bare']['per_s']:.0f},"
            f" p99 {r['app']['p99_ms']:.0f}/{r['bare']['p99_ms']:.0f} ms, load {r['load_average']})"
            for r in s["rounds"]
        )
        + f") | target >= {s['target_ratio']} x, 0 lost: {'met' if s['met'] else 'MISSED'}",
    ]
    return lines


def main() -> int:
    """Run the benchmark and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--segments", type=int, default=2)
    args = parser.parse_args()
    server = {"workers": args.workers, "threads": args.threads, "worker_class": args.worker_class}
    print(
        f"gunicorn {args.worker_class} {args.workers} x {args.threads} (app and bare alike); "
        f"{JUDGES} judges x {sum(ENTRIES.values())} sheets in {args.segments} segments; median of "
        f"{args.rounds} rotated rounds; nproc {os.cpu_count()}",
        flush=True,
    )
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.db.split(","):
            rounds = [
                r
                for i in range(args.rounds)
                if (r := one_round(kind, Path(tmp), i, server, args.segments))
            ]
            if not rounds:
                continue
            results[kind] = summarize(kind, rounds)
            print("\n".join(report(kind, results[kind])), flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "scoring.json").write_text(
        json.dumps({"settings": vars(args), **results}, indent=2, default=str)
    )
    bad = any(
        r[t]["lost"] or r[t]["duplicated"] or r[t]["server_errors"]
        for r in results.values()
        for t in TARGETS
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
