"""Soak: judges submitting sheets while the public reads the leaderboard, through crashes
(issue 16, item 8).

``--judges`` judges (50; 20 with ``--small``), one thread each, sign in through the form
and submit their sheets of an open stage over HTTP as fast as the server answers: open
the sheet page (CSRF token, version), post the points, on to the next entry. Readers
(``--readers`` threads) read the public pages meanwhile: the contest page, the published
standings, the screen and the live API. The server is gunicorn as in the other benches
(gthread, 2 workers x 4 threads, production's app wrapped to name the answering worker).

While they run, a gunicorn worker is SIGKILLed twice (at 25 % and 55 % of the run) and,
on PostgreSQL, the database crashes and restarts once (``pg_ctl restart -m immediate``,
at 80 %). PostgreSQL is a throwaway cluster of the soak's own (``initdb`` in a temporary
directory, as the postgres user when run as root, on a free port, fsync on): the shared
server is never touched.

A judge retries whatever was not acknowledged (a connection error or a 5xx is not an
acknowledgement; a 2xx or 3xx answer is): it opens the sheet page again, and when the
sheet shows as submitted there (the lost answer's write did commit) it moves on, else it
posts again. The points a judge gives are fixed by (judge, entry), so a retry sends the
same ones.

Afterwards, with the server stopped, the checks:

- every acknowledged sheet is in the database, submitted, with the points that were sent
  (every criterion's row, nothing else), and so is every sheet found submitted on reload;
- no two sheets for one (judge, entry, stage);
- the audit chains verify (the contest's and the global one: judging.common.audit);
- SQLite: ``PRAGMA integrity_check`` and ``foreign_key_check``; PostgreSQL: no score row
  without its sheet, and ``pg_amcheck`` over the tables and indexes when installed.

Printed per database: sheets acknowledged, present, lost, with other points, duplicated,
found submitted on reload, errors by kind (judges and readers), each disruption's recovery
(until the last error it caused; for a killed worker, until its replacement answered; for
the database, until the first sheet acknowledged after it), sheets/s. The exit status is 1
when anything is lost, duplicated, wrong or corrupt, or a disruption did not happen.

    .venv/bin/python bench/soak.py [--small] [--db sqlite,postgresql] [--judges 50]
        [--seconds 120] [--readers 4] [--entries 400]

Results: the report, and bench/results/soak.json.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import html
import json
import os
import pwd
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Client, fetch, free_port, gunicorn, percentile  # noqa: E402
from bench.crowd import form_fields  # noqa: E402

SLUG = "soak"
PASSWORD = "soak-bench-password"
GROUPS = ("angel", "growth")
RUBRIC = [("技术与产品", 30, "0.5"), ("商业模式", 25, "0.5"), ("团队", 25, "1"), ("路演", 20, "1")]
SIZES = {
    "full": {"judges": 50, "entries": 400, "seconds": 120.0, "readers": 4},
    "small": {"judges": 20, "entries": 400, "seconds": 45.0, "readers": 2},
}
#: When the disruptions happen, as shares of the run: two worker kills, then (PostgreSQL
#: only) the database's crash and restart.
KILLS = (0.25, 0.55)
DB_RESTART = 0.80
#: A judge gives up on a sheet after this many tries (each: the page, then the post).
ATTEMPTS = 40
SERVER = {"workers": 2, "worker_class": "gthread", "threads": 4, "app": "bench.wsgi_app:app"}


# -- the throwaway PostgreSQL cluster --------------------------------------------------------


def _pg_bin() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin that has initdb."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    if not found:
        raise RuntimeError("initdb not found under /usr/lib/postgresql/*/bin")
    return max(found, key=lambda p: int(re.sub(r"\D", "", p.parent.name) or 0))


class Cluster:
    """A PostgreSQL cluster of the soak's own: initdb in a temporary directory, started on
    a free port (loopback, socket in the same directory), fsync on; crashed and restarted
    by ``restart``, removed by ``close``."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="soak-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8")
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on "
            "-c synchronous_commit=on -c full_page_writes=on -c max_connections=60"
        )
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "start")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{SLUG}"
        admin = sa.create_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres",
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{SLUG}"'))
        admin.dispose()

    def _run(self, tool: str, *args) -> None:
        """Run one of PostgreSQL's tools; its output goes to a file, not a pipe: a server
        that pg_ctl starts keeps its inherited descriptors open, and a pipe would never
        end."""
        cmd = [*self.as_user, str(self.bin / tool), *map(str, args)]
        with tempfile.TemporaryFile(mode="w+") as out:
            result = subprocess.run(cmd, stdout=out, stderr=out, timeout=300, check=False)
            if result.returncode:
                out.seek(0)
                raise RuntimeError(f"{tool} failed ({result.returncode}): {out.read()[-2000:]}")

    def restart(self) -> None:
        """Crash the server (immediate: no checkpoint, recovery from the WAL) and start it."""
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-m", "immediate", "-w", "restart")

    def amcheck(self) -> str | None:
        """pg_amcheck over the database (heap and B-tree indexes): None when clean, else
        its report; 'not installed' is reported as clean with a note."""
        if not (self.bin / "pg_amcheck").exists():
            return None
        result = subprocess.run(
            [*self.as_user, str(self.bin / "pg_amcheck"), "--install-missing", "--heapallindexed"]
            + ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", SLUG],
            capture_output=True,
            text=True,
        )
        return None if result.returncode == 0 else (result.stdout + result.stderr).strip()

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


