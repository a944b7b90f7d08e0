"""Where a judge's submission spends its time (issue 13, item 6): cProfile on the real view.

Builds bench/scoring.py's contest in a fresh database (a SQLite file, or a PostgreSQL
database named ``<BENCH_DB_PREFIX>judging_bench_scoring_profile``, dropped afterwards),
signs one judge in through the app's sign-in form and sends their submissions through
the whole WSGI stack (production's ``create_app``: the front door, sessions, CSRF, the
rate limiter's hooks, the view, the commit) with Werkzeug's test client, keeping the
cookie the judge had before the first one, as bench/scoring.py's clients do. A few
submissions warm up first (compiled statements, caches), untimed.

Prints: the time per submission without and with the profiler, and the same for the
bare upsert of bench/bare_upsert.py in this process (the in-process ratio: no server, no
client); the SQL statements of one submission, counted as SQLAlchemy's
``before_cursor_execute`` sees them, with their text; the time of named parts (session,
CSRF, form, points, checks, writes, audit, version bump, flash, redirect, commit, the
hooks) per submission; and the top entries of the profile by cumulative time.

    .venv/bin/python bench/scoring_profile.py [--db sqlite] [--sheets 100] [--top 40]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import db_name, drop_database, fresh_database  # noqa: E402
from bench.scoring import PASSWORD, build_contest, requests_for  # noqa: E402

WARMUP = 5
BATCH = 10
NAME = "judging_bench_scoring_profile"

#: The parts of a submission named in the report: (label, file ending, function name).
#: Times are cumulative (a part includes what it calls), so they overlap and do not add up.
PARTS = [
    ("whole request (WSGI)", "flask/app.py", "wsgi_app"),
    ("front door", "leaderboard/front.py", "__call__"),
    ("session open (cookie)", "flask/sessions.py", "open_session"),
    ("session save (cookie)", "flask/sessions.py", "save_session"),
    ("before_request hooks", "flask/app.py", "preprocess_request"),
    ("  CSRF protect", "flask_wtf/csrf.py", "protect"),
    ("  rate limiter hook", "flask_limiter/extension.py", "_check_request_limit"),
    ("after_request hooks", "flask/app.py", "process_response"),
    ("  commit (end_request)", "common/transactions.py", "end_request"),
    ("  rate limiter headers", "flask_limiter/extension.py", "__inject_headers"),
    ("teardown (session remove)", "flask/app.py", "do_teardown_appcontext"),
    ("load user (Flask-Login)", "flask_login/login_manager.py", "_load_user"),
    ("  load_user (query)", "auth/views.py", "load_user"),
    ("view", "scoring/views.py", "sheet"),
    ("  sheet target + rubric", "scoring/queries.py", "sheet_target"),
    ("  posted sheet (no form)", "scoring/forms.py", "posted_sheet"),
    ("  form build (errors only)", "wtforms/form.py", "__call__"),
    ("  write_sheet", "scoring/services.py", "write_sheet"),
    ("    check points (Decimal)", "scoring/services.py", "check_points"),
    ("    write_phase (SQLite)", "common/db.py", "write_phase"),
    ("    may write (refusals only)", "scoring/services.py", "_may_write"),
    ("    scores", "scoring/services.py", "_write_scores"),
    ("    audit record", "common/audit.py", "record"),
    ("      audit hash", "common/audit.py", "event_hash"),
    ("    version bump", "contests/versions.py", "bump_stage_version"),
    ("  flash", "flask/helpers.py", "flash"),
    ("  gettext", "flask_babel/__init__.py", "gettext"),
    ("  url_for", "flask/helpers.py", "url_for"),
    ("  redirect", "flask/helpers.py", "redirect"),
    ("SQL: execute (all)", "sqlalchemy/engine/base.py", "_execute_context"),
    ("SQL: driver (all)", "sqlalchemy/engine/default.py", "do_execute"),
    ("SQL: driver executemany", "sqlalchemy/engine/default.py", "do_executemany"),
]


def sign_in(app, username: str) -> tuple[str, str]:
    """Sign a judge in through the form; (Cookie header, CSRF token) as after the sign-in."""
    import re

    client = app.test_client()

    def token(path: str) -> str:
        page = client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    answer = client.post(
        "/sign-in",
        data={"csrf_token": token("/sign-in"), "username": username, "password": PASSWORD},
    )
    assert answer.status_code == 302, answer.status_code
    csrf = token("/judge/")
    cookie = client.get_cookie("session")
    return f"session={cookie.value}", csrf


def send(client, requests, cookie: str) -> list[int]:
    """POST each (path, body) with the same cookie; the statuses."""
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    return [client.post(path, data=body, headers=headers).status_code for path, body in requests]


def part_times(stats: pstats.Stats, count: int) -> list[tuple[str, float, int]]:
    """(label, cumulative ms per submission, calls per submission) of each named part."""
    rows = []
    for label, file_end, func in PARTS:
        total, calls = 0.0, 0
        for (filename, _line, name), (_cc, nc, _tt, ct, _callers) in stats.stats.items():
            if name == func and filename.endswith(file_end):
                total += ct
                calls += nc
        rows.append((label, 1000 * total / count, calls / count))
    return rows


def short(func: tuple) -> str:
    """A profile entry's name: the file's last two parts, the line and the function."""
    filename, line, name = func
    return f"{'/'.join(Path(filename).parts[-2:])}:{line}({name})"


def call_tree(stats: pstats.Stats, pattern: str, count: int, *, depth: int) -> list[str]:
    """The callees of the functions whose name matches pattern, ``depth`` levels down,
    each with its cumulative ms per submission as called from its parent."""
    import re

    callees: dict[tuple, dict[tuple, tuple]] = {}
    for func, (_cc, _nc, _tt, _ct, callers) in stats.stats.items():
        for caller, timing in callers.items():
            callees.setdefault(caller, {})[func] = timing
    lines = []

    def walk(func, level):
        if level > depth:
            return
        children = sorted(callees.get(func, {}).items(), key=lambda kv: -kv[1][3])
        for child, (_cc, nc, _tt, ct) in children:
            if 1000 * ct / count < 0.005:
                continue
            lines.append(
                f"{'  ' * level}{1000 * ct / count:7.3f} ms {nc / count:5.1f}x {short(child)}"
            )
            walk(child, level + 1)

    for func in stats.stats:
        if re.search(pattern, short(func)):
            ct = stats.stats[func][3]
            lines.append(f"{1000 * ct / count:7.3f} ms {short(func)}")
            walk(func, 1)
    return lines


def statements_of_one(app_client, engine, request, cookie: str) -> list[str]:
    """The statements one submission sends, as ``before_cursor_execute`` sees them."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert send(app_client, [request], cookie) == [302]
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return seen


