"""Contest day: the public pages beside a bare Flask hello, alone and while judges submit
and visitors download the workbook (issue 13, item 7).

The demo contest (``flask seed-demo``: 初赛 and 复赛 published, 决赛 live) in a fresh
database, its live final made a contest day's: every one of the 29 judges assigned every
finalist (but those of their own organization; binding conflicts count as in the app),
every final sheet deleted, the first entry of the running order put on stage through the
organizer's live control (bench/contest_data.py). Two gunicorn servers with the same
settings (``--worker-class`` gthread, ``--workers`` 2 x ``--threads`` 4 by default, the
same flags and virtual env): the app (production's ``wsgi:app``, bench/wsgi_app.py) and a bare Flask app answering
``GET /hello`` (bench/bare_hello.py); both add ``X-Bench-Worker: <pid>`` to answers.

wrk (the Debian package; ``--wrk-threads`` 2, ``--connections`` 32, ``--duration`` 10 s)
runs one Lua script per target that sends its requests in turn, each formatted once:

- hello: ``/hello`` alone (through the same kind of script, so wrk's cost is the same);
- public: the public mix without cookies, in turn: the 初赛 天使组 page, its table polled
  with the ETag of the current table (answered 304), the same standings from the API, the
  live API, the big screen's body (plain, 200: the screen polls with its own last ETag,
  which changes with every sheet of the entry on stage);
- cookie: the same five, each with each of three real session cookies in turn: a judge
  and the organizer signed in through the sign-in form (with its CSRF token), and a
  visitor who switched the language to English through the language form;
  ``--targets`` also takes judge, organizer and language alone.

Before each run the bench fetches every request of the mix once and checks its status
(a poll that is not answered 304 is a fault of the mix, reported), and after it that
wrk's answers weighed what those did (a script sending the wrong request shows there). Phases, each in
``--rounds`` rounds, the targets of a round in rotated order; medians reported, and the
ratios to hello as medians of each round's ratio to the hello of the same round:

a. alone: nothing else happens;
b. contest day: while the 29 judges submit, each a sheet of the live final every
   ``--submit-every`` seconds (10: 2.9 sheets a second, a busy final), their phases
   spread evenly over those seconds, each submission as a browser makes it (GET the
   sheet page for its CSRF token and version, POST submit, GET the page it is
   redirected to), and ``--downloaders`` 2 clients download the public 初赛 workbook one after another; the crowd starts
   ``--warmup`` s before each run and stops at its end (so the hello runs under the same
   load of the machine). Judges leave the entry on stage to the probe below; when they
   run out of sheets, the organizer reopens their earliest through the reopen form,
   between runs.

Then the visibility check, under phase b's load (crowd and the public mix in wrk):
``--probes`` judges submit the on-stage entry's sheet one after another; after each
POST returns, the live API is asked on new connections until 20 answers in a row, from
every worker (by ``X-Bench-Worker``), show the count committed: reported is the time
from the POST's return to the first of those answers being sent (the max over the
sheets; target 1 s) and to the first new answer.

Errors: wrk's answers other than 2xx/3xx and its socket errors; judges' answers other
than expected (and sheets answered 302 but not submitted in the database: lost);
downloads not 200 with a workbook. Targets (issue 13): public and cookie req/s >= 1.0 x
hello alone and >= 0.8 x hello in phase b; p99 <= 2 x hello's p99 of the same phase;
no errors; visibility within 1 s.

    .venv/bin/python bench/contest_day.py [--db sqlite,postgresql] [--duration 10]
        [--rounds 3] [--targets hello,public,cookie] [--submit-every 10] [--downloaders 2]
        [--connections 32] [--wrk-threads 2] [--workers 2] [--threads 4]
        [--worker-class gthread] [--probes 5] [--warmup 1]

BENCH_DB_PREFIX names the PostgreSQL database (and the SQLite file, in a temporary
directory) ``<prefix>judging_bench_contest_day``. Results: a table, and
bench/results/contest_day.json with every round.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ROOT,
    db_name,
    drop_database,
    fetch,
    fresh_database,
    gunicorn,
    median,
    median_runs,
    wrk,
)
from bench.contest_data import PAGE, SLUG, build, put_on_stage, visitors  # noqa: E402
from bench.crowd import Crowd, sign_in, visibility  # noqa: E402

TABLE = f"{PAGE}/table"
API = f"/api/v1/contests/{SLUG}/stages/prelim/groups/angel/standings"
LIVE = f"/api/v1/contests/{SLUG}/live"
SCREEN = f"/screen/{SLUG}/body"
XLSX = f"/results/{SLUG}/prelim.xlsx"
#: Which visitors' cookies each target sends (None: no cookie).
TARGETS = {
    "public": [None],
    "cookie": ["judge", "organizer", "language"],
    "judge": ["judge"],
    "organizer": ["organizer"],
    "language": ["language"],
}
PHASES = {"alone": "a. alone", "contest_day": "b. judges + xlsx"}
VISIBILITY_LIMIT_MS = 1000


def answer_bytes(status: int, headers, body: bytes) -> int:
    """An answer's size on the wire, about: status line, headers, body."""
    return 17 + sum(len(k) + len(v) + 4 for k, v in headers.items()) + 2 + len(body)