# -- the contest -----------------------------------------------------------------------------


def build_contest(url: str, judges: int, entries: int) -> dict:
    """The schema and a contest: a published stage (what the public reads) and an open
    one every judge scores every entry of; what the clients need."""
    from judging import Config, create_app
    from judging.auth.models import User
    from judging.auth.passwords import hash_password
    from judging.common.enums import Role, StageKind, StageState
    from judging.contests.models import Contest, Criterion, Group, Stage
    from judging.entries.models import Entry
    from judging.extensions import db
    from judging.judges.models import Assignment, Judge

    config = Config()
    config.SQLALCHEMY_DATABASE_URI = url
    app = create_app(config)
    with app.app_context():
        db.create_all()
        contest = Contest(slug=SLUG, name="Soak contest", year=2020)
        prelim = Stage(
            contest=contest, position=1, code="prelim", name="初赛", state=StageState.PUBLISHED
        )
        final = Stage(
            contest=contest,
            position=2,
            code="final",
            name="决赛",
            kind=StageKind.ROADSHOW,
            state=StageState.OPEN,
        )
        db.session.add_all([contest, prelim, final])
        rows, criteria = [], {}
        for pos, code in enumerate(GROUPS, 1):
            group = Group(contest=contest, code=code, name=code, position=pos)
            for stage in (prelim, final):
                made = [
                    Criterion(
                        stage=stage,
                        group=group,
                        position=i,
                        name=name,
                        max_points=Decimal(top),
                        step=Decimal(step),
                    )
                    for i, (name, top, step) in enumerate(RUBRIC, 1)
                ]
                db.session.add_all(made)
                if stage is final:
                    criteria[code] = made
            rows += [
                Entry(
                    contest=contest,
                    group=group,
                    code=f"{code[0].upper()}-{i:03d}",
                    title=f"项目 {i}",
                )
                for i in range(pos, entries + 1, len(GROUPS))
            ]
        db.session.add_all(rows)
        digest = hash_password(PASSWORD)  # one hash for every account: setup speed only
        made_judges = []
        for i in range(1, judges + 1):
            user = User(username=f"soak{i:02d}", role=Role.JUDGE, password_hash=digest)
            made_judges.append(Judge(contest=contest, user=user, name=f"评委{i:02d}"))
        db.session.add_all(made_judges)
        db.session.flush()
        db.session.execute(
            sa.insert(Assignment),
            [
                {"stage_id": final.id, "judge_id": j.id, "entry_id": e.id}
                for j in made_judges
                for e in rows
            ],
        )
        db.session.commit()
        plan = {
            "contest": contest.id,
            "final": final.id,
            "entries": [e.id for e in rows],
            "criteria": {
                e.id: [(c.id, str(c.max_points), str(c.step)) for c in criteria[e.group.code]]
                for e in rows
            },
            "judges": [(j.id, j.user.username) for j in made_judges],
            "reads": [
                f"/results/{SLUG}",
                *(f"/results/{SLUG}/prelim/{g}" for g in GROUPS),
                f"/screen/{SLUG}",
                f"/api/v1/contests/{SLUG}/live",
            ],
        }
        db.engine.dispose()
    return plan


