"""`flask backup` and `flask restore` (issue 16, item 6): a backup taken while a judge goes
on submitting holds every sheet committed before it began, none half-written, and comes
back through `restore` with its checks passed; a restore refuses what is not a backup of
this app and a database that already holds data (unless --force)."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import stamp

from judging import TestingConfig, create_app
from judging.common import backup
from judging.common.enums import Role
from judging.extensions import db
from judging.scoring.models import ScoreSheet
from tests.conftest import (
    IN_MEMORY,
    TEST_DATABASE_URL,
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

SHEETS = 60


def _file_app(path: Path):
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{path}"
    app = create_app(config)
    app.test_client_class = FreshContextClient
    return app


def _contest() -> tuple[object, list[tuple[int, int]], list[int]]:
    """A judge with ``SHEETS`` entries to score; signed in on a client."""
    contest = create_contest("backup")
    group = create_group(contest)
    stage = create_stage(contest)
    criteria = [create_criterion(stage, group, f"c{i}", max_points="20") for i in range(3)]
    user = create_user("scorer", role=Role.JUDGE)
    judge = create_judge(contest, user)
    entries = [create_entry(contest, group, f"B{n:03d}") for n in range(SHEETS)]
    for entry in entries:
        create_assignment(stage, judge, entry)
    db.session.commit()
    return user, [(stage.id, e.id) for e in entries], [c.id for c in criteria]


class Scorer(threading.Thread):
    """Submits one sheet after another; ``committed`` lists the entries whose submission
    was answered (committed) so far."""

    def __init__(self, app, user, plan, criteria):
        super().__init__(daemon=True)
        self.client = app.test_client()
        sign_in_as(self.client, user)
        self.token = csrf_token(self.client, "/judge/")
        self.plan, self.criteria = plan, criteria
        self.committed: list[int] = []
        self.codes: list[int] = []
        self.started_some = threading.Event()

    def run(self):
        for stage_id, entry_id in self.plan:
            data = {"csrf_token": self.token, "version": "0", "action": "submit"}
            data.update({f"c{cid}": "15" for cid in self.criteria})
            response = self.client.post(f"/judge/stages/{stage_id}/entries/{entry_id}", data=data)
            self.codes.append(response.status_code)
            if response.status_code == 302:
                self.committed.append(entry_id)
            if len(self.committed) >= SHEETS // 4:
                self.started_some.set()
        self.started_some.set()


def _submitted_in(path: Path) -> set[int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT entry_id FROM score_sheets WHERE state = 'submitted'")
        return {r[0] for r in rows}
    finally:
        conn.close()


def _backup_during_scoring(app, runner, out: Path) -> tuple[set[int], set[int]]:
    """Back up to ``out`` while a judge submits; the entries committed before the backup
    began and after it ended."""
    user, plan, criteria = _contest()
    scorer = Scorer(app, user, plan, criteria)
    scorer.start()
    assert scorer.started_some.wait(60)
    before = set(scorer.committed)
    result = runner.invoke(args=["backup", "-o", str(out)])
    after = set(scorer.committed)
    scorer.join(120)
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output
    assert scorer.codes.count(302) == SHEETS, scorer.codes
    return before, after


def test_a_sqlite_backup_under_writes_holds_every_committed_sheet(tmp_path):
    app = _file_app(tmp_path / "live.sqlite")
    out = tmp_path / "copy.db"
    with app.app_context():
        db.create_all()
        stamp()  # the schema's revision, as `init-db` leaves it
        before, after = _backup_during_scoring(app, app.test_cli_runner(), out)
        db.session.remove()
        db.engine.dispose()
    copied = _submitted_in(out)
    assert before <= copied <= after, (len(before), len(copied), len(after))
    assert not list(tmp_path.glob("copy.db.part")), "no half-written file left"
    assert not Path(f"{out}-wal").exists(), "the copy is one file"
    info = backup.inspect_backup(out)
    assert info.kind == "sqlite" and info.revision == backup.migration_revisions()[1]

    # And it comes back, checked, into an empty database.
    target = _file_app(tmp_path / "restored.sqlite")
    with target.app_context():
        result = target.test_cli_runner().invoke(args=["restore", str(out)])
        assert result.exit_code == 0, result.output
        assert "Checks passed" in result.output and "audit chains" in result.output
        restored = set(
            db.session.scalars(
                sa.select(ScoreSheet.entry_id).where(ScoreSheet.state == "submitted")
            )
        )
        assert restored == copied
        again = target.test_cli_runner().invoke(args=["restore", str(out)])
        assert again.exit_code == 1 and "already holds data" in again.output
        forced = target.test_cli_runner().invoke(args=["restore", str(out), "--force"])
        assert forced.exit_code == 0, forced.output
        db.session.remove()
        db.engine.dispose()


def test_an_existing_backup_file_is_not_overwritten(tmp_path):
    app = _file_app(tmp_path / "live.sqlite")
    out = tmp_path / "copy.db"
    out.write_bytes(b"an older backup")
    with app.app_context():
        db.create_all()
        stamp()
        result = app.test_cli_runner().invoke(args=["backup", "-o", str(out)])
        assert result.exit_code == 1 and "exists" in result.output
        assert out.read_bytes() == b"an older backup"
        result = app.test_cli_runner().invoke(args=["backup", "-o", str(out), "--force"])
        assert result.exit_code == 0, result.output
        db.session.remove()
        db.engine.dispose()
    assert backup.inspect_backup(out).kind == "sqlite"


def _refusal(tmp_path, path: Path) -> str:
    target = _file_app(tmp_path / "target.sqlite")
    with target.app_context():
        result = target.test_cli_runner().invoke(args=["restore", str(path)])
        db.session.remove()
        db.engine.dispose()
    assert result.exit_code == 1, result.output
    assert not (tmp_path / "target.sqlite").exists() or not _tables(tmp_path / "target.sqlite")
    return result.output


def _tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()


def test_restore_refuses_what_is_not_a_backup_of_this_app(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    assert "neither a SQLite database nor a pg_dump archive" in _refusal(tmp_path, junk)

    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (x TEXT)")
    conn.commit()
    conn.close()
    assert "has no schema revision" in _refusal(tmp_path, other)


def test_restore_refuses_a_schema_revision_it_does_not_know(tmp_path):
    app = _file_app(tmp_path / "live.sqlite")
    with app.app_context():
        db.create_all()
        stamp()
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
        db.session.commit()
        out = tmp_path / "future.db"
        result = app.test_cli_runner().invoke(args=["backup", "-o", str(out)])
        db.session.remove()
        db.engine.dispose()
    assert result.exit_code == 1 and "unknown to this app" in result.output
    assert not out.exists()


def test_a_tampered_audit_log_fails_the_checks_after_restore(tmp_path):
    app = _file_app(tmp_path / "live.sqlite")
    out = tmp_path / "copy.db"
    with app.app_context():
        db.create_all()
        stamp()
        user, plan, criteria = _contest()
        scorer = Scorer(app, user, plan[:3], criteria)
        scorer.run()  # in this thread: three sheets, three audit events
        assert app.test_cli_runner().invoke(args=["backup", "-o", str(out)]).exit_code == 0
        db.session.remove()
        db.engine.dispose()
    conn = sqlite3.connect(out)
    first = "(SELECT MIN(id) FROM audit_events)"
    conn.execute(f"UPDATE audit_events SET reason = 'edited' WHERE id = {first}")  # noqa: S608
    conn.commit()
    conn.close()
    target = _file_app(tmp_path / "restored.sqlite")
    with target.app_context():
        result = target.test_cli_runner().invoke(args=["restore", str(out)])
        db.session.remove()
        db.engine.dispose()
    assert result.exit_code == 1
    assert "PROBLEM: audit chain of contest" in result.output


# ------------------------------------------------------------------ PostgreSQL

needs_postgres = pytest.mark.skipif(
    IN_MEMORY or not TEST_DATABASE_URL.startswith("postgresql"),
    reason="PostgreSQL: TEST_DATABASE_URL is not set",
)
needs_tools = pytest.mark.skipif(
    not (shutil.which("pg_dump") and shutil.which("pg_restore")),
    reason="pg_dump and pg_restore are not installed",
)


@pytest.fixture
def restore_database():
    """An empty PostgreSQL database beside the test one, dropped afterwards."""
    url = sa.make_url(TEST_DATABASE_URL)
    name = f"{url.database}_restore"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@needs_postgres
@needs_tools
def test_a_postgresql_backup_under_writes_holds_every_committed_sheet(
    app, tmp_path, restore_database
):
    app.test_client_class = FreshContextClient
    out = tmp_path / "copy.dump"
    stamp()
    try:
        before, after = _backup_during_scoring(app, app.test_cli_runner(), out)
    finally:
        db.session.rollback()
        db.session.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
    info = backup.inspect_backup(out)
    assert info.kind == "postgresql" and info.revision == backup.migration_revisions()[1]

    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = restore_database
    target = create_app(config)
    with target.app_context():
        result = target.test_cli_runner().invoke(args=["restore", str(out)])
        assert result.exit_code == 0, result.output
        assert "Checks passed" in result.output
        restored = set(
            db.session.scalars(
                sa.select(ScoreSheet.entry_id).where(ScoreSheet.state == "submitted")
            )
        )
        assert before <= restored <= after, (len(before), len(restored), len(after))
        again = target.test_cli_runner().invoke(args=["restore", str(out)])
        assert again.exit_code == 1 and "already holds data" in again.output
        forced = target.test_cli_runner().invoke(args=["restore", str(out), "--force"])
        assert forced.exit_code == 0, forced.output
        db.session.remove()
        db.engine.dispose()


def test_pg_backups_go_to_postgresql_and_sqlite_backups_to_sqlite(tmp_path):
    app = _file_app(tmp_path / "live.sqlite")
    fake = tmp_path / "x.dump"
    fake.write_bytes(b"PGDMP" + b"\x00" * 100)
    with app.app_context():
        db.create_all()
        with pytest.raises(backup.BackupError):
            backup.restore(db.engine, fake)
        db.session.remove()
        db.engine.dispose()
