"""On a SQLite file a sign-in checks its password outside the write lock: while Argon2
runs, another writer (a judge's submission) commits at once."""

from __future__ import annotations

import sqlite3
import threading

import pytest
import sqlalchemy as sa

from judging import TestingConfig, create_app
from judging.auth import services
from judging.auth.models import User
from judging.common.audit import AuditEvent
from judging.common.enums import Role
from judging.extensions import db
from tests.conftest import PASSWORD, FreshContextClient, create_user, csrf_token


@pytest.mark.parametrize("right", [True, False], ids=["right password", "wrong password"])
def test_a_sign_in_holds_no_write_lock_while_it_checks_the_password(tmp_path, monkeypatch, right):
    path = tmp_path / "signin.sqlite"
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{path}"
    app = create_app(config)
    app.test_client_class = FreshContextClient
    with app.app_context():
        db.create_all()
        create_user("judge1", role=Role.JUDGE)
        db.session.commit()
    client = app.test_client()
    token = csrf_token(client)

    checking, go_on = threading.Event(), threading.Event()
    verify = services.verify_password

    def slow_verify(password_hash, plain):
        checking.set()  # Argon2 is running now
        assert go_on.wait(10)
        return verify(password_hash, plain)

    monkeypatch.setattr(services, "verify_password", slow_verify)
    answers = []
    password = PASSWORD if right else "not the password at all"
    form = {"csrf_token": token, "username": "judge1", "password": password}
    signing_in = threading.Thread(target=lambda: answers.append(client.post("/sign-in", data=form)))
    signing_in.start()
    try:
        assert checking.wait(10)
        other = sqlite3.connect(path, timeout=0.5, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if the sign-in held it
            other.execute("CREATE TABLE judge_was_here (x)")
            other.execute("COMMIT")
        finally:
            other.close()
    finally:
        go_on.set()
        signing_in.join(10)
    assert answers[0].status_code == (302 if right else 401)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "judge1"))
        assert (user.last_signed_in_at is not None) is right
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
        assert actions == (["sign_in"] if right else ["sign_in_failure"])
