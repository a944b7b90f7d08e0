"""The committed migration builds exactly the schema the models describe."""

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from judging import TestingConfig, create_app
from judging.common.models import UTCDateTime, utcnow
from judging.extensions import db
from judging.scoring.models import ScoreSheet
from tests.conftest import (
    TEST_DATABASE_URL,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
)
from tests.fresh_database import recreate


@pytest.fixture
def empty_database_url(tmp_path):
    """A URL of an empty database of the kind the suite runs on."""
    if TEST_DATABASE_URL.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrate.sqlite'}"
        return
    url = sa.make_url(TEST_DATABASE_URL).set(database=f"judging_mig_{uuid.uuid4().hex[:8]}")
    text = url.render_as_string(hide_password=False)
    recreate(text)
    yield text
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_builds_the_models_schema_and_downgrade_removes_it(empty_database_url):
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = empty_database_url
    app = create_app(config)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata
            )
        assert diff == []
        assert "score_sheets" in sa.inspect(db.engine).get_table_names()
        if db.engine.dialect.name == "postgresql":  # triggers are not in the comparison
            with db.engine.connect() as conn:
                triggers = conn.execute(
                    sa.text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1")
                ).scalars()
                assert list(triggers) == [
                    "contests_notify_change",
                    "contests_notify_truncate",
                    "stage_versions_notify_change",
                    "stage_versions_notify_truncate",
                ]
        downgrade(revision="base")
        assert "score_sheets" not in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_sqlite_file_runs_in_wal_mode_with_foreign_keys(tmp_path):
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'wal.sqlite'}"
    app = create_app(config)
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
        # checkpoints run after the write lock is released, not inside a COMMIT
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    with app.app_context():
        db.engine.dispose()


def test_the_sheet_totals_migration_fills_existing_sheets(empty_database_url):
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = empty_database_url
    app = create_app(config)
    with app.app_context():
        upgrade()
        contest = create_contest()
        stage = create_stage(contest)
        group = create_group(contest)
        rubric = [create_criterion(stage, group, name=f"c{i}") for i in range(3)]
        entry = create_entry(contest, group)
        sheet = create_sheet(
            stage,
            create_judge(contest),
            entry,
            dict(zip(rubric, ["10.5", "7", "0.25"], strict=True)),
        )
        sheet_id = sheet.id
        db.session.commit()
        db.session.remove()
        downgrade(revision="0003")  # sheets and points stay; the two columns go
        upgrade()  # and come back, filled from the points
        stored = db.session.execute(
            sa.select(ScoreSheet.total_hundredths, ScoreSheet.points_count).where(
                ScoreSheet.id == sheet_id
            )
        ).one()
        assert tuple(stored) == (1775, 3)
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()


def test_the_audit_chain_migration_chains_existing_events(empty_database_url):
    from judging.common.audit import record, verify_chain

    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = empty_database_url
    app = create_app(config)
    with app.app_context():
        upgrade(revision="0005")  # events written before the chain existed
        insert = sa.text(
            "INSERT INTO audit_events (created_at, user_id, ip, action, contest_id, entry_id, "
            "object_type, object_id, old, new, reason) VALUES (:at, NULL, '127.0.0.1', :action, "
            ":contest, NULL, 'Stage', 7, :old, :new, :reason)"
        ).bindparams(
            sa.bindparam("at", type_=UTCDateTime()),
            sa.bindparam("old", type_=sa.JSON),
            sa.bindparam("new", type_=sa.JSON),
        )
        contest_ids = []
        for slug in ("one", "two"):
            db.session.execute(
                sa.text(
                    "INSERT INTO contests (slug, name, year, organizers, status, data_version, "
                    "created_at) VALUES (:slug, :slug, 2020, '', 'setup', 1, :at)"
                ).bindparams(sa.bindparam("at", type_=UTCDateTime())),
                {"slug": slug, "at": utcnow()},
            )
            contest_ids.append(
                db.session.execute(
                    sa.text("SELECT id FROM contests WHERE slug = :slug"), {"slug": slug}
                ).scalar()
            )
        for n in range(7):
            db.session.execute(
                insert,
                {
                    "at": utcnow(),
                    "action": "stage_state",
                    "contest": contest_ids[n % 2] if n != 3 else None,
                    "old": {"state": "open"},
                    "new": {"state": "closed", "stage": f"第{n}段"},
                    "reason": "" if n % 3 else "迁移前",
                },
            )
        db.session.commit()
        db.session.remove()
        upgrade()
        for contest_id, events in ((contest_ids[0], 4), (contest_ids[1], 2), (None, 1)):
            report = verify_chain(contest_id)
            assert report.ok and report.events == events, report.broken
        db.session.rollback()
        record("stage_state", contest_id=contest_ids[0], new={"state": "published"})
        db.session.commit()
        assert verify_chain(contest_ids[0]).events == 5 and verify_chain(contest_ids[0]).ok
        db.session.remove()
        downgrade(revision="0005")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("audit_events")}
        assert "hash" not in columns and "prev_hash" not in columns
        assert "audit_heads" not in sa.inspect(db.engine).get_table_names()
        downgrade(revision="base")
        db.engine.dispose()
