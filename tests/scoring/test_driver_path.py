"""``execute_core`` sends prebuilt statements straight on the driver's cursor (issue 13,
item 6): what it writes is what SQLAlchemy's own execution writes, a driver error is
SQLAlchemy's error, and what it cannot send that way goes through SQLAlchemy."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from judging.common import transactions
from judging.common.audit import AuditEvent, record, verify_chain
from judging.common.db import write_intent
from judging.common.enums import SheetState
from judging.common.transactions import _Prepared, execute_core
from judging.extensions import db
from judging.scoring.models import Score, ScoreSheet
from tests.conftest import create_contest, create_sheet, csrf_token


def _recorded(contest_id: int, object_id: int) -> dict:
    """Record one event with values of every awkward kind; what was stored, as read back."""
    record(
        "sheet_save",
        contest_id=contest_id,
        object_type="ScoreSheet",
        object_id=object_id,
        old={"points": {"技术与产品": "12.50"}, "comment": "旧"},
        new={"points": {"技术与产品": "13"}, "comment": "新 \"引号\" \\ 'x'"},
        reason="改分",
    )
    db.session.flush()
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.object_id == object_id)).one()
    return {
        column: getattr(event, column)
        for column in ("action", "contest_id", "object_type", "old", "new", "reason", "ip")
    } | {"aware": event.created_at.tzinfo is not None}


def test_the_driver_path_stores_what_sqlalchemy_stores(app):
    contest = create_contest()
    db.session.commit()
    with app.test_request_context(), write_intent():
        fast = _recorded(contest.id, 1)
        # Anything listening to the cursor's statements makes every statement go through
        # SQLAlchemy's own execution (the tests that count statements rely on it).
        listener = lambda *_args: None  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            plain = _recorded(contest.id, 2)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        db.session.commit()
        assert fast == plain
        assert fast["new"]["comment"] == "新 \"引号\" \\ 'x'"
        report = verify_chain(contest.id)
        assert report.ok, report


def test_a_submission_takes_the_driver_path_for_its_writes(judge_client, arena):
    transactions._prepared.clear()
    url = f"/judge/stages/{arena.stage.id}/entries/{arena.entry.id}"
    data = {"csrf_token": csrf_token(judge_client, url), "version": "0", "action": "submit"}
    data |= {f"c{c.id}": "12" for c in arena.stage.criteria if c.group_id == arena.entry.group_id}
    assert judge_client.post(url, data=data).status_code == 302
    fast = {
        statement.table.name
        for (statement, _dialect, _keys, _many), prepared in transactions._prepared.items()
        if prepared is not None and getattr(statement, "table", None) is not None
    }
    assert {"score_sheets", "audit_events", "audit_heads", "stage_versions"} <= fast
    sheet = db.session.scalars(sa.select(ScoreSheet).where(ScoreSheet.entry_id == arena.entry.id))
    sheet = sheet.one()
    assert sheet.state == SheetState.SUBMITTED
    points = db.session.scalars(sa.select(Score.points).where(Score.sheet_id == sheet.id)).all()
    assert points and all(p == Decimal("12") for p in points)


def test_a_driver_error_is_sqlalchemys_error_and_writes_nothing(app):
    contest = create_contest()
    db.session.commit()
    table = ScoreSheet.__table__
    duplicate = table.insert().values(
        stage_id=sa.bindparam("stage"), judge_id=sa.bindparam("judge"), entry_id=0
    )
    with app.test_request_context(), write_intent(), pytest.raises(sa.exc.IntegrityError):
        execute_core(duplicate, {"stage": 10**6, "judge": 10**6})  # no such stage: a FK
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(table)) == 0
    assert contest.id


def test_statements_it_cannot_send_go_through_sqlalchemy(app):
    dialect = db.engine.dialect
    scores = Score.__table__
    expanding = scores.delete().where(
        scores.c.criterion_id.in_(sa.bindparam("keep", expanding=True))
    )
    assert _Prepared.of(expanding, dialect, ("keep",), False) is None
    simple = sa.select(scores.c.id).where(scores.c.sheet_id == sa.bindparam("sheet"))
    assert _Prepared.of(simple, dialect, ("sheet",), False) is not None


def test_a_bind_named_twice_is_converted_in_each_place(app, arena):
    """Positional parameters (SQLite) repeat a bind named twice: each place gets the
    value, converted by the bind's processor (an enum here)."""
    sheets = ScoreSheet.__table__
    both = sa.select(sa.func.count()).where(
        sheets.c.state == sa.bindparam("state"),
        sa.or_(sheets.c.state == sa.bindparam("state"), sheets.c.id < 0),
    )
    create_sheet(arena.stage, arena.judge, arena.entry, {arena.criteria[0]: "10"})
    create_sheet(arena.stage, arena.judge, arena.growth_entry, {}, submitted=False)
    db.session.commit()
    with app.test_request_context():
        fast = execute_core(both, {"state": SheetState.SUBMITTED}).scalar()
        plain = db.session.execute(both, {"state": SheetState.SUBMITTED}).scalar()
    assert fast == plain == 1


def test_the_connection_kept_follows_the_sessions_transaction(app):
    """execute_core keeps the session's connection for its transaction: after a commit
    (a new transaction), its statements run in the new one and are committed with it."""
    contest = create_contest()
    db.session.commit()
    contest_id = contest.id
    events = sa.text("SELECT object_id FROM audit_events WHERE contest_id = :c ORDER BY id")
    with app.test_request_context(), write_intent():
        record("sheet_save", contest_id=contest_id, object_type="ScoreSheet", object_id=1)
        db.session.commit()
        record("sheet_save", contest_id=contest_id, object_type="ScoreSheet", object_id=2)
        db.session.rollback()  # the second one is gone, not committed with the first
        record("sheet_save", contest_id=contest_id, object_type="ScoreSheet", object_id=3)
        db.session.commit()
    db.session.remove()
    assert db.session.scalars(events, {"c": contest_id}).all() == [1, 3]
    assert verify_chain(contest_id).ok
