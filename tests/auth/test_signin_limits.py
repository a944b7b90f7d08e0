"""Issue 16, item 2: failed sign-ins are limited per account and per address (a lockout of
one account leaves the others behind the same address alone), counted in Redis when it is
configured, from the client's address behind a configured proxy, and recorded."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from judging import TestingConfig, create_app, install_proxy_fix
from judging.common.audit import AuditEvent
from judging.common.enums import Role
from judging.config import Config
from judging.extensions import db
from tests.conftest import PASSWORD, FreshContextClient, create_user, csrf_token

REDIS_URL = "redis://127.0.0.1:6379/15"


def _events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def _sign_in(client, username, password, **kw):
    data = {"username": username, "password": password, "csrf_token": csrf_token(client)}
    return client.post("/sign-in", data=data, **kw)


def _errors(response) -> list[str]:
    return re.findall(r'<p class="error" role="alert">(.*?)</p>', response.get_data(as_text=True))


def _en(client):
    client.set_cookie("lang", "en")
    return client


@pytest.fixture
def accounts(app):
    """Two organizers and thirty judges."""
    create_user("boss", role=Role.ORGANIZER)
    create_user("chair", role=Role.ORGANIZER)
    for n in range(30):
        create_user(f"judge{n:02d}", role=Role.JUDGE)
    db.session.commit()


def test_an_account_locks_after_five_failures_and_the_others_behind_the_address_do_not(
    app, accounts
):
    client = _en(app.test_client())
    codes = [_sign_in(client, "boss", f"guess number {i}").status_code for i in range(5)]
    assert codes == [401] * 5
    refused = _sign_in(client, "boss", PASSWORD)
    assert refused.status_code == 429, "locked: even the right password waits"
    assert int(refused.headers["Retry-After"]) > 14 * 60
    assert _errors(refused) == [
        "Too many failed sign-ins for this account: try again in 15 minutes."
    ]
    # Another account from the same address (the same venue's NAT) signs in at once.
    assert _sign_in(app.test_client(), "chair", PASSWORD).status_code == 302
    # The locked account from another address is still locked: the count is the account's.
    other = {"REMOTE_ADDR": "198.51.100.9"}
    assert _sign_in(app.test_client(), "boss", PASSWORD, environ_base=other).status_code == 429
    # Recorded: five failures with the username tried, one lockout (not every refusal).
    failures = _events("sign_in_failure")
    assert [e.new for e in failures] == [{"username": "boss"}] * 5
    assert all(e.user_id is None and e.ip == "127.0.0.1" for e in failures)
    (lockout,) = _events("sign_in_lockout")
    assert lockout.new == {"username": "boss", "lockout": "account", "minutes": 15}


def test_an_unknown_username_locks_the_same_way(app, accounts):
    client = app.test_client()
    codes = [_sign_in(client, "nobody", "whatever it is").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429], "no hint whether the account exists"


def test_thirty_judges_behind_one_address_all_sign_in_with_the_default_limit(app, accounts):
    assert app.config["SIGNIN_RATE_LIMIT"] == "100 per minute"
    for n in range(30):  # each mistypes once, then gets it right
        client = app.test_client()
        assert _sign_in(client, f"judge{n:02d}", "mistyped password").status_code == 401
        assert _sign_in(client, f"judge{n:02d}", PASSWORD).status_code == 302
    assert len(_events("sign_in_failure")) == 30
    assert _events("sign_in_lockout") == []


def test_an_address_past_its_limit_is_refused_for_every_account(app, accounts):
    app.config["SIGNIN_RATE_LIMIT"] = "8 per minute"
    client = _en(app.test_client())
    for n in range(8):  # one failure on each of eight accounts: no account is locked
        assert _sign_in(client, f"judge{n:02d}", "one wrong guess").status_code == 401
    refused = _sign_in(client, "judge20", PASSWORD)
    assert refused.status_code == 429
    message = "Too many failed sign-ins from this address: try again in 1 minute."
    assert _errors(refused) == [message]
    (lockout,) = _events("sign_in_lockout")
    assert lockout.new["lockout"] == "address" and lockout.ip == "127.0.0.1"
    elsewhere = {"REMOTE_ADDR": "198.51.100.9"}
    assert (
        _sign_in(app.test_client(), "judge20", PASSWORD, environ_base=elsewhere).status_code == 302
    )


def test_successful_sign_ins_count_nothing(app, accounts):
    app.config["SIGNIN_ACCOUNT_LIMIT"] = "2 per 15 minutes"
    for _ in range(4):
        client = app.test_client()
        assert _sign_in(client, "boss", PASSWORD).status_code == 302
    assert _events("sign_in_failure") == []


def test_a_username_with_a_control_character_is_a_form_error(app, accounts):
    client = _en(app.test_client())
    response = _sign_in(client, "bo\x01ss", PASSWORD)
    assert response.status_code == 400
    assert _errors(response) == ["Username: Control characters are not allowed."]
    # A NUL is refused first by the rule every text field follows (judging.common.forms).
    response = _sign_in(client, "bo\x00ss", PASSWORD)
    assert response.status_code == 400
    assert _errors(response) == [
        "Username: Remove the characters that are not allowed here (NUL, text-direction "
        "controls or broken characters)."
    ]


# ---------------------------------------------------------------- behind a proxy


def test_proxy_fix_is_configured_by_the_environment(monkeypatch):
    monkeypatch.delenv("PROXY_FIX_X_FOR", raising=False)
    assert Config().PROXY_FIX_X_FOR == 0
    monkeypatch.setenv("PROXY_FIX_X_FOR", "1")
    assert Config().PROXY_FIX_X_FOR == 1
    assert TestingConfig().PROXY_FIX_X_FOR == 0, "the suite chooses for itself"


def test_the_forwarded_address_is_ignored_unless_a_proxy_is_configured(app, accounts):
    client = app.test_client()
    headers = {"X-Forwarded-For": "203.0.113.7"}
    assert _sign_in(client, "boss", "wrong password", headers=headers).status_code == 401
    (event,) = _events("sign_in_failure")
    assert event.ip == "127.0.0.1", "anyone can send the header: not believed"


def test_behind_a_configured_proxy_the_audit_log_and_the_limits_see_the_client(app, accounts):
    app.config["PROXY_FIX_X_FOR"] = 1
    install_proxy_fix(app)
    app.config["SIGNIN_RATE_LIMIT"] = "3 per minute"
    proxy = app.test_client()  # every request comes from the proxy's address

    def attempt(client_address: str, password: str) -> int:
        headers = {"X-Forwarded-For": client_address}
        return _sign_in(proxy, "chair", password, headers=headers).status_code

    assert [attempt("203.0.113.7", "wrong password") for _ in range(3)] == [401] * 3
    assert attempt("203.0.113.7", PASSWORD) == 429, "that client's address is spent"
    assert attempt("203.0.113.8", PASSWORD) == 302, "another client behind the proxy is not"
    assert {e.ip for e in _events("sign_in_failure")} == {"203.0.113.7"}
    (sign_in,) = _events("sign_in")
    assert sign_in.ip == "203.0.113.8"


def test_create_app_installs_proxy_fix_when_configured():
    from werkzeug.middleware.proxy_fix import ProxyFix

    config = TestingConfig()
    assert not isinstance(create_app(config).wsgi_app, ProxyFix)
    config.PROXY_FIX_X_FOR = 1
    middleware = create_app(config).wsgi_app
    assert isinstance(middleware, ProxyFix)
    assert middleware.x_for == 1 and middleware.x_proto == 1


# ---------------------------------------------------------------- Redis


@pytest.fixture
def redis_db():
    """Redis db 15 on the local server, emptied before and after (skipped without one)."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def test_failures_are_counted_in_redis_when_it_is_configured(redis_db, tmp_path):
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    from judging.auth import throttle

    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'redis.sqlite'}"
    config.RATELIMIT_STORAGE_URI = REDIS_URL
    app = create_app(config)  # starts: the redis client is installed
    app.test_client_class = FreshContextClient
    with app.app_context():
        db.create_all()
        create_user("boss", role=Role.ORGANIZER)
        db.session.commit()
        client = app.test_client()
        codes = [_sign_in(client, "boss", f"guess number {i}").status_code for i in range(6)]
        assert codes == [401] * 5 + [429]
        assert redis_db.keys("*sign-in-account*"), "the count is in Redis"
        # Another worker (its own storage client, the same Redis) sees the lockout.
        other_worker = FixedWindowRateLimiter(storage_from_string(REDIS_URL))
        (limit,) = throttle._parsed(config.SIGNIN_ACCOUNT_LIMIT)
        assert not other_worker.test(limit, *throttle._identifiers(throttle.ACCOUNT, "boss"))
        db.session.remove()
        db.engine.dispose()
