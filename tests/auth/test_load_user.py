"""The signed-in user, read as a plain row and made the session's ``User``
(``judging.common.transactions.attach_row``): the same object the ORM would load."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from judging.auth.models import User
from judging.auth.views import load_user
from judging.common import sessions
from judging.common.enums import Role
from judging.extensions import db
from tests.conftest import create_contest, create_judge, create_user


def _fresh_request(app, user: User):
    """A request context whose session is signed in as user, with an empty db session."""
    context = app.test_request_context()
    context.push()
    from flask import session

    session["_user_id"] = str(user.id)
    sessions.stamp(session, user.session_epoch)
    db.session.remove()
    return context


def test_the_loaded_user_is_what_the_orm_loads(app):
    user = create_user("zhang", role=Role.ORGANIZER, display_name="张老师")
    db.session.commit()
    user_id = user.id
    expected = {
        c.key: getattr(db.session.get(User, user_id), c.key) for c in User.__mapper__.column_attrs
    }
    context = _fresh_request(app, user)
    try:
        loaded = load_user(str(user_id))
        state = sa.inspect(loaded)
        assert state.persistent and loaded in db.session
        assert not db.session.dirty and not db.session.new, "nothing to write"
        got = {c.key: getattr(loaded, c.key) for c in User.__mapper__.column_attrs}
        assert got == expected
        assert loaded.role is Role.ORGANIZER and isinstance(loaded.created_at, datetime)
        assert loaded.created_at.tzinfo is not None
        # The same row asked for again in the session: the same object, as the ORM gives.
        assert db.session.get(User, user_id) is loaded
        assert load_user(str(user_id)) is loaded
    finally:
        db.session.remove()
        context.pop()


def test_the_loaded_user_lazy_loads_changes_and_expires_as_any(app):
    user = create_user("li")
    contest = create_contest()
    create_judge(contest, user)
    db.session.commit()
    user_id, contest_id = user.id, contest.id
    context = _fresh_request(app, user)
    try:
        loaded = load_user(str(user_id))
        assert [j.contest_id for j in loaded.judges] == [contest_id], "relationships load"
        loaded.display_name = "李评委"
        assert loaded in db.session.dirty
        db.session.commit()  # expires it
        assert loaded.display_name == "李评委", "read again from the database"
        db.session.remove()
        assert db.session.get(User, user_id).display_name == "李评委", "the change was written"
    finally:
        db.session.remove()
        context.pop()


def test_a_disabled_or_missing_user_is_no_one(app):
    user = create_user("wang", is_enabled=False)
    db.session.commit()
    user_id = user.id
    context = _fresh_request(app, user)
    try:
        assert load_user(str(user_id)) is None
        assert load_user("999999") is None
        assert load_user("not a number") is None
    finally:
        db.session.remove()
        context.pop()


def test_a_user_already_in_the_session_is_filled_in_from_the_row(app):
    user = create_user("zhao", display_name="赵")
    db.session.commit()
    user_id = user.id
    context = _fresh_request(app, user)
    try:
        held = db.session.get(User, user_id)
        db.session.execute(sa.update(User).where(User.id == user_id).values(display_name="赵老师"))
        db.session.commit()  # expires what the session holds
        statements = []

        def count(_conn, _cursor, statement, *_args):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            loaded = load_user(str(user_id))
            assert loaded is held
            assert loaded.display_name == "赵老师" and loaded.role is Role.JUDGE
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        selects = [s for s in statements if s.lstrip().startswith("SELECT")]
        assert len(selects) == 1, "the row read once, not again to refresh the object"
    finally:
        db.session.remove()
        context.pop()


FIRST_REQUEST = """
import sys
from judging import TestingConfig, create_app
from judging.common import sessions

config = TestingConfig()
config.SQLALCHEMY_DATABASE_URI = sys.argv[1]
app = create_app(config)
client = app.test_client()
with client.session_transaction() as session:
    session["_user_id"] = sys.argv[2]
    sessions.stamp(session, 0)
print(client.get("/judge/").status_code)
"""


def test_a_new_process_first_request_loads_the_user(tmp_path):
    """In a new worker the signed-in user's load can be the first use of the ORM: the
    mappers are configured then (a 500 before, seen by bench/contest_day.py)."""
    import subprocess
    import sys

    from judging import TestingConfig, create_app

    url = f"sqlite:///{tmp_path / 'first.sqlite'}"
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = url
    app = create_app(config)
    with app.app_context():
        db.create_all()
        user = create_user("first", role=Role.JUDGE)
        db.session.commit()
        user_id = user.id
        db.engine.dispose()
    answer = subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, "-c", FIRST_REQUEST, url, str(user_id)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.stdout.strip().splitlines()[-1:] == ["200"], answer.stderr[-2000:]