def points_for(plan: dict, judge_id: int, entry_id: int) -> dict[str, str]:
    """The points a judge gives an entry (the same on every try): on each criterion's step,
    within 40-99 % of its maximum."""
    fields = {}
    for cid, top, step in plan["criteria"][entry_id]:
        share = 40 + (judge_id * 7 + entry_id * 13 + cid * 3) % 60
        steps = int(Decimal(top) / Decimal(step) * share / 100)
        fields[f"c{cid}"] = str(Decimal(step) * steps)
    return fields


def server_state(text: str) -> str | None:
    """The sheet's state as the sheet page gives it to its script (``data-server``)."""
    match = re.search(r"data-server='([^']*)'", text)
    return json.loads(html.unescape(match.group(1)))["state"] if match else None


def error_kind(err: BaseException) -> str:
    """A short name for a failed request: the exception's class (refused, reset, …)."""
    return type(err).__name__


# -- the run ---------------------------------------------------------------------------------


class Soak:
    """The judges and the readers, the disruptions' timeline and what was acknowledged."""

    def __init__(self, host: str, port: int, plan: dict, seconds: float, readers: int):
        self.host, self.port, self.plan, self.seconds = host, port, plan, seconds
        self.lock = threading.Lock()
        self.stop_at = float("inf")
        self.stopped = threading.Event()
        self.acknowledged: dict[tuple[int, int], dict[str, str]] = {}
        self.on_reload: dict[tuple[int, int], dict[str, str]] = {}  # unanswered, yet submitted
        self.gave_up: list[tuple[int, int]] = []
        self.errors: Counter[str] = Counter()
        self.read_errors: Counter[str] = Counter()
        self.reads = 0
        self.submit_ms: list[float] = []
        #: (time, what): "error", "ack"; readers add ("worker", pid)
        self.timeline: list[tuple[float, str, object]] = []
        self.clients: dict[int, Client] = {}
        self.ran_out: list[float] = []  # when judges ran out of sheets before the end
        self.started = time.monotonic()

    def note(self, what: str, detail: object = None) -> None:
        with self.lock:
            self.timeline.append((time.monotonic(), what, detail))

    def sign_in_all(self) -> None:
        failures = []

        def one(judge_id: int, username: str):
            last: object = None
            for _ in range(5):
                try:
                    client = Client(self.host, self.port)
                    token = client.csrf("/sign-in")
                    form = {"csrf_token": token, "username": username, "password": PASSWORD}
                    status, _, _ = client.request("POST", "/sign-in", form)
                    if status == 302:
                        self.clients[judge_id] = client
                        return
                    last = f"sign-in answered {status}"
                except Exception as err:  # noqa: BLE001 - tried again
                    last = err
                time.sleep(0.5)
            failures.append(f"{username}: {last!r}")

        threads = [threading.Thread(target=one, args=j) for j in self.plan["judges"]]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failures:
            raise RuntimeError(f"sign-in failed for {failures}")

    def judge(self, index: int, judge_id: int) -> None:
        client = self.clients[judge_id]
        order = self.plan["entries"]
        shift = index * len(order) // len(self.plan["judges"])
        for entry_id in order[shift:] + order[:shift]:
            if time.monotonic() >= self.stop_at:
                return
            self.score(client, judge_id, entry_id)
        with self.lock:  # every sheet done before the time was up
            self.ran_out.append(time.monotonic())

    def score(self, client: Client, judge_id: int, entry_id: int) -> None:
        """Submit one sheet, trying again until acknowledged or found submitted."""
        points = points_for(self.plan, judge_id, entry_id)
        path = f"/judge/stages/{self.plan['final']}/entries/{entry_id}"
        posted = False
        for attempt in range(ATTEMPTS):
            if attempt:
                time.sleep(min(0.1 * 2**attempt, 2.0) * random.uniform(0.5, 1.0))
            try:
                status, text, _ = client.request("GET", path)
            except Exception as err:  # noqa: BLE001 - counted, tried again
                self.failed(f"GET {error_kind(err)}")
                continue
            if status != 200:
                self.failed(f"GET {status}")
                continue
            state = server_state(text)
            if state == "submitted":
                with self.lock:
                    # Only a post whose answer was lost may have submitted it.
                    if posted:
                        self.on_reload[(judge_id, entry_id)] = points
                    else:
                        self.errors["submitted before any post"] += 1
                return
            try:
                token, version = form_fields(text)
            except ValueError:
                self.failed(f"GET no form ({state})")
                continue
            form = {"csrf_token": token, "version": version, "action": "submit", "comment": ""}
            form.update(points)
            posted = True
            try:
                status, _, seconds = client.request("POST", path, form)
            except Exception as err:  # noqa: BLE001 - not acknowledged: tried again
                self.failed(f"POST {error_kind(err)}")
                continue
            if 200 <= status < 400:
                with self.lock:
                    self.acknowledged[(judge_id, entry_id)] = points
                    self.submit_ms.append(1000 * seconds)
                self.note("ack")
                return
            self.failed(f"POST {status}")
        with self.lock:
            self.gave_up.append((judge_id, entry_id))

    def failed(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] += 1
        self.note("error", kind)

    def reader(self, index: int) -> None:
        paths = self.plan["reads"]
        i = index
        while not self.stopped.is_set():
            path = paths[i % len(paths)]
            i += 1
            try:
                status, headers, _ = fetch(self.host, self.port, path, timeout=30)
            except Exception as err:  # noqa: BLE001 - counted
                with self.lock:
                    self.read_errors[error_kind(err)] += 1
                self.note("read error")
                time.sleep(0.05)
                continue
            with self.lock:
                self.reads += 1
                if status != 200:
                    self.read_errors[f"{path.split('/')[1]} {status}"] += 1
            self.note("worker", headers.get("X-Bench-Worker"))