def mix(host: str, port: int, cookies: list[str | None]) -> tuple[list, float, list[str]]:
    """The public mix for these cookies, with the current ETags; each request sent once
    and checked (200, or 304 for the poll). Returns the requests, their mean answer size
    and any faults."""
    requests, sizes, faults = [], [], []
    for cookie in cookies:
        base = {"Cookie": cookie} if cookie else {}
        status, headers, _ = fetch(host, port, TABLE, base)
        etag = headers.get("ETag")
        items = [
            (PAGE, base, 200),
            (TABLE, {**base, "If-None-Match": etag or ""}, 304),
            (API, base, 200),
            (LIVE, base, 200),
            (SCREEN, base, 200),
        ]
        for path, headers, expected in items:
            status, answer, body = fetch(host, port, path, headers)
            if status != expected:
                faults.append(f"{path} {sorted(headers)}: {status}, not {expected}")
            requests.append((path, headers))
            sizes.append(answer_bytes(status, answer, body))
    return requests, sum(sizes) / len(sizes), faults


def run_database(kind: str, tmp: Path, args) -> dict | None:
    """Build, serve and measure one database."""
    url = fresh_database(kind, tmp, "judging_bench_contest_day")
    if url is None:
        return None
    try:
        return _run(url, tmp, args)
    finally:
        if kind == "postgresql":
            drop_database(db_name("judging_bench_contest_day"))


