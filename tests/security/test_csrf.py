"""CSRF on every state-changing route of the inventory (issue 16, item 8).

For each POST route, a role that may use it sends the request with no token, with a
made-up token, and with a valid token of another session (in the form and in the
header): each is refused with 400 and writes nothing. With the session's own token the
same request is not refused as a CSRF failure, so the 400s are the token's doing. (CSRF is
on in the tests' configuration; the fixture makes sure of it.)
"""

from __future__ import annotations

import re

import pytest

from judging.extensions import db
from tests.conftest import database_state
from tests.security.conftest import ROLES, token_of
from tests.security.matrix import allowed_order, cases
from tests.security.routes import ROUTES

WRITES = [r for r in ROUTES if r.writes]
_MESSAGE = re.compile(r"<h1>.*?</h1>\s*<p>(.*?)</p>", re.S)


@pytest.fixture
def csrf_on(app):
    """CSRF protection as in production, whatever a test configuration says."""
    app.config["WTF_CSRF_ENABLED"] = True
    app.config["WTF_CSRF_CHECK_DEFAULT"] = True
    return app


def _allowed(app, route, world):
    """A request of the matrix on the route, with own ids, by the most privileged role
    that may make it."""
    own = [
        c
        for c in cases(app, route, world, ROLES)
        if c.expect == "ok" and c.ids == "own" and c.method != "GET"
    ]
    assert own, f"no role may post to {route.rule}"
    return own[-1]  # ROLES run from anonymous to the organizer


def test_every_state_changing_route_refuses_a_missing_or_wrong_csrf_token(
    csrf_on, world, clients, no_limits
):
    foreign = token_of(csrf_on.test_client(), signed_in=False)  # valid, another session's
    problems, sent = [], 0
    for route in WRITES:
        case = _allowed(csrf_on, route, world)
        client = clients[case.role]
        token_of(client, case.role != "anonymous")  # the session has a token of its own
        db.session.rollback()
        before = database_state()
        for label, data, headers in (
            ("no token", {}, {}),
            ("a made-up token", {"csrf_token": "x" * 40}, {}),
            ("another session's token", {"csrf_token": foreign}, {}),
            ("another session's token in the header", {}, {"X-CSRFToken": foreign}),
        ):
            response = client.open(case.url, method=case.method, data=data, headers=headers)
            sent += 1
            if response.status_code != 400:
                problems.append(f"{case} with {label}: got {response.status_code}")
            db.session.rollback()
        after = database_state()
        if after != before:
            changed = sorted(t for t in after if after[t] != before[t])
            problems.append(f"{case.method} {case.url} without a valid token changed {changed}")
    assert not problems, "\n".join(problems)
    assert len(WRITES) > 50
    assert sent == 4 * len(WRITES)


def test_with_the_sessions_own_token_the_same_requests_pass_the_csrf_check(
    csrf_on, world, clients, no_limits
):
    refused = clients["anonymous"].post("/language", data={})
    assert refused.status_code == 400
    csrf_message = _MESSAGE.search(refused.get_data(as_text=True)).group(1)
    problems = []
    for case in sorted((_allowed(csrf_on, r, world) for r in WRITES), key=allowed_order):
        client = clients[case.role]
        token = token_of(client, case.role != "anonymous")
        response = client.open(case.url, method=case.method, data={"csrf_token": token})
        db.session.rollback()
        if response.status_code == 400 and csrf_message in response.get_data(as_text=True):
            problems.append(f"{case}: refused as a CSRF failure")
    assert not problems, "\n".join(problems)
