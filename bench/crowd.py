"""The contest-day crowd of bench/contest_day.py, all over HTTP through the real forms:
judges submitting sheets of the live final, visitors downloading the public workbook,
the organizer reopening sheets between measurements when judges run out, and the probe
that times how soon a submitted sheet shows on every worker's public answers."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from contextlib import contextmanager
from decimal import Decimal

import sqlalchemy as sa

from bench.common import Client, fetch, percentile

_SUBMITTED = sa.text(
    "SELECT judge_id, entry_id, id FROM score_sheets "
    "WHERE stage_id = :stage AND state = 'submitted'"
)
_ON_STAGE_COUNT = sa.text(
    "SELECT COUNT(*) FROM score_sheets "
    "WHERE stage_id = :stage AND entry_id = :entry AND state = 'submitted'"
)


def sign_in(host: str, port: int, username: str, password: str) -> Client:
    """A client signed in through the sign-in form (its CSRF token included)."""
    client = Client(host, port)
    token = client.csrf("/sign-in")
    form = {"csrf_token": token, "username": username, "password": password, "next": ""}
    status, _, _ = client.request("POST", "/sign-in", form)
    if status != 302:
        raise RuntimeError(f"sign-in of {username} answered {status}")
    return client


def form_fields(text: str) -> tuple[str, str]:
    """The CSRF token and the sheet version of a judge's sheet page."""
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
    version = re.search(r'name="version"[^>]*value="(\d*)"', text) or re.search(
        r'value="(\d*)"[^>]*name="version"', text
    )
    if token is None or version is None:
        raise ValueError("no sheet form on the page")
    return token.group(1), version.group(1) or "0"


def sheet_points(plan: dict, judge_id: int, entry_id: int) -> dict[str, str]:
    """The points a judge gives an entry: 60-99 % of each maximum, on the criterion's step."""
    group = plan["entry_groups"][entry_id]
    fields = {}
    for cid, top, step in plan["criteria"][group]:
        share = 60 + (judge_id * 7 + entry_id * 13 + cid) % 40
        steps = int(Decimal(top) / Decimal(step) * share / 100)
        fields[f"c{cid}"] = str(Decimal(step) * steps)
    return fields


