"""The audit log's hash chain: verify-audit finds an edited, a deleted and a reordered event,
and passes on untouched chains (the demo, an empty one, concurrent writers)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from judging import TestingConfig, create_app
from judging.common.audit import GENESIS, AuditEvent, AuditHead, record, verify_chain
from judging.common.db import set_write_intent, write_intent
from judging.common.enums import Role
from judging.contests.models import Contest
from judging.extensions import db
from judging.judges.models import Assignment, Judge
from judging.scoring.models import ScoreSheet
from judging.scoring.rubric import rubric_specs
from judging.seed import load_demo
from tests.conftest import (
    TEST_DATABASE_URL,
    _empty_tables,
    create_contest,
    create_user,
    csrf_token,
    sign_in_as,
)

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"


def _events(contest, n: int = 5) -> list[int]:
    """Record n events in the contest's chain through record(); their ids in order."""
    for i in range(n):
        record(
            "sheet_save",
            contest_id=contest.id,
            object_type="ScoreSheet",
            object_id=i,
            old=None if i == 0 else {"comment": f"第{i}稿", "points": {"技术与产品": str(i)}},
            new={"comment": f"第{i + 1}稿", "points": {"技术与产品": str(i + 1)}},
        )
    db.session.commit()
    return list(
        db.session.scalars(
            sa.select(AuditEvent.id)
            .where(AuditEvent.contest_id == contest.id)
            .order_by(AuditEvent.id)
        )
    )


def _verify(runner, slug: str):
    db.session.commit()
    return runner.invoke(args=["verify-audit", "--contest", slug])


def test_a_recorded_chain_links_every_event_and_verifies(app, runner):
    contest = create_contest("chain")
    ids = _events(contest)
    rows = db.session.execute(
        sa.select(AuditEvent.prev_hash, AuditEvent.hash).order_by(AuditEvent.id)
    ).all()
    assert rows[0].prev_hash == GENESIS
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    head = db.session.get(AuditHead, contest.id)
    assert (head.last_id, head.last_hash, head.event_count) == (ids[-1], rows[-1].hash, 5)
    report = verify_chain(contest.id)
    assert report.ok and report.events == 5
    result = _verify(runner, "chain")
    assert result.exit_code == 0, result.output
    assert "OK" in result.output and f"(5 events, last hash {rows[-1].hash})" in result.output


def test_contests_have_chains_of_their_own_and_events_of_no_contest_a_global_one(app, runner):
    first, second = create_contest("first"), create_contest("second")
    record("stage_state", contest_id=first.id, new={"state": "open"})
    record("stage_state", contest_id=second.id, new={"state": "open"})
    record("sign_in", user_id=create_user().id)
    record("stage_state", contest_id=first.id, new={"state": "closed"})
    db.session.commit()
    assert verify_chain(first.id).events == 2 and verify_chain(first.id).ok
    assert verify_chain(second.id).events == 1 and verify_chain(second.id).ok
    assert verify_chain(None).events == 1 and verify_chain(None).ok
    result = runner.invoke(args=["verify-audit", "--global"])
    assert result.exit_code == 0 and "(1 event, last hash" in result.output


def test_an_empty_chain_verifies(app, runner):
    create_contest("quiet")
    db.session.commit()
    report = verify_chain(db.session.scalar(sa.select(Contest.id)))
    assert report.ok and report.events == 0
    result = _verify(runner, "quiet")
    assert result.exit_code == 0 and "(0 events, last hash " + GENESIS in result.output


def test_values_read_back_from_the_database_hash_as_they_were_written(app):
    contest = create_contest()
    record(
        "live_reveal",
        contest_id=contest.id,
        new={
            "score": "88.50",
            "totals": [90, 88.5, None, True],
            "nested": {"深": {"更深": '路演 \u2014 "quoted" \\ \n tab\t'}, 3: "int key"},
            "emoji": "🏆",
        },
        old=[1, "二", 3.25],
        reason="含有中文的原因",
    )
    record("excel_export", contest_id=contest.id, new="plain text", old=0)
    record("stage_state", contest_id=contest.id)  # no old, no new
    db.session.commit()
    db.session.expire_all()
    report = verify_chain(contest.id)
    assert report.ok and report.events == 3, report.broken