def _run(url: str, tmp: Path, args) -> dict:
    """Build the contest day at url, serve it beside the hello, and measure."""
    load = [round(os.getloadavg()[0], 2)]
    plan = build(url)
    server = {"workers": args.workers, "worker_class": args.worker_class, "threads": args.threads}
    with (
        gunicorn(url, app="bench.wsgi_app:app", **server) as (host, port),
        gunicorn(url, app="bench.bare_hello:app", **server) as (hello_host, hello_port),
    ):
        organizer = sign_in(host, port, "organizer", plan["organizer_password"])
        put_on_stage(organizer, plan)
        cookies = visitors(host, port, plan)
        faults: list[str] = []

        def requests_of(target: str):
            if target == "hello":
                size = answer_bytes(*fetch(hello_host, hello_port, "/hello"))
                return hello_host, hello_port, [("/hello", {})], size
            found, size, bad = mix(host, port, [cookies.get(c) for c in TARGETS[target]])
            faults.extend(bad)
            return host, port, found, size

        def measure(target: str, duration: float) -> dict:
            h, p, requests, size = requests_of(target)
            result = wrk(
                h,
                p,
                requests,
                duration=duration,
                connections=args.connections,
                threads=args.wrk_threads,
                tmp=tmp,
            )
            weight = result["bytes_per_answer"]
            if not 0.7 * size - 100 <= weight <= 1.3 * size + 100:
                faults.append(f"{target}: wrk read {weight:.0f} bytes an answer, not ~{size:.0f}")
            return result

        targets = args.targets
        for target in targets:  # fill every worker's caches and connections, untimed
            measure(target, 2)
        runs = {phase: {t: [] for t in targets} for phase in PHASES}
        for r in range(args.rounds):
            for target in targets[r % len(targets) :] + targets[: r % len(targets)]:
                runs["alone"][target].append(measure(target, args.duration))
        crowd = Crowd(
            host,
            port,
            plan,
            url,
            every=args.submit_every,
            downloaders=args.downloaders,
            xlsx=XLSX,
            organizer=organizer,
            warmup=args.warmup,
        )
        windows = []
        each = int((args.duration + args.warmup) / args.submit_every) + 2
        try:
            for r in range(args.rounds):
                for target in targets[r % len(targets) :] + targets[: r % len(targets)]:
                    crowd.refill(each)
                    with crowd.window() as stats:
                        runs["contest_day"][target].append(measure(target, args.duration))
                    windows.append(stats.summary())
            crowd.refill(int((args.duration + args.warmup + args.probes) / args.submit_every) + 2)
            with crowd.window() as stats:
                background = threading.Thread(
                    target=measure, args=("public", args.duration + args.probes), daemon=True
                )
                background.start()
                seen = visibility(crowd, args.probes, args.workers)
                background.join()
            visibility_crowd = stats.summary()
        finally:
            crowd.close()
    load.append(round(os.getloadavg()[0], 2))
    result = {"phases": {}, "load_average": load, "faults": faults[:20]}
    for phase, by_target in runs.items():
        rows = {t: median_runs(rs) for t, rs in by_target.items()}
        if "hello" in by_target:
            hello = by_target["hello"]
            for target, rs in by_target.items():
                rows[target]["rps_ratio"] = median(
                    [
                        x["requests_per_s"] / h["requests_per_s"]
                        for x, h in zip(rs, hello, strict=True)
                    ]
                )
                rows[target]["p99_ratio"] = median(
                    [x["p99_ms"] / h["p99_ms"] for x, h in zip(rs, hello, strict=True)]
                )
        result["phases"][phase] = {"targets": rows, "rounds": by_target}
    result["crowd"] = _crowd_totals(windows)
    result["crowd"]["reopened_between_runs"] = crowd.reopened
    result["visibility"] = {"sheets": seen, "crowd": visibility_crowd}
    result["targets_met"] = _verdict(result)
    return result


def _crowd_totals(windows: list[dict]) -> dict:
    seconds = sum(w["seconds"] for w in windows)
    total = {
        k: sum(w[k] for w in windows)
        for k in ("sheets", "sheet_errors", "sheets_lost", "downloads", "download_errors")
    }
    return {
        **total,
        "seconds": seconds,
        "sheets_per_s": total["sheets"] / seconds,
        "downloads_per_s": total["downloads"] / seconds,
        "submit_p99_ms": median([w["submit_p99_ms"] for w in windows]),
        "download_p50_ms": median([w["download_p50_ms"] for w in windows]),
        "errors_seen": [e for w in windows for e in w["errors_seen"]][:10],
        "windows": windows,
    }


def _verdict(result: dict) -> dict:
    """The issue's targets, each met or not."""
    met = {}
    for phase, floor in (("alone", 1.0), ("contest_day", 0.8)):
        rows = result["phases"][phase]["targets"]
        for target, row in rows.items():
            if target == "hello" or "rps_ratio" not in row:
                continue
            rps, p99 = row["rps_ratio"], row["p99_ratio"]
            met[f"{phase} {target} req/s {rps:.3f} x hello >= {floor}"] = rps >= floor
            met[f"{phase} {target} p99 {p99:.2f} x hello's <= 2"] = p99 <= 2
        met[f"{phase} no wrk errors"] = not any(r["errors"] for r in rows.values())
    crowd = result["crowd"]
    met["judges and downloads: no errors, none lost"] = not (
        crowd["sheet_errors"] or crowd["sheets_lost"] or crowd["download_errors"]
    )
    sheets = result["visibility"]["sheets"]
    worst = [s.get("every_worker_ms") for s in sheets]
    met[f"every worker shows a sheet within {VISIBILITY_LIMIT_MS} ms"] = bool(sheets) and all(
        w is not None and w <= VISIBILITY_LIMIT_MS for w in worst
    )
    met["the mix was answered as intended"] = not result["faults"]
    return met


