"""A contest export taken while judges submit agrees with itself (issue 16: on PostgreSQL one
workbook's 排名 counted 131 sheets, 原始评分 145 and 评分 164, each sheet's queries reading
whatever had been committed by then). Every sheet of a workbook now reads one snapshot
(``judging.common.transactions.read_snapshot``); a snapshot never blocks a writer.

Each test runs on a SQLite file (another connection can write meanwhile) and, when
TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import io
import random
import threading
from collections import Counter
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from judging import TestingConfig, create_app
from judging.common.db import write_phase
from judging.common.enums import Role
from judging.common.transactions import read_snapshot
from judging.contests.models import Contest, Stage
from judging.entries.models import Entry
from judging.exports import files, records
from judging.extensions import db
from judging.judges.models import Judge
from judging.leaderboard.cache import cache as render_cache
from judging.scoring.models import ScoreSheet
from judging.scoring.services import save_sheet
from judging.standings.groups import clear_cache
from tests.conftest import (
    IN_MEMORY,
    FreshContextClient,
    create_assignment,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
    create_user,
    sign_in_as,
)

SLUG = "snap"
ENTRIES = 8
JUDGES = 6
TZ = "Asia/Shanghai"
SUBMITTED = "已提交"


@pytest.fixture(params=["sqlite-file", "postgresql"])
def shared_app(request, tmp_path):
    """The app on a database that a second connection can write to while the test reads."""
    if request.param == "postgresql":
        if IN_MEMORY:
            pytest.skip("PostgreSQL: TEST_DATABASE_URL is not set")
        yield request.getfixturevalue("app")
        return
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'snapshot.sqlite'}"
    config.DOWNLOAD_CACHE_DIR = str(tmp_path / "downloads")
    app = create_app(config)
    app.test_client_class = FreshContextClient
    with app.app_context():
        db.create_all()
        clear_cache()
        render_cache.clear()
        yield app
        db.session.remove()
        db.engine.dispose()


def _contest() -> dict:
    """An open stage, every judge assigned every entry, a third of the sheets already in;
    the ids of what the other sheets need."""
    contest = create_contest(SLUG)
    group = create_group(contest)
    stage = create_stage(contest, "prelim")
    crits = [
        create_criterion(stage, group, "技术", max_points="60", step="1"),
        create_criterion(stage, group, "团队", max_points="40", step="1"),
    ]
    judges = [create_judge(contest) for _ in range(JUDGES)]
    entries = [create_entry(contest, group, f"E{n:02d}") for n in range(ENTRIES)]
    todo = []
    for n, entry in enumerate(entries):
        for i, judge in enumerate(judges):
            create_assignment(stage, judge, entry)
            if (n + i) % 3 == 0:
                create_sheet(stage, judge, entry, {crits[0]: str(30 + n), crits[1]: str(20 + i)})
            else:
                todo.append((judge.id, entry.id))
    db.session.commit()
    return {
        "contest": contest.id,
        "stage": stage.id,
        "criteria": [c.id for c in crits],
        "todo": todo,
    }


def _submit(app, setup: dict, judge_id: int, entry_id: int, seed: int) -> None:
    """A judge submits a sheet: the scoring service in its own app context (its own
    session and connection), committed as the scoring page's request commits it."""
    rng = random.Random(seed)
    with app.app_context():
        try:
            judge = db.session.get(Judge, judge_id)
            save_sheet(
                judge=judge,
                entry=db.session.get(Entry, entry_id),
                stage=db.session.get(Stage, setup["stage"]),
                points={cid: str(rng.randint(0, 40)) for cid in setup["criteria"]},
                comment="",
                expected_version=0,
                submit=True,
            )
            db.session.commit()
        finally:
            db.session.remove()


def _submit_elsewhere(app, setup: dict, judge_id: int, entry_id: int) -> None:
    """``_submit`` in another thread, waited for: a commit the caller's transaction did not
    make and, at READ COMMITTED, would see from its next statement on."""
    failed: list[BaseException] = []

    def run():
        try:
            _submit(app, setup, judge_id, entry_id, seed=judge_id * 1000 + entry_id)
        except BaseException as err:  # noqa: BLE001 - reported to the test below
            failed.append(err)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the writer was blocked by the export"
    assert not failed, failed


def _table(ws) -> tuple[list, list[tuple]]:
    """The header row (the first that names the code column) and the rows below it."""
    rows = list(ws.iter_rows(values_only=True))
    for i, row in enumerate(rows):
        if "编号" in row:
            at, width = row.index("编号"), len(row)
            body = [(*r, *(None,) * (width - len(r))) for r in rows[i + 1 :]]
            return list(row), [r for r in body if r[at]]
    raise AssertionError(f"no header on {ws.title}")


