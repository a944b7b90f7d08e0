"""Hypothesis over every route of the inventory (issue 16, item 8): every field of every
state-changing route's form, every path parameter and every query parameter, filled with
hostile values (NUL, lone surrogates, bidi controls, 10,000 characters, NaN, ±inf,
1E+999999999, ids past 2^31 and 2^63, full-width and other scripts' digits). Whatever the
answer, it is never a 5xx; on SQLite and on PostgreSQL.

tests/no_500/test_fuzz.py fuzzes a curated set of forms in three encodings; this one is
driven by the inventory, so a new route is fuzzed the day it is added. The examples of one
test share one world (refused values change nothing; accepted ones are legitimate changes);
the routes run in the matrix's order, those that end a session last.
"""

from __future__ import annotations

import inspect
import pathlib
import re
from html import unescape
from urllib.parse import urlencode, urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms.fields.core import UnboundField

from judging.extensions import db
from tests.no_500.conftest import path_part, raw
from tests.no_500.test_fuzz import HOSTILE, hostile
from tests.security.conftest import ROLES, token_of
from tests.security.matrix import allowed_order, cases
from tests.security.routes import ROUTES

EXAMPLES = 6
FORM_BODY = "application/x-www-form-urlencoded"

#: More of what the brief of item 8 names, beside tests/no_500's values.
MORE = [
    "１２３",
    "－５",
    "1E+999999999",
    "-Infinity",
    "+inf",
    str(2**63),
    str(2**64),
    "\u200f٣\u202c",
]
values = st.one_of(hostile, st.sampled_from(MORE + HOSTILE))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Every query parameter the views read (the source check below keeps the list complete).
QUERY_NAMES = (
    "action",
    "after",
    "entry",
    "fresh",
    "from",
    "group",
    "judge",
    "lang",
    "next",
    "page",
    "per_page",
    "q",
    "state",
    "status",
    "submitted",
    "to",
)
_ARGS_IN_CODE = re.compile(r"request\.(?:args|values)\.(?:get|getlist)\(\s*\"(\w+)\"")
_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
_ACTION = re.compile(r'\baction="([^"]*)"')
_PARAM = re.compile(r"<(?:[a-z]+:)?(\w+)>")
_FORM_KEYS = re.compile(r"request\.form(?:\.get|\.getlist)?[(\[]\s*\"(\w+)\"")
_NAME = re.compile(r'<(?:input|select|textarea|button)\b[^>]*\bname="([^"]+)"', re.I)


def _allowed_cases(app, world, *, writes: bool, every_role: bool = False):
    """The allowed requests with own ids: one per route (by its most privileged role), or
    with every_role, each allowed role's."""
    chosen = {}
    for route in ROUTES:
        for case in cases(app, route, world, ROLES):
            if case.expect == "ok" and case.ids == "own" and (case.method != "GET") == writes:
                chosen[(route.rule, case.role if every_role else "")] = case
    return sorted(chosen.values(), key=allowed_order)


def declared_fields(app, endpoint: str) -> set[str]:
    """The fields the route's view reads: of the WTForms classes it (or a helper of its
    module it calls) builds, and ``request.form`` keys. (The rubric and other forms built
    at run time are read from the pages instead.)"""
    view = inspect.unwrap(app.view_functions[endpoint])
    module = view.__globals__
    sources = [inspect.getsource(view)]
    for helper in set(re.findall(r"\b(_\w+)\(", sources[0])):
        if inspect.isfunction(module.get(helper)):
            sources.append(inspect.getsource(module[helper]))
    names: set[str] = set()
    for source in sources:
        for class_name in set(re.findall(r"\b(\w+Form)\(", source)):
            cls = module.get(class_name)
            if isinstance(cls, type):
                names |= {n for n in dir(cls) if isinstance(getattr(cls, n, None), UnboundField)}
        names |= set(_FORM_KEYS.findall(source))
    return names - {"csrf_token"}


