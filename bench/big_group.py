"""A group of 100,000 entries on the public pages, the API and the workbook (issue 13, item 5).

One contest, one group of --entries entries (bench/ranking.py's generator: 5 submitted
sheets each from 5,000 judges, 6 criteria), its stage published the way a loader
publishes (``publish_as_loaded``: results frozen into a snapshot), and a second, draft
stage standing for the rest of the contest. Served by gunicorn with the contest-day
settings (gthread, 2 workers x 4 threads) beside the bare ``/hello`` app of
bench/bare_hello.py, and measured from a client on loopback, one request at a time:

- ``first screen, cold``: page 1 of the standings right after the server starts (the
  whole standings built from the snapshot, one page rendered);
- ``first screen after a sheet elsewhere``: a change of another stage (a judge's sheet
  there: ``bump_stage_version``), then page 1, median of --probes (each after its own
  change): a published stage's pages do not depend on it;
- ``first screen after the organizer's change``: the contest's own version bumped (what a
  republication or a settings change does), then page 1 at once, median of --probes;
  answered from the previous version (``X-Cache: stale``) while the new one is built, or
  built when nothing older is cached;
- the same pages warm: page 1, a middle page, the polled table, the API (100 and 1,000
  rows per page);
- the public workbook of the stage: the first download (built) and the next (from disk);
- ``hello``: the bare app's GET in the same run, median of --probes, as the baseline.

Each figure is a median of --probes requests (the cold ones are single); the last column is
its ratio to hello. Checks: every answer 200 (or 304 none), the page holds 100 rows, the
API's total equals the group's entries, the workbook opens with every entry in it.

    .venv/bin/python bench/big_group.py [--db sqlite,postgresql] [--entries 100000]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    db_name,
    drop_database,
    fetch,
    fresh_database,
    gunicorn,
    median,
)
from bench.ranking import generate, make_app  # noqa: E402

SLUG = "bench-ranking"
DB = "judging_bench_big_group"
SERVER = {"workers": 2, "worker_class": "gthread", "threads": 4}


def publish(url: str, stage_id: int) -> dict:
    """Publish the stage as a loader does, add a draft stage; return what the client needs."""
    from judging.awards.workflow import publish_as_loaded
    from judging.common.enums import StageState
    from judging.contests.models import Stage
    from judging.extensions import db

    app = make_app(url)
    with app.app_context():
        stage = db.session.get(Stage, stage_id)
        stage.state = StageState.PUBLISHED
        other = Stage(
            contest_id=stage.contest_id, position=2, code="later", name="复赛", state="draft"
        )
        db.session.add(other)
        started = time.perf_counter()
        publish_as_loaded(stage, user=None)
        db.session.commit()
        frozen = time.perf_counter() - started
        plan = {
            "contest": stage.contest_id,
            "code": stage.code,
            "group": stage.contest.groups[0].code,
            "other": other.id,
            "publish_s": frozen,
        }
        db.session.remove()
        db.engine.dispose()
    return plan


def bump(url: str, contest_id: int, stage_id: int | None) -> None:
    """A change elsewhere (a sheet of stage_id) or, with None, the contest's own version."""
    from judging.contests.versions import bump_data_version, bump_stage_version
    from judging.extensions import db

    app = make_app(url)
    with app.app_context():
        if stage_id is None:
            bump_data_version(contest_id)
        else:
            bump_stage_version(contest_id, stage_id=stage_id)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def timed(host: str, port: int, path: str) -> tuple[float, int, dict, bytes]:
    """(ms, status, headers, body) of one GET."""
    started = time.perf_counter()
    status, headers, body = fetch(host, port, path, timeout=600)
    return 1000 * (time.perf_counter() - started), status, headers, body


def run(kind: str, tmp: Path, entries: int, probes: int) -> dict | None:
    url = fresh_database(kind, tmp, DB)
    if url is None:
        return None
    try:
        return _run(url, entries, probes)
    finally:
        if kind == "postgresql":
            drop_database(db_name(DB))


