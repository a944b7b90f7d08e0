"""Issue 16, item 1: sessions that end. A signed cookie stays valid for as long as what it
says is accepted, so each signed-in session carries the account's session epoch, its
sign-in time and its last-seen time (judging.common.sessions): sign-out, a password change
and an organizer's "sign out everywhere" raise the epoch; lifetimes end the rest."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from judging.auth.models import User
from judging.auth.services import issue_login_token
from judging.common import sessions
from judging.common.audit import AuditEvent
from judging.common.enums import Role, StageState
from judging.extensions import db
from tests.conftest import (
    PASSWORD,
    create_contest,
    create_judge,
    create_stage,
    create_user,
    csrf_token,
    database_state,
    sign_in_as,
)


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def judge(app):
    """A judge of an open contest stage (so /judge/ is their page), with a password."""
    contest = create_contest("c1", name="小赛")
    create_stage(contest, "prelim", state=StageState.OPEN)
    judge = create_judge(contest, create_user("judge-a", role=Role.JUDGE), name="王评委")
    db.session.commit()
    return judge


@pytest.fixture
def clock(monkeypatch):
    """The sessions' clock, moved by hand: ``clock.now`` seconds, ``clock.wait(s)``."""

    class Clock:
        now = 1_800_000_000

        def wait(self, seconds: float) -> None:
            self.now += int(seconds)

    fake = Clock()
    monkeypatch.setattr(sessions, "now", lambda: fake.now)
    return fake


def _signed_in(app, username: str = "judge-a", password: str = PASSWORD):
    client = app.test_client()
    data = {"username": username, "password": password, "csrf_token": csrf_token(client)}
    assert client.post("/sign-in", data=data).status_code == 302
    return client


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _with_cookie(app, cookie: str, path: str = "/judge/"):
    """A request carrying a copied session cookie, as whoever captured it would send it."""
    return app.test_client(use_cookies=False).get(path, headers={"Cookie": f"session={cookie}"})


def _sent_to_sign_in(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def _sign_out(client) -> None:
    token = csrf_token(client, "/judge/")
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302


# ---------------------------------------------------------------- the account's epoch


def test_a_cookie_captured_before_sign_out_gets_nothing_afterwards(app, judge):
    client = _signed_in(app)
    captured = _cookie(client)
    assert _with_cookie(app, captured).status_code == 200
    _sign_out(client)
    response = _with_cookie(app, captured)
    assert _sent_to_sign_in(response)
    assert _sent_to_sign_in(_with_cookie(app, captured, "/account/password"))
    (event,) = _events("sign_out")
    assert event.user_id == judge.user_id and event.object_id == judge.user_id


def test_a_copy_of_a_link_sign_in_ends_with_sign_out_too(app, judge):
    token = issue_login_token(user=judge.user, contest_id=judge.contest_id)
    db.session.commit()
    client = app.test_client()
    form = {"csrf_token": csrf_token(client, f"/login/{token}")}
    assert client.post(f"/login/{token}", data=form).status_code == 302
    captured = _cookie(client)
    assert _with_cookie(app, captured).status_code == 200
    _sign_out(client)
    assert _sent_to_sign_in(_with_cookie(app, captured))


def test_signing_in_again_after_sign_out_works(app, judge):
    client = _signed_in(app)
    _sign_out(client)
    again = _signed_in(app)
    assert again.get("/judge/").status_code == 200


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, judge):
    phone, laptop = _signed_in(app), _signed_in(app)
    before = _cookie(phone)
    new = "a whole new passphrase"
    token = csrf_token(phone, "/account/password")
    data = {"current": PASSWORD, "password": new, "confirm": new, "csrf_token": token}
    assert phone.post("/account/password", data=data).status_code == 302
    assert phone.get("/judge/").status_code == 200, "the session that changed it goes on"
    assert _sent_to_sign_in(laptop.get("/judge/"))
    assert _sent_to_sign_in(_with_cookie(app, before)), "nor does a copy of its old cookie"
    assert _signed_in(app, password=new).get("/judge/").status_code == 200