def gunicorn_workers(port: int) -> list[int]:
    """The pids of the workers of our gunicorn on port (children of its master), oldest
    first."""
    procs = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            pid = int(stat.split("/")[2])
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        procs[pid] = (int(fields[1]), int(fields[19]), cmdline)  # ppid, start time
    bind = f"127.0.0.1:{port}".encode()
    masters = [pid for pid, (ppid, _, cmd) in procs.items() if ppid == os.getpid() and bind in cmd]
    workers = [(start, pid) for pid, (ppid, start, _) in procs.items() if ppid in masters]
    return [pid for _, pid in sorted(workers)]


def recovery(soak: Soak, events: list[dict], end: float) -> None:
    """Per disruption: the errors until the next one, the last of them (when the errors
    stopped), and when the service was whole again (the first answer from a worker born
    after the kill, None when none answered before the end / the first sheet
    acknowledged after the database was back)."""
    times = [e["at"] for e in events] + [end]
    for event, until in zip(events, times[1:], strict=True):
        window = [(t, what, d) for t, what, d in soak.timeline if event["at"] <= t < until]
        errors = [t for t, what, _ in window if what in ("error", "read error")]
        event["errors"] = len(errors)
        event["errors_stopped_s"] = round(max(errors) - event["at"], 2) if errors else 0.0
        if event["kind"] == "kill worker":
            # Until the end of the run: on a busy machine a worker's boot may outlast the
            # time to the next disruption.
            new = [
                t
                for t, what, pid in soak.timeline
                if t >= event["at"]
                and what == "worker"
                and pid
                and int(pid) not in event["workers_before"]
            ]
            event["replacement_answered_s"] = round(min(new) - event["at"], 2) if new else None
        else:
            acks = [t for t, what, _ in window if what == "ack" and t >= event["back_at"]]
            event["first_ack_after_s"] = round(min(acks) - event["at"], 2) if acks else None
        event["at_s"] = round(event["at"] - soak.started, 1)
        del event["at"]
        event.pop("back_at", None)
        event.pop("workers_before", None)