def disagreements(data: bytes) -> list[str]:
    """Where the workbook's sheets count or total the submitted sheets differently: per
    entry, 排名's sheet count, 评分矩阵's judge totals, 原始评分's and 评分's submitted
    sheets (and each sheet's total in the three), and 概要's count of submitted sheets."""
    wb = load_workbook(io.BytesIO(data))
    ranked: Counter = Counter()
    for ws in wb.worksheets:
        if ws.title.startswith("排名"):
            header, rows = _table(ws)
            code, count = header.index("编号"), header.index("评分表")
            ranked.update({r[code]: r[count] or 0 for r in rows})

    header, rows = _table(wb["评分矩阵 prelim"])
    first_judge = header.index("评分") + 1
    matrix: dict[tuple, Decimal] = {}
    for r in rows:
        for judge, cell in zip(header[first_judge:], r[first_judge:], strict=False):
            if isinstance(cell, int | float):
                matrix[(r[header.index("编号")], judge)] = Decimal(str(cell))

    header, rows = _table(wb["原始评分"])
    code, judge, points, state = (header.index(k) for k in ("编号", "用户名", "得分", "状态"))
    raw: dict[tuple, Decimal] = {}
    for r in rows:
        if r[state] == SUBMITTED:
            key = (r[code], r[judge])
            raw[key] = raw.get(key, Decimal(0)) + Decimal(str(r[points]))

    header, rows = _table(wb["评分"])
    code, judge, state = header.index("编号"), header.index("评委"), header.index("状态")
    crits = header[code + 1 : header.index("备注")]
    scored = {
        (r[code], r[judge]): sum(Decimal(str(r[header.index(c)])) for c in crits)
        for r in rows
        if r[state] == SUBMITTED
    }

    summary = dict(r[:2] for r in wb["概要"].iter_rows(values_only=True) if len(r) > 1)
    wb.close()

    per_entry = {
        "排名": dict(ranked),
        "评分矩阵": Counter(c for c, _ in matrix),
        "原始评分": Counter(c for c, _ in raw),
        "评分": Counter(c for c, _ in scored),
    }
    problems = []
    for name, counts in per_entry.items():
        counts = {c: n for c, n in counts.items() if n}
        if counts != per_entry["评分"]:
            problems.append(f"{name} counts {sum(counts.values())} sheets {counts}")
    if raw != scored:
        problems.append(f"原始评分 and 评分 total the sheets differently: {raw} != {scored}")
    if matrix != scored:
        problems.append(f"评分矩阵 and 评分 differ: {matrix} != {scored}")
    if summary.get("已提交评分表") != len(scored):
        problems.append(f"概要 counts {summary.get('已提交评分表')} submitted, 评分 {len(scored)}")
    if problems:
        problems.append(f"评分 counts {len(scored)} sheets")
    return problems


def test_a_sheet_submitted_between_the_workbooks_sheets_is_in_none_of_them(shared_app, monkeypatch):
    """Deterministic: a judge's submission commits after the standings were read and
    before the raw sheets are; the workbook shows the moment it started at, throughout."""
    setup = _contest()
    original = records.raw_sheet
    pending = list(setup["todo"][:3])

    def raw_sheet_after_a_submission(*args, **kwargs):
        if pending:
            _submit_elsewhere(shared_app, setup, *pending.pop())
        return original(*args, **kwargs)

    monkeypatch.setattr(records, "raw_sheet", raw_sheet_after_a_submission)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ScoreSheet))
    data = files.contest_workbook(db.session.get(Contest, setup["contest"]), lang="zh_CN", tz=TZ)
    assert disagreements(data) == []
    wb = load_workbook(io.BytesIO(data))
    assert len(_table(wb["评分"])[1]) == before  # the moment the export began
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScoreSheet)) == before + 1