def report(kind: str, r: dict) -> list[str]:
    """The table of one database."""
    lines = []
    for phase, label in PHASES.items():
        for target, row in r["phases"][phase]["targets"].items():
            ratio = f"{row['rps_ratio']:5.2f}x" if "rps_ratio" in row else "     "
            p99r = f"{row['p99_ratio']:5.2f}x" if "p99_ratio" in row else "     "
            kinds = f" {row['error_kinds']}" if row["errors"] else ""
            lines.append(
                f"{kind:10} {label:17} {target:9} {row['requests_per_s']:8.0f} {ratio} "
                f"{row['p50_ms']:8.2f} {row['p99_ms']:8.2f} {p99r} {row['errors']:6}{kinds}"
            )
    c = r["crowd"]
    lines.append(
        f"{kind:10} judges: {c['sheets']} sheets in {c['seconds']:.0f} s "
        f"({c['sheets_per_s']:.2f}/s), POST p99 {c['submit_p99_ms']:.0f} ms, errors "
        f"{c['sheet_errors']}, lost {c['sheets_lost']}, reopened between runs "
        f"{c['reopened_between_runs']} | xlsx: {c['downloads']} ({c['downloads_per_s']:.2f}/s), "
        f"p50 {c['download_p50_ms']:.0f} ms, errors {c['download_errors']}"
    )
    sheets = r["visibility"]["sheets"]
    firsts = [s["first_ms"] for s in sheets if s.get("first_ms") is not None]
    everys = [s.get("every_worker_ms") for s in sheets]
    worst = "never" if None in everys or not everys else f"{max(everys):.1f} ms"
    lines.append(
        f"{kind:10} visibility under load ({len(sheets)} sheets): every worker's answer "
        f"within {worst} (limit {VISIBILITY_LIMIT_MS} ms), the first new answer within "
        f"{max(firsts):.1f} ms, stale answers {sum(s.get('stale_answers', 0) for s in sheets)}, "
        f"workers heard {max((s.get('workers_seen', 0) for s in sheets), default=0)}"
        if firsts
        else f"{kind:10} visibility: no sheet shown within 30 s {sheets}"
    )
    for fault in r["faults"][:5]:
        lines.append(f"{kind:10} FAULT in the mix: {fault}")
    for error in r["crowd"]["errors_seen"][:5]:
        lines.append(f"{kind:10} crowd error: {error}")
    missed = [name for name, ok in r["targets_met"].items() if not ok]
    lines.append(
        f"{kind:10} load average {r['load_average']} (nproc {os.cpu_count()}) | targets: "
        + ("all met" if not missed else f"MISSED {len(missed)}: " + "; ".join(missed))
    )
    return lines


def main() -> int:
    """Run the bench and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--targets", default="hello,public,cookie")
    parser.add_argument("--submit-every", type=float, default=10)
    parser.add_argument("--downloaders", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--probes", type=int, default=5)
    parser.add_argument("--warmup", type=float, default=1)
    args = parser.parse_args()
    args.targets = args.targets.split(",")
    unknown = set(args.targets) - set(TARGETS) - {"hello"}
    if unknown or "hello" not in args.targets:
        parser.error(f"--targets: hello and some of {', '.join(TARGETS)}")
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk): bench/contest_day.py skipped")
        return 0
    print(
        f"gunicorn {args.worker_class} {args.workers} x {args.threads} (app and hello alike); "
        f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration:g}s; "
        f"median of {args.rounds} rotated rounds; judges: 29, a sheet every "
        f"{args.submit_every:g} s each; {args.downloaders} xlsx downloaders"
    )
    print(
        f"{'database':10} {'phase':17} {'target':9} {'req/s':>8} {'hello':>6} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'hello':>6} {'errors':>6}"
    )
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.db.split(","):
            result = run_database(kind, Path(tmp), args)
            if result is None:
                continue
            results[kind] = result
            print("\n".join(report(kind, result)), flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "contest_day.json").write_text(
        json.dumps({"settings": vars(args), **results}, indent=2, default=str)
    )
    bad = any(
        not ok
        for r in results.values()
        for name, ok in r["targets_met"].items()
        if "error" in name or "intended" in name
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