def run_soak(url: str, plan: dict, sizes: dict, cluster: Cluster | None) -> dict:
    """Serve the database, run the judges and readers, disrupt, stop; what happened."""
    seconds = sizes["seconds"]
    events: list[dict] = []
    with gunicorn(url, **SERVER) as (host, port):
        soak = Soak(host, port, plan, seconds, sizes["readers"])
        soak.sign_in_all()
        judges = [
            threading.Thread(target=soak.judge, args=(i, judge_id), daemon=True)
            for i, (judge_id, _) in enumerate(plan["judges"])
        ]
        readers = [
            threading.Thread(target=soak.reader, args=(i,), daemon=True)
            for i in range(sizes["readers"])
        ]
        soak.started = time.monotonic()
        soak.stop_at = soak.started + seconds
        for t in judges + readers:
            t.start()
        schedule = [(share, "kill worker") for share in KILLS]
        if cluster is not None:
            schedule.append((DB_RESTART, "restart database"))
        for share, kind in schedule:
            time.sleep(max(0.0, soak.started + share * seconds - time.monotonic()))
            if kind == "kill worker":
                workers = gunicorn_workers(port)
                if not workers:
                    raise RuntimeError("no gunicorn worker to kill")
                # the oldest: the second kill takes the worker the first one spared
                at = time.monotonic()
                os.kill(workers[0], signal.SIGKILL)
                events.append({"kind": kind, "at": at, "workers_before": workers})
            else:
                at = time.monotonic()
                cluster.restart()
                back = time.monotonic()
                events.append(
                    {"kind": kind, "at": at, "back_at": back, "restart_s": round(back - at, 2)}
                )
        for t in judges:
            t.join()
        wall = time.monotonic() - soak.started
        soak.stopped.set()
        for t in readers:
            t.join(timeout=60)
    # Each disruption must have met judges still at work.
    idle = len(soak.ran_out) == len(judges) and events and max(soak.ran_out) < events[-1]["at"]
    recovery(soak, events, soak.started + wall)
    return {"soak": soak, "wall": wall, "events": events, "idle_at_the_end": bool(idle)}


# -- the checks ------------------------------------------------------------------------------