def test_an_organizer_signs_a_judge_out_everywhere(app, judge, organizer_client):
    phone, laptop = _signed_in(app), _signed_in(app)
    url = f"/contests/c1/judges/{judge.id}"
    page = organizer_client.get(url).get_data(as_text=True)
    assert f'action="{url}/sign-out"' in page, "a button on the judge's page"
    before = database_state()
    assert organizer_client.post(f"{url}/sign-out").status_code == 400, "CSRF"
    assert database_state() == before
    assert phone.get("/judge/").status_code == 200
    token = csrf_token(organizer_client, url)
    response = organizer_client.post(f"{url}/sign-out", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == url
    assert _sent_to_sign_in(phone.get("/judge/"))
    assert _sent_to_sign_in(laptop.get("/judge/"))
    assert organizer_client.get(url).status_code == 200, "the organizer's own session stays"
    (event,) = _events("judge_sessions_end")
    assert event.contest_id == judge.contest_id and event.object_id == judge.id
    assert event.new == {"judge": "王评委", "username": "judge-a"}
    # They sign in again as usual.
    assert _signed_in(app).get("/judge/").status_code == 200


def test_a_judge_cannot_sign_another_judge_out(app, judge):
    other = create_judge(judge.contest, create_user("judge-b", role=Role.JUDGE))
    db.session.commit()
    client = _signed_in(app)
    token = csrf_token(client, "/judge/")
    before = database_state()
    url = f"/contests/c1/judges/{other.id}/sign-out"
    assert client.post(url, data={"csrf_token": token}).status_code == 404
    assert database_state() == before


def test_a_temporary_password_set_by_the_organizer_ends_the_judges_sessions(
    app, judge, organizer_client
):
    phone = _signed_in(app)
    url = f"/contests/c1/judges/{judge.id}"
    token = csrf_token(organizer_client, url)
    data = {"password": "temporary words 7", "csrf_token": token}
    assert organizer_client.post(f"{url}/password", data=data).status_code == 302
    assert _sent_to_sign_in(phone.get("/judge/"))


def test_a_reactivated_account_does_not_bring_its_old_sessions_back(app, judge, organizer_client):
    phone = _signed_in(app)
    url = f"/contests/c1/judges/{judge.id}"
    token = csrf_token(organizer_client, url)
    organizer_client.post(f"{url}/deactivate", data={"csrf_token": token})
    organizer_client.post(f"{url}/reactivate", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(User, judge.user_id).is_enabled
    assert _sent_to_sign_in(phone.get("/judge/"))


def test_a_session_without_the_stamps_is_not_signed_in(app, judge):
    client = app.test_client()
    with client.session_transaction() as session:  # as a cookie from before the stamps
        session["_user_id"] = str(judge.user_id)
        session["_fresh"] = True
    assert _sent_to_sign_in(client.get("/judge/"))
    with client.session_transaction() as session:
        assert "_user_id" not in session, "the ended session is emptied"


def test_the_sign_in_page_says_the_session_ended(app, judge, clock):
    client = _signed_in(app)
    client.set_cookie("lang", "en")
    clock.wait(3 * 3600)
    response = client.get("/judge/", follow_redirects=True)
    assert "Your session has ended: please sign in again." in response.get_data(as_text=True)


# ---------------------------------------------------------------- lifetimes


def test_a_session_left_alone_past_the_idle_time_ends(app, judge, clock):
    app.config["SESSION_IDLE_MINUTES"] = 120
    client = _signed_in(app)
    clock.wait(119 * 60)
    assert client.get("/judge/").status_code == 200
    clock.wait(119 * 60)  # used a moment ago: the idle time starts again
    assert client.get("/judge/").status_code == 200
    captured = _cookie(client)
    clock.wait(120 * 60)
    assert _sent_to_sign_in(client.get("/judge/"))
    assert _sent_to_sign_in(_with_cookie(app, captured))


def test_a_session_ends_at_its_absolute_lifetime_however_busy(app, judge, clock):
    app.config["SESSION_ABSOLUTE_HOURS"] = 12
    client = _signed_in(app)
    for _ in range(23):  # every half hour for eleven and a half hours
        clock.wait(30 * 60)
        assert client.get("/judge/").status_code == 200
    clock.wait(30 * 60 - 1)
    assert client.get("/judge/").status_code == 200
    clock.wait(1)
    assert _sent_to_sign_in(client.get("/judge/"))


def test_the_cookie_is_rewritten_at_most_once_a_minute(app, judge, clock):
    client = _signed_in(app)
    client.get("/judge/")  # its first page puts the CSRF token in the session

    def rewrites_cookie() -> bool:
        response = client.get("/judge/")
        assert response.status_code == 200
        return any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie"))

    clock.wait(10)
    assert not rewrites_cookie()
    clock.wait(40)
    assert not rewrites_cookie()
    clock.wait(15)
    assert rewrites_cookie(), "a minute on, the last-seen time moves"
    assert not rewrites_cookie()


def test_test_clients_signed_in_by_the_fixture_are_stamped(app, judge):
    client = app.test_client()
    sign_in_as(client, judge.user)
    assert client.get("/judge/").status_code == 200


# ---------------------------------------------------------------- one-time links


def _link_status(app, token: str) -> int:
    return app.test_client().get(f"/login/{token}").status_code


def test_a_new_link_revokes_the_older_ones_for_the_same_contest(app, judge):
    first = issue_login_token(user=judge.user, contest_id=judge.contest_id)
    elsewhere = issue_login_token(user=judge.user, contest_id=None)
    second = issue_login_token(user=judge.user, contest_id=judge.contest_id)
    db.session.commit()
    assert _link_status(app, first) == 410
    assert _link_status(app, second) == 200
    assert _link_status(app, elsewhere) == 200, "another contest's (or no contest's) link stays"


def test_printing_the_cards_again_revokes_the_cards_printed_before(app, judge, organizer_client):
    token = csrf_token(organizer_client, "/contests/c1/judges")

    def card_link() -> str:
        response = organizer_client.post("/contests/c1/judges/cards", data={"csrf_token": token})
        assert response.status_code == 200
        return re.search(r"/login/([\w-]+)", response.get_data(as_text=True)).group(1)

    first = card_link()
    assert _link_status(app, first) == 200
    second = card_link()
    assert _link_status(app, first) == 410
    assert _link_status(app, second) == 200


def test_the_check_costs_no_query_of_its_own(app, judge):
    """The epoch is read from the user's row, which Flask-Login loads anyway: one SELECT."""
    from judging.auth.views import load_user

    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.engine
    with app.test_request_context("/judge/"):
        from flask import session

        user_id = judge.user_id
        sessions.stamp(session, judge.user.session_epoch)
        db.session.expire_all()
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            assert load_user(str(user_id)) is not None
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1 and "FROM users" in selects[0], statements