def test_exports_taken_while_judges_submit_agree_with_themselves(shared_app):
    """Judges submit from two threads while the organizer downloads the contest workbook
    again and again (each download a new version, built afresh): every workbook agrees."""
    setup = _contest()
    organizer = create_user("chair", role=Role.ORGANIZER)
    db.session.commit()
    client = shared_app.test_client()
    sign_in_as(client, organizer)
    todo = list(setup["todo"])
    random.Random(16).shuffle(todo)
    failed: list[BaseException] = []

    def judge_thread(share):
        try:
            for n, (judge_id, entry_id) in enumerate(share):
                _submit(shared_app, setup, judge_id, entry_id, seed=n)
        except BaseException as err:  # noqa: BLE001 - reported to the test below
            failed.append(err)

    threads = [threading.Thread(target=judge_thread, args=(todo[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    exports, sizes = 0, set()
    try:
        while any(t.is_alive() for t in threads) or exports < 3:
            response = client.get(f"/contests/{SLUG}/export.xlsx")
            assert response.status_code == 200
            data = response.get_data()
            response.close()
            assert disagreements(data) == [], f"export {exports}"
            sizes.add(len(_table(load_workbook(io.BytesIO(data))["评分"])[1]))
            exports += 1
    finally:
        for thread in threads:
            thread.join(timeout=60)
    assert not failed, failed
    # One more once every judge is done (the loop's last export may have begun before the
    # last sheet was committed): it holds every sheet, and agrees with itself too.
    response = client.get(f"/contests/{SLUG}/export.xlsx")
    assert response.status_code == 200
    data = response.get_data()
    response.close()
    assert disagreements(data) == []
    assert len(_table(load_workbook(io.BytesIO(data))["评分"])[1]) == ENTRIES * JUDGES
    assert len(sizes) >= 2 or exports >= 3, sizes


def test_a_snapshot_does_not_block_a_writer_and_does_not_see_it(shared_app):
    """A write from another connection commits while a snapshot is open; the snapshot
    goes on reading the moment it began, and the next transaction sees the write."""
    setup = _contest()
    count = sa.select(sa.func.count()).select_from(ScoreSheet)
    before = db.session.scalar(count)
    with read_snapshot():
        assert db.session.scalar(count) == before
        _submit_elsewhere(shared_app, setup, *setup["todo"][0])  # joins: committed
        assert db.session.scalar(count) == before
        submitted = sa.select(ScoreSheet.id).where(
            ScoreSheet.judge_id == setup["todo"][0][0],
            ScoreSheet.entry_id == setup["todo"][0][1],
        )
        assert db.session.scalar(submitted) is None
    assert db.session.scalar(count) == before + 1


def test_a_snapshot_is_read_only_and_pages_write_after_it(shared_app):
    """A write inside a snapshot fails (on both databases), the writer's choreography
    refuses to end it midway, a commit inside is reported, and the session writes again
    once it is over."""
    setup = _contest()
    with pytest.raises(RuntimeError), read_snapshot(), write_phase(db.session):
        pass
    with pytest.raises(RuntimeError, match="not one snapshot"), read_snapshot():
        db.session.scalar(sa.select(sa.func.count()).select_from(Entry))
        db.session.commit()  # ends the snapshot midway: reported, never silent
    with pytest.raises(sa.exc.DBAPIError), read_snapshot():
        db.session.execute(sa.text("UPDATE entries SET title = 'x'"))
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        with read_snapshot():
            isolation = db.session.scalar(sa.text("SHOW transaction_isolation"))
            read_only = db.session.scalar(sa.text("SHOW transaction_read_only"))
        assert (isolation, read_only) == ("repeatable read", "on")
        assert db.session.scalar(sa.text("SHOW transaction_isolation")) == "read committed"
    entry = db.session.get(Entry, setup["todo"][0][1])
    entry.title = "after the snapshot"
    db.session.commit()
    assert db.session.scalar(sa.select(Entry.title).where(Entry.id == entry.id)) == (
        "after the snapshot"
    )


def test_the_progress_counts_agree_while_a_judge_submits(shared_app):
    """The organizer's progress numbers come from several queries (per judge, per entry);
    a submission committed between them changes neither (deterministic: the hook submits
    right after the per-judge counts are read)."""
    setup = _contest()
    organizer = create_user("chair", role=Role.ORGANIZER)
    db.session.commit()
    client = shared_app.test_client()
    sign_in_as(client, organizer)
    main, pending = threading.get_ident(), list(setup["todo"][:1])

    def after_execute(_conn, _cursor, statement, *_args):
        per_judge = "judges.name" in statement and "count(" in statement.lower()
        if threading.get_ident() == main and pending and per_judge:
            _submit_elsewhere(shared_app, setup, *pending.pop())

    sa.event.listen(db.engine, "after_cursor_execute", after_execute)
    try:
        numbers = client.get(f"/contests/{SLUG}/stages/prelim/progress.json").get_json()
    finally:
        sa.event.remove(db.engine, "after_cursor_execute", after_execute)
    assert not pending, "the hook did not run"
    by_judge = sum(n[2] for n in numbers["judges"].values())
    by_entry = sum(n[2] for n in numbers["entries"].values())
    assert (numbers["submitted"], by_judge, by_entry) == (16, 16, 16)
    numbers = client.get(f"/contests/{SLUG}/stages/prelim/progress.json").get_json()
    assert numbers["submitted"] == sum(n[2] for n in numbers["entries"].values()) == 17