def check(url: str, plan: dict, soak: Soak, cluster: Cluster | None) -> dict:
    """What the database holds against what the judges were told; chains; integrity."""
    from judging import Config, create_app
    from judging.common.audit import verify_chain
    from judging.extensions import db

    engine = sa.create_engine(url)
    stage = {"stage": plan["final"]}
    with engine.connect() as conn:
        sheets = {
            (j, e): (sid, state)
            for j, e, sid, state in conn.execute(
                sa.text(
                    "SELECT judge_id, entry_id, id, state FROM score_sheets WHERE stage_id = :stage"
                ),
                stage,
            )
        }
        duplicated = conn.scalar(
            sa.text(
                "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM score_sheets "
                "GROUP BY stage_id, judge_id, entry_id HAVING COUNT(*) > 1) d"
            )
        )
        scores: dict[int, dict[str, Decimal]] = {}
        for sheet_id, cid, points in conn.execute(
            sa.text(
                "SELECT s.sheet_id, s.criterion_id, s.points FROM scores s "
                "JOIN score_sheets h ON h.id = s.sheet_id WHERE h.stage_id = :stage"
            ),
            stage,
        ):
            scores.setdefault(sheet_id, {})[f"c{cid}"] = Decimal(str(points))
        orphans = conn.scalar(
            sa.text(
                "SELECT COUNT(*) FROM scores s LEFT JOIN score_sheets h ON h.id = s.sheet_id "
                "WHERE h.id IS NULL"
            )
        )
        if url.startswith("sqlite"):
            integrity = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
            foreign = list(conn.exec_driver_sql("PRAGMA foreign_key_check"))
            corrupt = [] if integrity == ["ok"] else integrity[:5]
            corrupt += [f"foreign key: {tuple(r)}" for r in foreign[:5]]
        else:
            corrupt = []
            amcheck = cluster.amcheck() if cluster else None
            if amcheck:
                corrupt.append(f"pg_amcheck: {amcheck[:500]}")
        if orphans:
            corrupt.append(f"{orphans} score rows without their sheet")
    engine.dispose()

    lost, wrong = [], []
    for told, pairs in (("acknowledged", soak.acknowledged), ("on reload", soak.on_reload)):
        for key, sent in pairs.items():
            sheet = sheets.get(key)
            if sheet is None or sheet[1] != "submitted":
                lost.append((told, key, sheet and sheet[1]))
                continue
            held = scores.get(sheet[0], {})
            if held != {k: Decimal(v) for k, v in sent.items()}:
                wrong.append((told, key, {k: str(v) for k, v in held.items()}, sent))

    config = Config()
    config.SQLALCHEMY_DATABASE_URI = url
    app = create_app(config)
    with app.app_context():
        chains = {}
        for name, contest_id in (("contest", plan["contest"]), ("global", None)):
            report = verify_chain(contest_id)
            chains[name] = {
                "events": report.events,
                "broken": None if report.ok else report.broken.describe(),
            }
            db.session.rollback()
        submit_events = db.session.execute(
            sa.text(
                "SELECT COUNT(*) FROM audit_events WHERE contest_id = :c AND action = 'sheet_submit'"
            ),
            {"c": plan["contest"]},
        ).scalar()
        db.session.remove()
        db.engine.dispose()
    submitted = sum(1 for _, state in sheets.values() if state == "submitted")
    return {
        "present": submitted,
        "lost": lost,
        "wrong_points": wrong,
        "duplicated": duplicated,
        "corrupt": corrupt,
        "chains": chains,
        "submit_audit_events": submit_events,
    }


def one_database(kind: str, tmp: Path, sizes: dict) -> dict:
    cluster = None
    try:
        if kind == "sqlite":
            url = f"sqlite:///{tmp / 'soak.sqlite'}"
        else:
            cluster = Cluster()
            url = cluster.url
        plan = build_contest(url, sizes["judges"], sizes["entries"])
        run = run_soak(url, plan, sizes, cluster)
        soak = run["soak"]
        found = check(url, plan, soak, cluster)
    finally:
        if cluster is not None:
            cluster.close()
    return {
        "judges": sizes["judges"],
        "seconds": round(run["wall"], 1),
        "acknowledged": len(soak.acknowledged),
        "found_submitted_on_reload": len(soak.on_reload),
        "gave_up": len(soak.gave_up),
        "sheets_per_s": round(len(soak.acknowledged) / run["wall"], 1),
        "submit_p50_ms": round(percentile(soak.submit_ms, 50), 1),
        "submit_p99_ms": round(percentile(soak.submit_ms, 99), 1),
        "errors": dict(soak.errors.most_common()),
        "reads": soak.reads,
        "read_errors": dict(soak.read_errors.most_common()),
        "events": run["events"],
        "judges_out_of_sheets": len(soak.ran_out),
        "idle_at_the_end": run["idle_at_the_end"],
        **found,
        "lost_count": len(found["lost"]),
        "wrong_count": len(found["wrong_points"]),
    }


