"""Issue 14, item 2: the first sign-in with a password an organizer set goes to choosing
one's own; organizer accounts are invited, deactivated (never oneself, never the last) and
reactivated, and a deactivated account's session ends."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from judging.auth.models import LoginToken, User
from judging.auth.passwords import verify_password
from judging.common.audit import AuditEvent
from judging.common.enums import Role
from judging.extensions import db
from tests.conftest import PASSWORD, create_user, csrf_token, database_state, sign_in_as


def en(client):
    """The client, in English: the new strings' Chinese arrives with the next catalog merge."""
    client.set_cookie("lang", "en")
    return client


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def _sign_in(client, username, password):
    return client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
    )


def _errors(response) -> list[str]:
    return re.findall(r'<p class="error" role="alert">(.*?)</p>', response.get_data(as_text=True))


# ---------------------------------------------------------------- the first sign-in


@pytest.fixture
def temporary(app):
    """A judge whose password an organizer set (to be changed at the first sign-in)."""
    user = create_user("new-judge", role=Role.JUDGE, must_change_password=True)
    db.session.commit()
    return user


def test_a_temporary_password_leads_to_choosing_ones_own_before_anything_else(client, temporary):
    assert _sign_in(client, "new-judge", PASSWORD).status_code == 302
    for page in ("/", "/judge/", "/contests/x"):
        response = client.get(page)
        assert response.status_code == 302
        assert response.headers["Location"] == "/account/password"
    page = client.get("/account/password")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="current"' not in html, "the temporary password is not asked again"
    token = csrf_token(client, "/account/password")
    new = "my own secret words"
    response = client.post(
        "/account/password", data={"password": new, "confirm": new, "csrf_token": token}
    )
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, temporary.id)
    assert not user.must_change_password and verify_password(user.password_hash, new)
    assert client.get("/judge/").status_code == 200
    assert [e.user_id for e in _events("password_change")] == [temporary.id]


def test_the_language_switch_and_sign_out_still_work_before_the_change(client, temporary):
    _sign_in(client, "new-judge", PASSWORD)
    token = csrf_token(client, "/account/password")
    response = client.post("/language", data={"lang": "en", "next": "/", "csrf_token": token})
    assert response.status_code == 302 and "lang=en" in response.headers["Set-Cookie"]
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/judge/").headers["Location"].startswith("/sign-in")


def test_a_one_time_link_also_leads_to_the_password_page(client, temporary):
    from judging.auth.services import issue_login_token

    token = issue_login_token(user=temporary)
    db.session.commit()
    form = csrf_token(client, f"/login/{token}")
    assert client.post(f"/login/{token}", data={"csrf_token": form}).status_code == 302
    assert client.get("/judge/").headers["Location"] == "/account/password"


@pytest.mark.parametrize(
    ("password", "confirm", "field", "message"),
    [
        ("short", "short", "New password", "12"),
        ("12345678", "12345678", "New password", "12"),
        ("password", "password", "New password", "12"),
        ("password1234", "password1234", "New password", "common"),
        ("PassWord!2026", "PassWord!2026", "New password", "common"),
        ("123456789012", "123456789012", "New password", "common"),
        ("new-judge-2026", "new-judge-2026", "New password", "username"),
        ("long enough 1", "long enough 2", "New password again", "differ"),
        (PASSWORD, PASSWORD, "New password", "different"),
        ("", "", "New password", ""),
    ],
)
def test_a_refused_new_password_names_its_field_and_writes_nothing(
    client, temporary, password, confirm, field, message
):
    en(client)
    _sign_in(client, "new-judge", PASSWORD)
    token = csrf_token(client, "/account/password")
    before = database_state()
    response = client.post(
        "/account/password", data={"password": password, "confirm": confirm, "csrf_token": token}
    )
    assert response.status_code == 400
    errors = _errors(response)
    assert errors and errors[0].startswith(field) and message in errors[0], errors
    assert database_state() == before


def test_a_password_change_without_the_csrf_token_is_refused(client, temporary):
    _sign_in(client, "new-judge", PASSWORD)
    before = database_state()
    new = "my own secret words"
    response = client.post("/account/password", data={"password": new, "confirm": new})
    assert response.status_code == 400
    assert database_state() == before