def _forms(clients, pages) -> dict[str, set[str]]:
    """Each form action (path) found on the pages, with the names of its fields."""
    found: dict[str, set[str]] = {}
    for case in pages:
        response = clients[case.role].get(case.url)
        if response.status_code != 200 or not response.mimetype.startswith("text/html"):
            continue
        for attrs, body in _FORM.findall(response.get_data(as_text=True)):
            action = _ACTION.search(attrs)
            path = urlsplit(unescape(action.group(1)) if action else case.url).path
            found.setdefault(path, set()).update(_NAME.findall(body))
    for names in found.values():
        names.discard("csrf_token")
    return found


def assert_no_5xx(response, what: str) -> None:
    assert response.status_code < 500, f"{response.status_code} for {what}"
    db.session.rollback()


def test_the_fuzzed_query_names_are_every_one_the_views_read():
    root = pathlib.Path(__file__).resolve().parents[2] / "judging"
    read = {m for p in root.rglob("*.py") for m in _ARGS_IN_CODE.findall(p.read_text("utf-8"))}
    assert read <= set(QUERY_NAMES), f"add to QUERY_NAMES: {sorted(read - set(QUERY_NAMES))}"


def _fuzz_form(case, client, token: str, names: list[str]) -> None:
    @FUZZ
    @given(fields=st.fixed_dictionaries({n: values for n in names}))
    def run(fields):
        pairs = [(k, raw(v)) for k, v in fields.items()] + [("csrf_token", token.encode())]
        response = client.post(case.url, data=urlencode(pairs), content_type=FORM_BODY)
        assert_no_5xx(response, f"{case.role} POST {case.url} {sorted(fields)}")

    run()


def _fuzz_path(case, client, token: str) -> None:
    route, real = case.route, dict(case.values)

    @FUZZ
    @given(name=st.sampled_from(sorted(route.params)), value=values)
    def run(name, value):
        parts = {**real, name: value}
        url = _PARAM.sub(lambda m: path_part(parts[m.group(1)]), route.rule)
        if case.method == "GET":
            response = client.get(url)
        else:
            body = urlencode([("csrf_token", token), ("reason", raw(value))])
            response = client.post(url, data=body, content_type=FORM_BODY)
        assert_no_5xx(response, f"{case.role} {case.method} {url[:200]}")

    run()


def _fuzz_query(case, client) -> None:
    @FUZZ
    @given(query=st.dictionaries(st.sampled_from(QUERY_NAMES), values, min_size=1))
    def run(query):
        url = case.url + "?" + urlencode([(k, raw(v)) for k, v in query.items()])
        assert_no_5xx(client.get(url), f"{case.role} GET {url[:200]}")

    run()


def test_every_field_of_every_form_gets_hostile_values_and_no_5xx(app, world, clients, no_limits):
    forms = _forms(clients, _allowed_cases(app, world, writes=False, every_role=True))
    tokens = {role: token_of(c, role != "anonymous") for role, c in clients.items()}
    writes = _allowed_cases(app, world, writes=True)
    assert len(writes) > 50
    with_form = 0
    for case in writes:
        names = sorted(
            forms.get(urlsplit(case.url).path, set()) | declared_fields(app, case.route.endpoint)
        )
        with_form += bool(names)
        _fuzz_form(case, clients[case.role], tokens[case.role], names or ["reason"])
    # The others are buttons: a CSRF token and nothing else (given a "reason" here).
    assert with_form >= 40, with_form


def test_every_path_parameter_of_every_route_gets_hostile_values_and_no_5xx(
    app, world, clients, no_limits
):
    tokens = {role: token_of(c, role != "anonymous") for role, c in clients.items()}
    chosen = _allowed_cases(app, world, writes=False) + _allowed_cases(app, world, writes=True)
    chosen = sorted((c for c in chosen if c.route.params), key=allowed_order)
    assert len(chosen) > 70
    for case in chosen:
        _fuzz_path(case, clients[case.role], tokens[case.role])


def test_every_query_parameter_on_every_page_gets_hostile_values_and_no_5xx(
    app, world, clients, no_limits
):
    pages = _allowed_cases(app, world, writes=False)
    assert len(pages) > 50
    for case in pages:
        _fuzz_query(case, clients[case.role])