def test_an_edited_event_is_caught(app, runner):
    contest = create_contest("edited")
    ids = _events(contest)
    db.session.execute(
        sa.text("UPDATE audit_events SET new = :new WHERE id = :id").bindparams(
            sa.bindparam("new", type_=sa.JSON)
        ),
        {"new": {"comment": "改过的", "points": {"技术与产品": "30"}}, "id": ids[2]},
    )
    report = verify_chain(contest.id)
    assert report.broken.kind == "edited" and report.broken.event_id == ids[2]
    result = _verify(runner, "edited")
    assert result.exit_code == 1
    assert f"event #{ids[2]}" in result.output and "content was changed" in result.output
    assert "sheet_save" in result.output


def test_an_edited_reason_or_time_is_caught(app):
    contest = create_contest()
    ids = _events(contest)
    db.session.execute(
        sa.text("UPDATE audit_events SET reason = 'x' WHERE id = :id"), {"id": ids[1]}
    )
    assert verify_chain(contest.id).broken.event_id == ids[1]
    db.session.rollback()
    db.session.execute(
        sa.update(AuditEvent)
        .where(AuditEvent.id == ids[3])
        .values(created_at=AuditEvent.created_at)  # the same value: still intact
    )
    assert verify_chain(contest.id).ok


def test_a_deleted_event_is_caught(app, runner):
    contest = create_contest("deleted")
    ids = _events(contest)
    db.session.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[2]})
    report = verify_chain(contest.id)
    assert report.broken.kind == "deleted" and report.broken.event_id == ids[3]
    assert report.events == 4
    result = _verify(runner, "deleted")
    assert result.exit_code == 1
    assert f"event #{ids[3]}" in result.output and "deleted" in result.output


@pytest.mark.parametrize("how", ["ids", "contents"])
def test_a_reordered_event_is_caught(app, runner, how):
    contest = create_contest("reordered")
    ids = _events(contest)
    a, b = ids[1], ids[3]
    if how == "ids":
        for old, new in ((a, -1), (b, a), (-1, b)):
            db.session.execute(
                sa.text("UPDATE audit_events SET id = :new WHERE id = :old"),
                {"old": old, "new": new},
            )
    else:  # every column but the id swapped between the two rows
        columns = [c.name for c in AuditEvent.__table__.columns if c.name != "id"]
        rows = {
            r.id: r._mapping
            for r in db.session.execute(
                sa.select(AuditEvent.__table__).where(AuditEvent.id.in_([a, b]))
            )
        }
        for target, source in ((a, b), (b, a)):
            db.session.execute(
                sa.update(AuditEvent.__table__)
                .where(AuditEvent.id == target)
                .values({c: rows[source][c] for c in columns})
            )
    report = verify_chain(contest.id)
    assert report.broken.kind == "reordered" and report.broken.event_id == a
    result = _verify(runner, "reordered")
    assert result.exit_code == 1
    assert f"event #{a}" in result.output and "reordered" in result.output


def test_deleting_the_last_events_is_caught_by_the_head(app, runner):
    contest = create_contest("tail")
    ids = _events(contest)
    db.session.execute(sa.text("DELETE FROM audit_events WHERE id >= :id"), {"id": ids[3]})
    report = verify_chain(contest.id)
    assert report.broken.kind == "end_missing" and report.events == 3
    result = _verify(runner, "tail")
    assert result.exit_code == 1 and "missing at the end" in result.output
    db.session.execute(sa.text("DELETE FROM audit_events"))
    assert verify_chain(contest.id).broken.kind == "end_missing", "all of them, too"


def test_an_event_appended_without_the_app_is_caught(app):
    contest = create_contest()
    ids = _events(contest, 2)
    last = db.session.get(AuditEvent, ids[-1])
    forged = {c.name: getattr(last, c.name) for c in AuditEvent.__table__.columns if c.name != "id"}
    from judging.common.audit import event_hash

    forged["reason"] = "forged"
    forged["prev_hash"] = last.hash
    forged["hash"] = event_hash(forged, last.hash)
    db.session.execute(sa.insert(AuditEvent.__table__).values(forged))
    report = verify_chain(contest.id)
    assert report.broken.kind == "added" and report.broken.event_id > ids[-1]


def test_unknown_contest_exits_2_and_no_option_is_a_usage_error(app, runner):
    result = runner.invoke(args=["verify-audit", "--contest", "nope"])
    assert result.exit_code == 2 and "no contest 'nope'" in result.output
    assert runner.invoke(args=["verify-audit"]).exit_code == 2


