"""Workbook downloads kept per version, streamed, limited (issue 13, judging.exports.downloads)."""

from __future__ import annotations

import io
import threading
import time

import sqlalchemy as sa
from openpyxl import load_workbook

from judging.awards.workflow import change_state
from judging.common.audit import AuditEvent
from judging.exports.downloads import Downloads, downloads
from judging.extensions import db
from tests.leaderboard.helpers import submit

PUBLIC = "/results/dalian-2020/prelim.xlsx"
CONTEST = "/contests/dalian-2020/export.xlsx"


def _store(app) -> Downloads:
    with app.app_context():
        return downloads()


def test_the_public_workbook_is_built_once_per_version_and_sent_with_an_etag(app, client, board):
    store = _store(app)
    first = client.get(PUBLIC)
    assert first.status_code == 200 and store.built == 1
    assert first.headers["Cache-Control"] == "public, max-age=10"
    book = load_workbook(io.BytesIO(first.data), read_only=True)
    assert len(book.sheetnames) >= 2
    again = client.get(PUBLIC)
    assert again.data == first.data and store.built == 1, "sent from disk, not built again"
    etag = first.headers["ETag"]
    assert client.get(PUBLIC, headers={"If-None-Match": etag}).status_code == 304

    # A sheet in the live final does not touch a published stage's workbook.
    submit(board.final, board.judges[0], board.entries["A-002"], 70)
    assert client.get(PUBLIC).headers["ETag"] == etag and store.built == 1

    # Withdrawn and published again: a new version, built once more.
    change_state(stage=board.prelim, target="closed", reason="复核")
    db.session.commit()
    assert client.get(PUBLIC).status_code == 404
    change_state(stage=board.prelim, target="published")
    db.session.commit()
    assert client.get(PUBLIC).status_code == 200 and store.built == 2
    files = list(store.root.rglob("*.xlsx"))
    assert len(files) == 1, "the older version's file is gone"


def test_an_organizer_export_is_kept_until_anything_audited_changes(app, organizer_client, board):
    store = _store(app)
    before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    first = organizer_client.get(CONTEST)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    assert organizer_client.get(CONTEST).status_code == 200 and store.built == 1
    exports = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.id > 0).order_by(AuditEvent.id)
    ).all()[before:]
    assert exports == ["excel_export", "excel_export"], "every download is recorded"
    submit(board.final, board.judges[0], board.entries["A-002"], 70)
    assert organizer_client.get(CONTEST).status_code == 200 and store.built == 2


def test_concurrent_downloads_of_a_new_version_build_it_once(tmp_path):
    store = Downloads(tmp_path, builds=1)
    calls = []

    def build():
        calls.append(1)
        time.sleep(0.2)
        return b"workbook"

    paths = []
    threads = [
        threading.Thread(target=lambda: paths.append(store.path(("r",), ("v", 1), build)))
        for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(set(paths)) == 1 and paths[0].read_bytes() == b"workbook"
    assert oct(paths[0].stat().st_mode & 0o777) == "0o600"


def test_too_many_downloads_at_once_get_503_with_retry_after(app, client, board):
    store = _store(app)
    taken = 0
    while store.preparing.acquire(blocking=False):
        taken += 1
    try:
        started = time.monotonic()
        response = client.get(PUBLIC)
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        assert time.monotonic() - started < 5
    finally:
        for _ in range(taken):
            store.preparing.release()
    assert client.get(PUBLIC).status_code == 200


def test_a_build_waits_for_a_free_slot_and_then_is_busy(tmp_path):
    import pytest

    from judging.exports.downloads import Busy

    store = Downloads(tmp_path, builds=1, wait=0.2)
    release = threading.Event()
    inside = threading.Event()

    def slow():
        inside.set()
        release.wait(5)
        return b"a"

    worker = threading.Thread(target=store.path, args=(("a",), 1, slow))
    worker.start()
    inside.wait(5)
    with pytest.raises(Busy):
        store.path(("b",), 1, lambda: b"b")
    release.set()
    worker.join()
    assert store.path(("b",), 1, lambda: b"b").read_bytes() == b"b"
