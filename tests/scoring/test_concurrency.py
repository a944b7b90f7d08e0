"""Many judges submitting at once on a SQLite file: no lost, duplicated or refused sheets."""

import fcntl
import sqlite3
import threading

import sqlalchemy as sa

from judging import TestingConfig, create_app
from judging.common.db import set_write_intent
from judging.common.enums import Role
from judging.extensions import db
from judging.scoring.models import Score, ScoreSheet
from tests.conftest import (
    FreshContextClient,
    create_assignment,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_stage,
    create_user,
    csrf_token,
    sign_in_as,
)


def _file_app(path, **settings):
    """The app on a new SQLite file at path (its tables made), with settings changed."""
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{path}"
    for name, value in settings.items():
        setattr(config, name, value)
    app = create_app(config)
    app.test_client_class = FreshContextClient
    with app.app_context():
        db.create_all()
    return app


def test_parallel_submits_on_a_sqlite_file_never_fail_with_locked(tmp_path):
    app = _file_app(tmp_path / "busy.sqlite")
    with app.app_context():
        contest = create_contest()
        group = create_group(contest)
        stage = create_stage(contest)
        criteria = [create_criterion(stage, group, f"c{i}", max_points="20") for i in range(5)]
        entries = [create_entry(contest, group) for _ in range(6)]
        users = [create_user(role=Role.JUDGE) for _ in range(6)]
        for user in users:
            judge = create_judge(contest, user)
            for entry in entries:
                create_assignment(stage, judge, entry)
        db.session.commit()
        plan = [(u.id, stage.id, e.id) for u in users for e in entries]
        crit_ids = [c.id for c in criteria]
        user_objs = {u.id: u for u in users}

        clients = {}
        for uid, user in user_objs.items():
            client = app.test_client()
            sign_in_as(client, user)
            clients[uid] = (client, csrf_token(client, "/judge/"))

    codes: list[int] = []
    barrier = threading.Barrier(len(clients))

    def judge_works(uid):
        client, token = clients[uid]
        barrier.wait()
        for _, stage_id, entry_id in [p for p in plan if p[0] == uid]:
            data = {"csrf_token": token, "version": "0", "action": "submit"}
            data.update({f"c{cid}": "15.5" for cid in crit_ids})
            # Each sheet is sent twice, as a double tap would.
            for _ in range(2):
                response = client.post(f"/judge/stages/{stage_id}/entries/{entry_id}", data=data)
                codes.append(response.status_code)

    threads = [threading.Thread(target=judge_works, args=(uid,)) for uid in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert codes.count(302) == len(plan), "every sheet saved once"
    assert codes.count(409) == len(plan), "every repeat refused as stale"
    assert len(codes) == 2 * len(plan), "no other answer (no 500, no 'database is locked')"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScoreSheet)) == len(plan)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Score)) == 5 * len(plan)
        db.engine.dispose()


def _lock_is_free(path) -> bool:
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return True


def test_sqlite_writers_queue_on_a_file_lock_held_exactly_for_the_transaction(tmp_path):
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'queue.sqlite'}"
    config.SQLITE_BUSY_TIMEOUT_MS = 200
    app = create_app(config)
    lock = tmp_path / "queue.sqlite-writer.lock"
    with app.app_context():
        db.create_all()
        set_write_intent(True)
        try:
            for end in ("commit", "rollback"):
                with db.engine.connect() as conn:
                    conn.begin()
                    conn.execute(sa.text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
                    conn.execute(sa.text("INSERT INTO t VALUES (1)"))
                    assert not _lock_is_free(lock), "held while the write transaction is open"
                    # A second writer in the same thread does not queue behind itself (no
                    # deadlock): it meets SQLite's own busy timeout instead.
                    with db.engine.connect() as other:
                        try:
                            other.begin()
                        except sa.exc.OperationalError as err:
                            assert "locked" in str(err)
                        else:  # pragma: no cover - BEGIN IMMEDIATE must wait for the first
                            raise AssertionError("two write transactions at once")
                    getattr(conn, end)()
                    assert _lock_is_free(lock), f"released by {end}"
                with db.engine.connect() as conn:
                    rows = conn.execute(sa.text("SELECT count(*) FROM t")).scalar()
                    assert rows == 1, "the commit wrote, the rollback did not"
        finally:
            set_write_intent(False)
            db.engine.dispose()


def test_a_submission_that_cannot_get_the_write_lock_is_a_503_and_writes_nothing(tmp_path):
    """Another program holds SQLite's write lock past the busy timeout: the submission's
    BEGIN IMMEDIATE (sent on the driver, ``judging.common.db``) fails as SQLAlchemy's
    OperationalError, which answers 503 with Retry-After; the app's own queue is free."""
    path = tmp_path / "held.sqlite"
    app = _file_app(path, SQLITE_BUSY_TIMEOUT_MS=100)
    with app.app_context():
        contest = create_contest()
        group = create_group(contest)
        stage = create_stage(contest)
        criterion = create_criterion(stage, group, "c", max_points="20")
        entry = create_entry(contest, group)
        user = create_user(role=Role.JUDGE)
        create_assignment(stage, create_judge(contest, user), entry)
        db.session.commit()
        client = app.test_client()
        sign_in_as(client, user)
        url = f"/judge/stages/{stage.id}/entries/{entry.id}"
        form = {
            "csrf_token": csrf_token(client, url),
            "version": "0",
            "action": "submit",
            f"c{criterion.id}": "12",
        }
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        answer = client.post(url, data=form)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert _lock_is_free(tmp_path / "held.sqlite-writer.lock")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ScoreSheet)) == 0
        assert client.post(url, data=form).status_code == 302, "and once it is free, it goes"
        db.engine.dispose()
