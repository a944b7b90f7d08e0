"""Four organizers confirm the same stage's awards at the same moment (issue 16: on
PostgreSQL two of four ended in 500 with a UniqueViolation and left snapshots behind).
One confirmation is made; the others are answered 409, and nothing else is written."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from judging import TestingConfig, create_app
from judging.awards.models import Award, ResultSnapshot
from judging.common.audit import AuditEvent
from judging.common.enums import Role, StageState
from judging.extensions import db
from tests.conftest import (
    IN_MEMORY,
    FreshContextClient,
    confirm_form,
    create_assignment,
    create_award_tier,
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

ORGANIZERS = 4


def _contest() -> int:
    """A closed stage, every sheet in, a tier of two prizes: ready to confirm."""
    contest = create_contest("race")
    group = create_group(contest)
    stage = create_stage(contest, "prelim", state=StageState.CLOSED)
    crit = create_criterion(stage, group, max_points="100", step="1")
    create_award_tier(stage, group, quota=2, prize="1000")
    judges = [create_judge(contest) for _ in range(3)]
    for n in range(5):
        entry = create_entry(contest, group, f"R{n}")
        for i, judge in enumerate(judges):
            create_assignment(stage, judge, entry)
            create_sheet(stage, judge, entry, {crit: str(50 + 7 * n + i)})
    db.session.commit()
    return stage.id


def _race(app) -> tuple[list[int], int]:
    url = "/contests/race/stages/prelim/confirm/awards"
    clients = []
    stage_id = _contest()
    for n in range(ORGANIZERS):
        user = create_user(f"chair{n}", role=Role.ORGANIZER)
        db.session.commit()
        client = app.test_client()
        sign_in_as(client, user)
        clients.append((client, confirm_form(client, url)))
    db.session.rollback()
    assert len({form["fingerprint"] for _, form in clients}) == 1  # all saw the same

    codes: list[int] = []
    barrier = threading.Barrier(ORGANIZERS)

    def confirm(client, form):
        barrier.wait()
        response = client.post(url, data=form)
        codes.append(response.status_code)

    threads = [threading.Thread(target=confirm, args=pair) for pair in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(codes), stage_id


def _check(codes: list[int], stage_id: int) -> None:
    assert codes == [302] + [409] * (ORGANIZERS - 1), codes
    snapshots = db.session.scalars(
        sa.select(ResultSnapshot.id).where(ResultSnapshot.stage_id == stage_id)
    ).all()
    assert len(snapshots) == 1, "one confirmation, one snapshot: none left behind"
    awards = db.session.scalars(sa.select(Award.snapshot_id)).all()
    assert awards == [snapshots[0]] * 2
    confirmed = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "awards_confirm")
    )
    assert confirmed == 1


@pytest.mark.skipif(IN_MEMORY, reason="PostgreSQL: TEST_DATABASE_URL is not set")
def test_simultaneous_confirmations_on_postgresql_end_in_one_success(app):
    app.test_client_class = FreshContextClient
    codes, stage_id = _race(app)
    db.session.rollback()
    _check(codes, stage_id)


def test_simultaneous_confirmations_on_a_sqlite_file_end_in_one_success(tmp_path):
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'race.sqlite'}"
    app = create_app(config)
    app.test_client_class = FreshContextClient
    with app.app_context():
        db.create_all()
        codes, stage_id = _race(app)
        db.session.rollback()
        _check(codes, stage_id)
        db.session.remove()
        db.engine.dispose()