def _run(url: str, entries: int, probes: int) -> dict:
    started = time.perf_counter()
    made = generate(url, entries, max(29, entries // 20), 1)
    plan = publish(url, made["stage"])
    print(
        f"  built: {entries:,} entries, {made['counts']['score_sheets']:,} sheets in "
        f"{time.perf_counter() - started:.0f} s (publishing {plan['publish_s']:.1f} s)",
        flush=True,
    )
    page = f"/results/{SLUG}/{plan['code']}/{plan['group']}"
    api = f"/api/v1/contests/{SLUG}/stages/{plan['code']}/groups/{plan['group']}/standings"
    xlsx = f"/results/{SLUG}/{plan['code']}.xlsx"
    out: dict[str, float] = {}
    faults: list[str] = []
    stale = 0

    def check(name: str, status: int, body: bytes, rows: int | None = None) -> None:
        if status != 200:
            faults.append(f"{name}: HTTP {status}")
        elif rows is not None:
            found = len(re.findall(rb'<td class="num rank">', body))
            if found != rows:
                faults.append(f"{name}: {found} rows, not {rows}")

    with (
        gunicorn(url, app="bench.wsgi_app:app", **SERVER) as (host, port),
        gunicorn(url, app="bench.bare_hello:app", **SERVER) as (hello_host, hello_port),
    ):
        ms, status, _, body = timed(host, port, page)
        check("cold", status, body, 100)
        out["first screen, cold"] = ms
        for _ in range(3):  # both workers have it
            timed(host, port, page)

        samples = []
        for _ in range(probes):
            bump(url, plan["contest"], plan["other"])
            ms, status, _, body = timed(host, port, page)
            check("after a sheet elsewhere", status, body, 100)
            samples.append(ms)
        out["first screen after a sheet elsewhere"] = median(samples)

        samples, fresh = [], []
        for _ in range(probes):
            bump(url, plan["contest"], None)
            ms, status, headers, body = timed(host, port, page)
            check("after the organizer's change", status, body, 100)
            stale += headers.get("X-Cache") == "stale"
            samples.append(ms)
            # until this worker answers the new version (its build done)
            began = time.perf_counter()
            while True:
                _, status, headers, _ = timed(host, port, page)
                if headers.get("X-Cache") != "stale" or time.perf_counter() - began > 120:
                    break
                time.sleep(0.05)
            fresh.append(1000 * (time.perf_counter() - began) + ms)
            for _ in range(3):
                timed(host, port, page)
        out["first screen after the organizer's change"] = median(samples)
        out["  slowest of them"] = max(samples)
        out["  new version everywhere (build)"] = median(fresh)

        middle = max(1, entries // 200)
        for name, path, rows in (
            ("page 1, warm", page, 100),
            (f"page {middle}, warm", f"{page}?page={middle}", 100),
            ("polled table, warm", f"{page}/table?page=2", 100),
            ("API, 100 rows", api, None),
            ("API, 1,000 rows", f"{api}?per_page=1000", None),
        ):
            timed(host, port, path)  # built once
            samples = []
            for _ in range(probes):
                ms, status, _, body = timed(host, port, path)
                check(name, status, body, rows)
                samples.append(ms)
            out[name] = median(samples)
            if name == "API, 100 rows":
                import json

                total = json.loads(body)["total"]
                if total != entries:
                    faults.append(f"API total {total}, not {entries}")

        ms, status, _, body = timed(host, port, xlsx)
        check("workbook", status, body)
        out["workbook, first download"] = ms
        samples = [timed(host, port, xlsx)[0] for _ in range(probes)]
        out["workbook, next downloads"] = median(samples)
        out["  workbook MiB"] = len(body) / 2**20
        if status == 200:
            import openpyxl

            book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
            rows = sum(
                1 for sheet in book.worksheets[1:] for _ in sheet.iter_rows(values_only=True)
            )
            if rows < entries:
                faults.append(f"workbook: {rows} rows, fewer than {entries}")

        out["hello"] = median([timed(hello_host, hello_port, "/hello")[0] for _ in range(probes)])
    out["stale answers"] = stale
    out["faults"] = faults
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--probes", type=int, default=5)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.entries:,} entries in one group")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.db.split(","):
            print(f"{kind}:", flush=True)
            out = run(kind, Path(tmp), args.entries, args.probes)
            if out is None:
                continue
            hello = out["hello"]
            for name, value in out.items():
                if name in ("faults", "stale answers", "hello"):
                    continue
                if "MiB" in name:
                    print(f"  {name:<46} {value:9.1f}")
                else:
                    print(f"  {name:<46} {value:9.1f} ms  {value / hello:8.1f}x hello")
            print(f"  {'hello':<46} {hello:9.1f} ms")
            print(f"  answered stale while building: {out['stale answers']}")
            first = out["first screen after the organizer's change"]
            verdict = "met" if first < 300 and not out["faults"] else "MISSED"
            print(f"  first screen after a change < 300 ms, 0 faults: {verdict}")
            for fault in out["faults"]:
                print(f"  FAULT {fault}")
            failed |= bool(out["faults"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