def main() -> int:
    """Profile and print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--sheets", type=int, default=100, help="profiled submissions")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument(
        "--callees", default="", help="also print what functions matching this regex call"
    )
    parser.add_argument("--depth", type=int, default=2, help="levels of --callees")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = fresh_database(args.db, Path(tmp), NAME)
        if url is None:
            return 1
        try:
            return profile(url, args)
        finally:
            if args.db == "postgresql":
                drop_database(db_name(NAME))


def profile(url: str, args) -> int:
    """Build, sign in, time and profile; print the report."""
    plan = build_contest(url)
    os.environ.update(DATABASE_URL=url, SECRET_KEY="bench-secret")
    from bench import bare_upsert
    from judging import create_app
    from judging.extensions import db

    app = create_app()
    with app.app_context():
        engine = db.engine
    # Three judges: one warms up and is timed plainly, one is profiled, one gives the
    # statements; each has 116 sheets.
    (u1, j1), (u2, j2), (u3, j3) = plan["judges"][:3]
    need = WARMUP + args.sheets
    if need > len(plan["entries"]):
        raise SystemExit(f"--sheets at most {len(plan['entries']) - WARMUP}")
    client = app.test_client(use_cookies=False)
    bare = bare_upsert.app.test_client(use_cookies=False)

    cookie1, token1 = sign_in(app, u1)
    reqs = requests_for(plan, j1, 1.0, "app", token1)[:need]
    bare_reqs = requests_for(plan, j1, 1.0, "bare", token1)[:need]
    send(client, reqs[:WARMUP], cookie1)
    send(bare, bare_reqs[:WARMUP], cookie1)
    timing = {"app": {"cpu": [], "wall": []}, "bare": {"cpu": [], "wall": []}}
    # Batches of the two in turn, so that both see the same moments of a shared machine;
    # CPU time of this process (SQLite runs in it; PostgreSQL's server does not).
    for start in range(WARMUP, need, BATCH):
        for target, target_client, batch in (
            ("app", client, reqs[start : start + BATCH]),
            ("bare", bare, bare_reqs[start : start + BATCH]),
        ):
            cpu, wall = time.process_time(), time.perf_counter()
            statuses = send(target_client, batch, cookie1)
            timing[target]["cpu"].append(1000 * (time.process_time() - cpu) / len(batch))
            timing[target]["wall"].append(1000 * (time.perf_counter() - wall) / len(batch))
            assert set(statuses) == {302}, statuses

    cookie2, token2 = sign_in(app, u2)
    reqs = requests_for(plan, j2, 2.0, "app", token2)[:need]
    send(client, reqs[:WARMUP], cookie2)
    profiler = cProfile.Profile()
    profiler.enable()
    send(client, reqs[WARMUP:], cookie2)
    profiler.disable()
    bare_profiler = cProfile.Profile()
    bare_profiler.enable()
    send(bare, bare_reqs[WARMUP:], cookie1)
    bare_profiler.disable()

    cookie3, token3 = sign_in(app, u3)
    reqs = requests_for(plan, j3, 3.0, "app", token3)
    send(client, reqs[:WARMUP], cookie3)
    statements = statements_of_one(client, engine, reqs[WARMUP], cookie3)

    stats = pstats.Stats(profiler)
    bare_stats = pstats.Stats(bare_profiler)
    print(f"database: {engine.dialect.name}; {args.sheets} submissions after {WARMUP} warm-up")
    print("per request, in this process (batches of the two in turn; min / median of batches):")
    for target, label in (("app", "submission"), ("bare", "bare upsert")):
        cpu, wall = timing[target]["cpu"], timing[target]["wall"]
        print(
            f"  {label:12} CPU {min(cpu):6.3f} / {statistics.median(cpu):6.3f} ms, "
            f"wall {min(wall):6.3f} / {statistics.median(wall):6.3f} ms"
        )
    ratio = statistics.median(timing["bare"]["cpu"]) / statistics.median(timing["app"]["cpu"])
    print(f"  in-process CPU ratio (bare / submission, medians): {ratio:.3f}")
    calls, bare_calls = stats.total_calls / args.sheets, bare_stats.total_calls / args.sheets
    print(
        f"  Python function calls per request (exact, unlike times): submission {calls:.0f}, "
        f"bare upsert {bare_calls:.0f}"
    )
    print(f"\nSQL statements of one submission: {len(statements)}")
    for i, text in enumerate(statements, 1):
        print(f"  {i:2}. {text[:160]}{' …' if len(text) > 160 else ''}")
    print("\nnamed parts (cumulative ms per submission, profiled; they overlap):")
    for label, ms, calls in part_times(stats, args.sheets):
        print(f"  {label:30} {ms:7.3f} ms  {calls:5.1f} calls")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
    print(f"\ntop {args.top} by {args.sort}:")
    print(out.getvalue().split("\n", 4)[-1].rstrip())
    if args.callees:
        print(f"\nwhat {args.callees!r} calls (ms per submission, cumulative):")
        for line in call_tree(stats, args.callees, args.sheets, depth=args.depth):
            print(line)
    engine.dispose()
    bare_upsert.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
