"""Many judges submitting at once on a SQLite file: no lost, duplicated or refused sheets."""

import threading

import sqlalchemy as sa

from judging import TestingConfig, create_app
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


def test_parallel_submits_on_a_sqlite_file_never_fail_with_locked(tmp_path):
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'busy.sqlite'}"
    app = create_app(config)
    app.test_client_class = FreshContextClient
    with app.app_context():
        db.create_all()
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