class Stats:
    """What the crowd did in one window."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.seconds = 0.0
        self.submitted: list[tuple[int, int]] = []  # (judge id, entry id) answered 302
        self.submit_ms: list[float] = []
        self.sheet_errors: list[str] = []
        self.lost = 0
        self.downloads = 0
        self.download_ms: list[float] = []
        self.download_errors: list[str] = []

    def summary(self) -> dict:
        """Counts and rates of the window."""
        return {
            "seconds": self.seconds,
            "sheets": len(self.submitted),
            "sheets_per_s": len(self.submitted) / self.seconds,
            "sheet_errors": len(self.sheet_errors),
            "sheets_lost": self.lost,
            "submit_p99_ms": percentile(self.submit_ms, 99),
            "downloads": self.downloads,
            "downloads_per_s": self.downloads / self.seconds,
            "download_errors": len(self.download_errors),
            "download_p50_ms": percentile(self.download_ms, 50),
            "errors_seen": (self.sheet_errors + self.download_errors)[:5],
        }


class Crowd:
    """The judges (one thread each, a sheet every ``every`` seconds) and the downloaders (one
    thread each, one workbook after another), running only inside ``window()``."""

    def __init__(self, host, port, plan, url, *, every, downloaders, xlsx, organizer, warmup):
        self.host, self.port, self.plan, self.every = host, port, plan, every
        self.xlsx, self.organizer, self.warmup = xlsx, organizer, warmup
        self.engine = sa.create_engine(url)
        self.lock = threading.Condition()
        self.running = threading.Event()  # set: work; clear: wait for the next window
        self.paused = threading.Event()  # set while no window is open: wakes the sleepers
        self.paused.set()
        self.closed = False
        self.busy = 0
        self.stats = Stats()
        self.reopened = 0
        self.judges = []
        for i, (judge_id, username) in enumerate(plan["judges"]):
            client = sign_in(host, port, username, plan["judge_password"])
            order = [e for e, _ in plan["finalists"]]
            order = order[i % len(order) :] + order[: i % len(order)]
            self.judges.append({"id": judge_id, "client": client, "order": order, "queue": deque()})
        n = len(self.judges)
        self.threads = [
            threading.Thread(target=self._judge, args=(j, i * every / n), daemon=True)
            for i, j in enumerate(self.judges)
        ] + [threading.Thread(target=self._download, daemon=True) for _ in range(downloaders)]
        for thread in self.threads:
            thread.start()

    def close(self) -> None:
        """Stop every thread."""
        self.closed = True
        self.paused.set()
        self.running.set()
        for thread in self.threads:
            thread.join(timeout=60)
        self.engine.dispose()

    # -- between windows -------------------------------------------------------------

    def submitted(self) -> dict[tuple[int, int], int]:
        """The final's submitted sheets in the database: (judge, entry) -> sheet id."""
        with self.engine.connect() as conn:
            rows = conn.execute(_SUBMITTED, {"stage": self.plan["final"]})
            return {(j, e): sheet_id for j, e, sheet_id in rows}

    def refill(self, each: int) -> None:
        """Give every judge at least ``each`` sheets to submit (not the entry on stage, kept
        for the probe), reopening their earliest sheets through the organizer's reopen form
        when they have run out (outside the measurement: only between windows)."""
        done = self.submitted()
        reserved = self.plan["on_stage"]
        for judge in self.judges:
            needed = [e for e in judge["order"] if (judge["id"], e) in self.plan["pairs"]]
            needed = [e for e in needed if e != reserved]
            todo = [e for e in needed if (judge["id"], e) not in done]
            for entry_id in [e for e in needed if e not in todo][: max(0, each - len(todo))]:
                self.reopen(done[(judge["id"], entry_id)])
                todo.append(entry_id)
            judge["queue"] = deque(todo)

    def reopen(self, sheet_id: int) -> None:
        """Reopen a submitted sheet through the organizer's form."""
        org = self.organizer
        token = org.csrf(f"/contests/{self.plan['slug']}/stages/final/sheets")
        path = f"/contests/{self.plan['slug']}/sheets/{sheet_id}/reopen"
        form = {"csrf_token": token, "reason": "bench: the judges ran out of sheets"}
        status, _, _ = org.request("POST", path, form)
        if status != 302:
            raise RuntimeError(f"reopening sheet {sheet_id} answered {status}")
        self.reopened += 1

    # -- the window ------------------------------------------------------------------

    @contextmanager
    def window(self):
        """Run the crowd: from ``warmup`` seconds before the body until its end; yields the
        window's Stats, complete (lost sheets checked in the database) after the block."""
        with self.lock:
            self.stats = stats = Stats()
            self.paused.clear()
            self.running.set()
        time.sleep(self.warmup)
        try:
            yield stats
        finally:
            with self.lock:
                self.running.clear()
                self.paused.set()
                while self.busy:
                    self.lock.wait()
            stats.seconds = time.perf_counter() - stats.started
            done = self.submitted()
            stats.lost = sum(1 for pair in stats.submitted if pair not in done)

    @contextmanager
    def _work(self):
        """Count one request in flight, unless the window has just closed (then skip it)."""
        with self.lock:
            go = not self.paused.is_set()
            self.busy += go
        try:
            yield go
        finally:
            with self.lock:
                self.busy -= go
                self.lock.notify_all()

    def _judge(self, judge: dict, phase: float) -> None:
        """Submit at phase, phase + every, … on the clock, skipping the times between
        windows: the judges' phases spread evenly, the rate is the same in every window."""
        last = 0.0
        while True:
            self.running.wait()
            if self.closed:
                return
            while not self.paused.is_set():
                now = time.monotonic()
                due = now + (phase - now) % self.every
                if due <= last:
                    due += self.every
                if self.paused.wait(due - now):
                    break
                last = due
                if judge["queue"]:
                    with self._work() as go:
                        if go:
                            self._submit(judge, judge["queue"].popleft())

    def _submit(self, judge: dict, entry_id: int) -> None:
        """Open the sheet page (CSRF token, version), submit, follow the redirect as a
        browser does; the time of the POST is the submission's."""
        client, stats = judge["client"], self.stats
        path = f"/judge/stages/{self.plan['final']}/entries/{entry_id}"
        try:
            status, text, _ = client.request("GET", path)
            if status != 200:
                stats.sheet_errors.append(f"GET {path}: {status}")
                return
            token, version = form_fields(text)
            form = {"csrf_token": token, "version": version, "action": "submit", "comment": ""}
            form.update(sheet_points(self.plan, judge["id"], entry_id))
            status, _, seconds = client.request("POST", path, form)
            if status != 302:
                stats.sheet_errors.append(f"POST {path}: {status}")
                return
            stats.submitted.append((judge["id"], entry_id))
            stats.submit_ms.append(1000 * seconds)
            status, _, _ = client.request("GET", path)
            if status != 200:
                stats.sheet_errors.append(f"GET {path} after submitting: {status}")
        except Exception as err:  # a refused connection, a timeout: an error, not a crash
            stats.sheet_errors.append(f"{path}: {err!r}")

    def _download(self) -> None:
        while True:
            self.running.wait()
            if self.closed:
                return
            with self._work() as go:
                if not go:
                    continue
                stats = self.stats
                started = time.perf_counter()
                try:
                    status, _, body = fetch(self.host, self.port, self.xlsx)
                except Exception as err:
                    stats.download_errors.append(repr(err))
                    continue
                if status == 200 and body[:2] == b"PK":
                    stats.downloads += 1
                    stats.download_ms.append(1000 * (time.perf_counter() - started))
                else:
                    stats.download_errors.append(f"{self.xlsx}: {status}")