def test_changing_ones_password_later_asks_the_current_one(judge_client, judge_user):
    en(judge_client)
    token = csrf_token(judge_client, "/account/password")
    new = "another secret phrase"
    data = {"password": new, "confirm": new, "csrf_token": token}
    response = judge_client.post("/account/password", data={**data, "current": "wrong one"})
    assert response.status_code == 400
    assert any(e.startswith("Current password") for e in _errors(response))
    response = judge_client.post("/account/password", data={**data, "current": PASSWORD})
    assert response.status_code == 302
    db.session.expire_all()
    assert verify_password(db.session.get(User, judge_user.id).password_hash, new)


def test_the_password_page_needs_a_sign_in(client):
    assert client.get("/account/password").headers["Location"].startswith("/sign-in")


# ---------------------------------------------------------------- organizer accounts


def test_a_judge_cannot_see_or_change_organizer_accounts(judge_client, organizer):
    assert judge_client.get("/organizers").status_code == 404
    token = csrf_token(judge_client, "/judge/")
    before = database_state()
    for url in ("/organizers/invite", f"/organizers/{organizer.id}/deactivate"):
        response = judge_client.post(url, data={"csrf_token": token, "username": "x"})
        assert response.status_code == 404
    assert database_state() == before


def test_invite_an_organizer_with_a_temporary_password(organizer_client, client):
    page = organizer_client.get("/organizers")
    assert page.status_code == 200 and "boss" in page.get_data(as_text=True)
    token = csrf_token(organizer_client, "/organizers")
    response = organizer_client.post(
        "/organizers/invite",
        data={
            "username": "  second ",
            "display_name": "第二组委",
            "password": "temporary words",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.username == "second"))
    assert user.role == Role.ORGANIZER and user.must_change_password
    assert _events("organizer_invite")[0].new["username"] == "second"
    assert _sign_in(client, "second", "temporary words").status_code == 302
    assert client.get("/").headers["Location"] == "/account/password"


def test_invite_an_organizer_by_a_one_time_link(organizer_client, client):
    token = csrf_token(organizer_client, "/organizers")
    response = organizer_client.post(
        "/organizers/invite", data={"username": "third", "csrf_token": token}
    )
    assert response.status_code == 200
    link = re.search(r'data-testid="link">([^<]+)<', response.get_data(as_text=True)).group(1)
    path = link.split("localhost", 1)[-1]
    assert path.startswith("/login/")
    db.session.commit()
    assert client.post(path, data={"csrf_token": csrf_token(client, path)}).status_code == 302
    assert client.get("/").headers["Location"] == "/account/password"
    new = "chosen by me 123"
    token = csrf_token(client, "/account/password")
    client.post("/account/password", data={"password": new, "confirm": new, "csrf_token": token})
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": ""}, "Username"),
        ({"username": "has space"}, "Username"),
        ({"username": "boss"}, "Username"),  # taken
        ({"username": "fine", "password": "short"}, "Temporary password"),
        ({"username": "fine", "password": "password1234"}, "Temporary password"),
        ({"username": "x" * 81}, "Username"),
        ({"username": "a/b"}, "Username"),
    ],
)
def test_a_refused_invitation_names_its_field_and_writes_nothing(organizer_client, data, field):
    en(organizer_client)
    token = csrf_token(organizer_client, "/organizers")
    before = database_state()
    response = organizer_client.post("/organizers/invite", data={**data, "csrf_token": token})
    assert response.status_code == 400
    errors = _errors(response)
    assert errors and errors[0].startswith(field), errors
    assert database_state() == before


def test_an_invitation_without_the_csrf_token_is_refused(organizer_client):
    before = database_state()
    assert organizer_client.post("/organizers/invite", data={"username": "x"}).status_code == 400
    assert database_state() == before


