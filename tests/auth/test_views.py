"""Sign-in, sign-out, rate limiting, CSRF and role checks."""

import re

import pytest
import sqlalchemy as sa

from judging.common.audit import AuditEvent
from judging.common.enums import Role
from judging.extensions import db
from tests.conftest import PASSWORD, create_user, csrf_token


def _sign_in(client, username, password, token=None, **extra):
    token = token or csrf_token(client)
    return client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": token, **extra},
    )


def test_sign_in_with_the_right_password(client, organizer):
    response = _sign_in(client, "boss", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "组委会" in page  # the organizer's display name in the header
    assert db.session.scalar(sa.select(AuditEvent.action)) == "sign_in"


def test_wrong_password_and_unknown_user_get_the_same_answer(client, organizer):
    wrong = _sign_in(client, "boss", "not the password")
    unknown = _sign_in(client, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401

    def message(response):
        html = response.get_data(as_text=True)
        return re.findall(r'<p class="error" role="alert">(.*?)</p>', html)

    assert message(wrong) == message(unknown)
    assert message(wrong) and "用户名或密码错误" in message(wrong)[0]
    with client.session_transaction() as session:
        assert "_user_id" not in session


def test_the_sixth_quick_wrong_attempt_on_an_account_is_refused(client, organizer):
    token = csrf_token(client)
    codes = [_sign_in(client, "boss", f"guess-{i}", token).status_code for i in range(6)]
    assert codes[:5] == [401] * 5
    assert codes[5] == 429
    page = _sign_in(client, "boss", PASSWORD, token)
    assert page.status_code == 429, "the limit holds even for the right password"
    assert "15" in page.get_data(as_text=True)  # the minutes to wait


def test_successful_sign_ins_do_not_use_up_the_limit(client, app):
    create_user("j1", role=Role.JUDGE)
    db.session.commit()
    for _ in range(12):
        assert _sign_in(client, "j1", PASSWORD).status_code == 302
        token = csrf_token(client, "/judge/")
        client.post("/sign-out", data={"csrf_token": token})


def test_disabled_account_cannot_sign_in(client, app):
    create_user("gone", role=Role.JUDGE, is_enabled=False)
    db.session.commit()
    assert _sign_in(client, "gone", PASSWORD).status_code == 401


def test_post_without_csrf_token_is_refused(client, organizer):
    response = client.post("/sign-in", data={"username": "boss", "password": PASSWORD})
    assert response.status_code == 400
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


def test_sign_out_needs_post_with_token(organizer_client):
    assert organizer_client.get("/sign-out").status_code == 405
    assert organizer_client.post("/sign-out").status_code == 400
    token = csrf_token(organizer_client, "/")
    assert organizer_client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    with organizer_client.session_transaction() as session:
        assert "_user_id" not in session


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_next_cannot_leave_the_site(client, organizer, target):
    response = _sign_in(client, "boss", PASSWORD, next=target)
    assert response.headers["Location"] == "/"


def test_next_within_the_site_is_followed(client, organizer):
    response = _sign_in(client, "boss", PASSWORD, next="/contests/x")
    assert response.headers["Location"] == "/contests/x"


def test_pages_need_sign_in_and_the_right_role(client, judge_client, organizer_client):
    assert client.get("/judge/").status_code == 302
    assert client.get("/contests/dalian-2020").status_code == 302
    # A judge asking for an organizer page gets the same answer as for a missing page.
    assert judge_client.get("/contests/dalian-2020").status_code == 404
    assert organizer_client.get("/judge/").status_code == 404


def test_session_cookie_flags(client, organizer):
    response = _sign_in(client, "boss", PASSWORD)
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    cookie = cookies["session"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    # The public pages' script reads the marker (it holds nothing but "1").
    assert (
        cookies["signed_in"].startswith("signed_in=1;") and "HttpOnly" not in cookies["signed_in"]
    )


def test_secure_cookie_when_configured_for_https(monkeypatch):
    from judging import TestingConfig

    monkeypatch.setenv("HTTPS", "1")
    config = TestingConfig()
    assert config.SESSION_COOKIE_SECURE is True
    assert config.REMEMBER_COOKIE_SECURE is True


def test_passwords_are_argon2id(app):
    from judging.auth.passwords import hash_password, verify_password

    digest = hash_password("s3cret-pass")
    assert digest.startswith("$argon2id$")
    assert verify_password(digest, "s3cret-pass")
    assert not verify_password(digest, "s3cret-pasS")
    assert not verify_password(None, "anything")