def visibility(crowd: Crowd, probes: int, workers: int, *, settle: int = 20, give_up=30.0):
    """Submit ``probes`` sheets of the entry on stage, one a second, each by a judge signed in
    afresh; after each POST returns, ask the public live API on new connections until
    ``settle`` answers in a row, from every one of the ``workers`` workers, show the count
    committed. Per sheet, from the POST's return to the sending of the first answer that
    has it, and of the first of the answers in a row that all have it (every one since)."""
    plan, host, port = crowd.plan, crowd.host, crowd.port
    entry, live = plan["on_stage"], f"/api/v1/contests/{plan['slug']}/live"
    done = crowd.submitted()
    names = dict(plan["judges"])
    ready = [j for j, e in plan["pairs"] if e == entry and (j, e) not in done]
    for judge_id in [j for j, e in done if e == entry][: max(0, probes - len(ready))]:
        crowd.reopen(done[(judge_id, entry)])
        ready.append(judge_id)
    results = []
    for judge_id in ready[:probes]:
        client = sign_in(host, port, names[judge_id], plan["judge_password"])
        path = f"/judge/stages/{plan['final']}/entries/{entry}"
        _, text, _ = client.request("GET", path)
        token, version = form_fields(text)
        form = {"csrf_token": token, "version": version, "action": "submit", "comment": ""}
        form.update(sheet_points(plan, judge_id, entry))
        key = {"stage": plan["final"], "entry": entry}
        with crowd.engine.connect() as conn:  # only the probe writes this entry's sheets
            expected = conn.scalar(_ON_STAGE_COUNT, key) + 1
        posted, _, _ = client.request("POST", path, form)
        committed = time.perf_counter()
        if posted != 302:
            results.append({"submit_status": posted})
            continue
        first = every = None
        run_started, run, pids, seen, stale, asked = None, 0, set(), set(), 0, []
        while time.perf_counter() - committed < give_up:
            sent = time.perf_counter()
            status, headers, body = fetch(host, port, live, timeout=10)
            asked.append(time.perf_counter() - sent)
            pid = headers.get("X-Bench-Worker")
            seen.add(pid)
            shown = -1
            if status == 200:
                on_stage = json.loads(body).get("on_stage") or {}
                shown = (on_stage.get("judges") or {}).get("submitted", -1)
            if shown >= expected:
                if first is None:
                    first = sent - committed
                if run == 0:
                    run_started, pids = sent, set()
                run += 1
                pids.add(pid)
                if run >= settle and len(pids) >= workers:
                    every = run_started - committed
                    break
            else:
                run, stale = 0, stale + 1
        with crowd.engine.connect() as conn:
            counted = conn.scalar(_ON_STAGE_COUNT, key)
        results.append(
            {
                "submit_status": posted,
                "count_in_database": f"{counted} (expected {expected})",
                "first_ms": None if first is None else 1000 * first,
                "every_worker_ms": None if every is None else 1000 * max(every, 0.0),
                "stale_answers": stale,
                "answers": len(asked),
                "workers_seen": len(seen),
            }
        )
        time.sleep(1)
    return results