def test_verify_audit_passes_on_the_demo_after_actions_through_the_app(app, runner):
    load_demo(SEED_DIR)
    db.session.commit()
    result = _verify(runner, "dalian-2020")
    assert result.exit_code == 0 and "OK" in result.output, result.output

    contest = db.session.scalar(sa.select(Contest).where(Contest.slug == "dalian-2020"))
    final = contest.stage("final")
    assignment = db.session.scalar(
        sa.select(Assignment).where(Assignment.stage_id == final.id).order_by(Assignment.id)
    )
    judge = db.session.get(Judge, assignment.judge_id)
    organizer = create_user(role=Role.ORGANIZER)
    db.session.commit()
    judge_client, organizer_client = app.test_client(), app.test_client()
    sign_in_as(judge_client, judge.user)
    sign_in_as(organizer_client, organizer)

    sheet_url = f"/judge/stages/{final.id}/entries/{assignment.entry_id}"
    token = csrf_token(judge_client, sheet_url)
    rubric = rubric_specs(final.id, assignment.entry.group_id)
    data = {"csrf_token": token, "comment": "路演清楚", "version": "0", "action": "save"}
    data |= {f"c{c.id}": "10" for c in rubric}
    assert judge_client.post(sheet_url, data=data).status_code == 302
    data |= {"version": "1", "action": "submit"}
    assert judge_client.post(sheet_url, data=data).status_code == 302
    token = csrf_token(organizer_client, "/contests/dalian-2020")
    response = organizer_client.post(
        "/contests/dalian-2020/stages/final/state/closed", data={"csrf_token": token}
    )
    assert response.status_code == 302
    sheet = db.session.scalar(
        sa.select(ScoreSheet).where(
            ScoreSheet.stage_id == final.id,
            ScoreSheet.judge_id == judge.id,
            ScoreSheet.entry_id == assignment.entry_id,
        )
    )
    response = organizer_client.post(
        f"/contests/dalian-2020/sheets/{sheet.id}/reopen",
        data={"csrf_token": token, "reason": "分数录错"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    actions = db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.contest_id == contest.id)
        .order_by(AuditEvent.id)
    ).all()
    # the demo loader gives the demo organizer the contest (organizer_grant), then the app
    assert actions == [
        "organizer_grant",
        "sheet_save",
        "sheet_submit",
        "stage_state",
        "sheet_reopen",
    ]
    result = _verify(runner, "dalian-2020")
    assert result.exit_code == 0, result.output
    assert "OK" in result.output and "(5 events, last hash " in result.output


# ------------------------------------------------------------------ concurrent writers


@pytest.fixture
def shared_app(_schema, tmp_path):
    """The app on a database several threads can write at once: the suite's PostgreSQL
    database, or a SQLite file (each thread its own connection)."""
    config = TestingConfig()
    on_sqlite = TEST_DATABASE_URL.startswith("sqlite")
    if on_sqlite:
        config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'chain.sqlite'}"
    app = create_app(config)
    with app.app_context():
        if on_sqlite:
            db.create_all()
        yield app
        db.session.remove()
        if not on_sqlite:
            _empty_tables()
        db.engine.dispose()


def test_concurrent_writers_keep_one_linear_chain(shared_app):
    with write_intent():
        contest_id = create_contest("busy").id
        db.session.commit()
    threads, per_thread, errors = 8, 25, []
    barrier = threading.Barrier(threads)

    def writer(n: int):
        with shared_app.app_context():
            set_write_intent(True)  # SQLite: BEGIN IMMEDIATE, as the app's writers do
            barrier.wait()
            try:
                for i in range(per_thread):
                    # The first events race to create the chain's head as well.
                    record("sheet_save", contest_id=contest_id, new={"writer": n, "i": i})
                    db.session.commit()
            except Exception as err:  # pragma: no cover - reported below
                errors.append(err)
                db.session.rollback()
            finally:
                db.session.remove()

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors
    db.session.remove()
    report = verify_chain(contest_id)
    assert report.ok, report.broken
    assert report.events == threads * per_thread
    links = db.session.scalars(sa.select(AuditEvent.prev_hash)).all()
    assert len(set(links)) == len(links), "no two events follow the same one (no fork)"


def test_an_edited_head_is_caught(app):
    contest = create_contest()
    ids = _events(contest, 3)
    for values in ({"event_count": 7}, {"last_id": ids[0]}):
        db.session.execute(
            sa.update(AuditHead).where(AuditHead.chain_key == contest.id).values(**values)
        )
        report = verify_chain(contest.id)
        assert report.broken.kind == "head" and report.broken.event_id is None
        assert f"ends with #{ids[-1]} of 3" in report.broken.describe()
        db.session.rollback()
    db.session.execute(sa.delete(AuditHead))
    assert verify_chain(contest.id).broken.kind == "head", "a missing head"