def failures(result: dict, kind: str) -> list[str]:
    """What makes the run fail."""
    bad = []
    if result["lost_count"]:
        bad.append(f"{result['lost_count']} sheets lost: {result['lost'][:3]}")
    if result["wrong_count"]:
        bad.append(
            f"{result['wrong_count']} sheets with other points: {result['wrong_points'][:2]}"
        )
    if result["duplicated"]:
        bad.append(f"{result['duplicated']} duplicated sheets")
    if result["corrupt"]:
        bad.append(f"integrity: {result['corrupt']}")
    bad += [f"audit chain ({n}): {c['broken']}" for n, c in result["chains"].items() if c["broken"]]
    if result["submit_audit_events"] != result["present"]:
        bad.append(f"{result['submit_audit_events']} submit events for {result['present']} sheets")
    if result["errors"].get("submitted before any post"):
        bad.append("sheets submitted that no judge posted")
    if result["idle_at_the_end"]:
        bad.append("the judges had run out of sheets before the last disruption: raise --entries")
    if not result["acknowledged"]:
        bad.append("no sheet acknowledged")
    expected = len(KILLS) + (kind == "postgresql")
    if len(result["events"]) != expected:
        bad.append(f"{len(result['events'])} disruptions of {expected}")
    return bad


def report(kind: str, r: dict) -> list[str]:
    lines = [
        f"== {kind}: {r['judges']} judges, {r['seconds']} s",
        f"  sheets acknowledged {r['acknowledged']}, found submitted on reload "
        f"{r['found_submitted_on_reload']}, present {r['present']}, lost {r['lost_count']}, "
        f"other points {r['wrong_count']}, duplicated {r['duplicated']}, gave up {r['gave_up']}",
        f"  sheets/s {r['sheets_per_s']}, submit p50 {r['submit_p50_ms']} ms, "
        f"p99 {r['submit_p99_ms']} ms; reads {r['reads']}",
        f"  judge errors {sum(r['errors'].values())}: {r['errors'] or '-'}",
        f"  reader errors {sum(r['read_errors'].values())}: {r['read_errors'] or '-'}",
    ]
    for e in r["events"]:
        extra = {k: v for k, v in e.items() if k not in ("kind", "at_s")}
        lines.append(f"  {e['kind']} at {e['at_s']} s: {extra}")
    chains = ", ".join(
        f"{n} {c['events']} events {'ok' if not c['broken'] else 'BROKEN: ' + c['broken']}"
        for n, c in r["chains"].items()
    )
    lines.append(f"  audit chains: {chains}; submit events {r['submit_audit_events']}")
    lines.append(f"  integrity: {'ok' if not r['corrupt'] else r['corrupt']}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--small", action="store_true", help="~20 judges, 45 s per database")
    parser.add_argument("--judges", type=int)
    parser.add_argument("--entries", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--readers", type=int)
    args = parser.parse_args()
    sizes = dict(SIZES["small" if args.small else "full"])
    for key in sizes:
        if getattr(args, key) is not None:
            sizes[key] = getattr(args, key)
    kinds = [k.strip() for k in args.db.split(",") if k.strip()]
    unknown = set(kinds) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database: {', '.join(sorted(unknown))}")
    results, bad = {}, []
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        for kind in kinds:
            result = one_database(kind, Path(tmp), sizes)
            results[kind] = result
            print("\n".join(report(kind, result)), flush=True)
            bad += [f"{kind}: {b}" for b in failures(result, kind)]
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "soak.json").write_text(
        json.dumps({"settings": sizes, **results}, indent=2, default=str, ensure_ascii=False)
    )
    for line in bad:
        print(f"FAILED {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