def test_deactivating_an_organizer_ends_their_session_and_their_links(
    app, organizer_client, organizer
):
    from judging.auth.services import issue_login_token

    other = create_user("other", role=Role.ORGANIZER)
    link = issue_login_token(user=other)
    db.session.commit()
    their = app.test_client()
    sign_in_as(their, other)
    assert their.get("/").status_code == 200
    token = csrf_token(organizer_client, "/organizers")
    response = organizer_client.post(
        f"/organizers/{other.id}/deactivate", data={"csrf_token": token}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, other.id).is_enabled
    # The session they had is no longer signed in, and neither password nor link works.
    assert their.get("/contests/x").headers["Location"].startswith("/sign-in")
    assert _sign_in(app.test_client(), "other", PASSWORD).status_code == 401
    assert app.test_client().get(f"/login/{link}").status_code in (404, 410)
    assert _events("account_deactivate")[0].object_id == other.id
    # Reactivated, they sign in again; the old link stays dead.
    organizer_client.post(f"/organizers/{other.id}/reactivate", data={"csrf_token": token})
    assert _sign_in(app.test_client(), "other", PASSWORD).status_code == 302
    assert app.test_client().get(f"/login/{link}").status_code == 410
    assert len(_events("account_reactivate")) == 1


def test_an_organizer_cannot_deactivate_themselves(organizer_client, organizer):
    en(organizer_client)
    create_user("other", role=Role.ORGANIZER)
    db.session.commit()
    token = csrf_token(organizer_client, "/organizers")
    before = database_state()
    response = organizer_client.post(
        f"/organizers/{organizer.id}/deactivate", data={"csrf_token": token}
    )
    assert response.status_code == 302
    assert database_state() == before
    assert "cannot deactivate your own" in organizer_client.get("/organizers").get_data(
        as_text=True
    )


def test_the_last_active_organizer_cannot_be_deactivated(app, organizer):
    from judging.auth.services import AccountError, set_enabled

    other = create_user("other", role=Role.ORGANIZER)
    set_enabled(user=other, enabled=False, by=organizer)
    with pytest.raises(AccountError) as refused:
        set_enabled(user=organizer, enabled=False, by=other)
    assert refused.value.code == "last_organizer"
    assert db.session.get(User, organizer.id).is_enabled


def test_the_page_refuses_to_deactivate_the_last_active_organizer(app, organizer):
    # Two organizers; one deactivates the other, who can then no longer act at all.
    other = create_user("other", role=Role.ORGANIZER)
    db.session.commit()
    mine, theirs = app.test_client(), app.test_client()
    sign_in_as(mine, organizer)
    sign_in_as(theirs, other)
    their_token = csrf_token(theirs, "/organizers")
    token = csrf_token(mine, "/organizers")
    assert (
        mine.post(f"/organizers/{other.id}/deactivate", data={"csrf_token": token}).status_code
        == 302
    )
    response = theirs.post(
        f"/organizers/{organizer.id}/deactivate", data={"csrf_token": their_token}
    )
    assert response.headers["Location"].startswith("/sign-in")
    db.session.expire_all()
    assert db.session.get(User, organizer.id).is_enabled
    assert [u.username for u in db.session.scalars(sa.select(User).where(User.is_enabled))] == [
        "boss"
    ]


def test_an_unknown_or_judge_account_is_not_an_organizer_here(organizer_client, judge_user):
    token = csrf_token(organizer_client, "/organizers")
    for user_id in (judge_user.id, 99999, 2**40):
        url = f"/organizers/{user_id}/deactivate"
        assert organizer_client.post(url, data={"csrf_token": token}).status_code == 404
    assert db.session.get(User, judge_user.id).is_enabled


def test_a_new_invitation_link_only_for_an_account_never_used(organizer_client, organizer):
    from judging.auth.services import issue_login_token

    fresh = create_user("fresh", role=Role.ORGANIZER, must_change_password=True)
    old = issue_login_token(user=fresh)
    db.session.commit()
    token = csrf_token(organizer_client, "/organizers")
    response = organizer_client.post(f"/organizers/{fresh.id}/link", data={"csrf_token": token})
    assert response.status_code == 200 and "/login/" in response.get_data(as_text=True)
    db.session.commit()
    assert organizer_client.get(f"/login/{old}").status_code == 410
    assert (
        organizer_client.post(
            f"/organizers/{organizer.id}/link", data={"csrf_token": token}
        ).status_code
        == 404
    ), "an organizer who signed in gets no link another could use"
    assert len(_events("organizer_link")) == 1
    tokens = db.session.scalars(sa.select(LoginToken).where(LoginToken.user_id == organizer.id))
    assert list(tokens) == []
