"""Hypothesis throws hostile values at every route's path parameters and at the fields of the
main forms (issue 16, item 5): NUL, lone surrogates, bidirectional controls, 10,000
characters, NaN, ±inf, huge exponents, ids past 2^31 and 2^63, other scripts' digits; as
form bodies, JSON and files. Whatever the answer, it is never a 5xx.

Each target runs a bounded number of examples (``EXAMPLES``) on one contest that the
examples share: a refused request changes nothing, an accepted one is a legitimate change,
and neither is what is asserted here.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judging.extensions import db
from tests.no_500.conftest import path_part, post, token_for

EXAMPLES = 30

HOSTILE = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff\ud800",
    "\u202e",
    "A001\u2066",
    "x" * 10_000,
    "评" * 10_000,
    "NaN",
    "nan",
    "sNaN",
    "inf",
    "-inf",
    "Infinity",
    "1e999999999",
    "1E+999999999",
    "1e-999999999",
    "-1",
    "0",
    "2147483647",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999999999",
    "9" * 5000,
    "²",
    "⑤",
    "٣",
    "３０",
    "0.001",
    "1" + "0" * 40,
    "%00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "=1+1",
    "None",
    "prelim",
    "angel",
]

hostile = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=12),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
    st.builds(lambda a, b: a + b, st.sampled_from(HOSTILE), st.text(max_size=4)),
)

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_no_5xx(response, what: str) -> None:
    assert response.status_code < 500, f"{response.status_code} for {what}"
    db.session.rollback()  # the test's own session sees the next example's changes


# ------------------------------------------------------------------ every route's parameters

#: Values a parameter may also take, so a fuzzed one sits beside real ones (the request
#: reaches the code behind the first lookup).
REAL = {
    "slug": "fuzz",
    "code": "prelim",
    "group": "angel",
    "kind": "awards",
    "target": "closed",
    "token": "x",
    "filename": "css/app.css",
}
_ARG = re.compile(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-z_]+)>")
SKIP = {"/sign-out", "/language", "/static/<path:filename>"}


def _routes(app):
    routes = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule in SKIP or not rule.arguments:
            continue
        for method in ("GET", "POST"):
            if method in rule.methods:
                routes.append((method, rule.rule))
    return routes


def _url(template: str, values: dict[str, str]) -> str:
    return _ARG.sub(lambda m: path_part(values[m.group(2)]), template)


def _real_ids(world) -> dict[str, str]:
    return {
        "stage_id": str(world.prelim.id),
        "entry_id": str(world.entry.id),
        "sheet_id": str(world.sheet.id),
        "judge_id": str(world.judge.id),
        "conflict_id": str(world.conflict.id),
        "group_id": str(world.group.id),
        "field_id": str(world.field.id),
        "tier_id": str(world.tier.id),
        "award_id": "1",
        "user_id": str(world.judge.user_id),
    }


@pytest.mark.parametrize("role", ["organizer", "judge"])
def test_no_route_parameter_gets_a_5xx(app, world, organizer_client, judge_client, role):
    client = organizer_client if role == "organizer" else judge_client
    token = token_for(client, "/judge/" if role == "judge" else "/contests/fuzz/setup")
    routes = _routes(app)
    real = {**REAL, **_real_ids(world)}

    @settings(FUZZ, max_examples=4 * EXAMPLES)
    @given(route=st.sampled_from(routes), data=st.data())
    def run(route, data):
        method, template = route
        values = {}
        for match in _ARG.finditer(template):
            name = match.group(2)
            keep = data.draw(st.booleans(), label=f"{name} real")
            values[name] = real.get(name, "1") if keep else data.draw(hostile, label=name)
        url = _url(template, values)
        if method == "GET":
            response = client.get(url)
        else:
            response = post(client, url, {"reason": "x"}, token=token)
        assert_no_5xx(response, f"{method} {url[:200]}")

    run()


#: The values that found 500s (issue 16), tried in every parameter of every route.
SWEEP = ["a\x00b", "2147483648", "9223372036854775808", "9" * 30, "٣", "x" * 10_000]


@pytest.mark.parametrize("role", ["organizer", "judge"])
def test_every_route_parameter_with_each_known_bad_value(
    app, world, organizer_client, judge_client, role
):
    """The sweep behind the fuzzing: each parameter of each route in turn gets each value
    of ``SWEEP``, the others their real values (so the request gets past them)."""
    client = organizer_client if role == "organizer" else judge_client
    token = token_for(client, "/judge/" if role == "judge" else "/contests/fuzz/setup")
    real = {**REAL, **_real_ids(world)}
    tried = 0
    for method, template in _routes(app):
        names = [m.group(2) for m in _ARG.finditer(template)]
        for name in names:
            for bad in SWEEP:
                values = {n: real.get(n, "1") for n in names}
                values[name] = bad
                url = _url(template, values)
                if method == "GET":
                    response = client.get(url)
                else:
                    response = post(client, url, {"reason": "x"}, token=token)
                assert_no_5xx(response, f"{method} {url[:200]}")
                tried += 1
    assert tried > 300


@pytest.mark.parametrize(
    "query",
    [
        "/judge/?group={}&state={}",
        "/contests/fuzz/stages/prelim/sheets?judge={}&q={}",
        "/contests/fuzz/audit?page={}&judge={}",
        "/contests/fuzz/audit?from={}&to={}",
        "/contests/fuzz/entries?group={}&page={}",
        "/contests/fuzz/entries?q={}&status={}",
        "/results/fuzz/prelim/angel?page={}&lang={}",
        "/api/v1/contests/fuzz/stages/prelim/groups/angel/standings?page={}&per_page={}",
        "/sign-in?next={}&lang={}",
    ],
)
def test_no_query_argument_gets_a_5xx(world, organizer_client, judge_client, query):
    client = judge_client if query.startswith("/judge/") else organizer_client

    @FUZZ
    @given(first=hostile, second=hostile)
    def run(first, second):
        url = query.format(path_part(first), path_part(second))
        assert_no_5xx(client.get(url), url[:200])

    run()


# ------------------------------------------------------------------ the main forms

#: (who, the page whose form it is, where it posts): the form's field names are read
#: from the page, so a field added later is fuzzed too.
FORMS = {
    "sign-in": ("anonymous", "/sign-in", "/sign-in"),
    "language": ("anonymous", "/sign-in", "/language"),
    "sheet": ("judge", "{sheet}", "{sheet}"),
    "conflict": ("judge", "{sheet}", "{sheet}/conflict"),
    "reopen": (
        "organizer",
        "/contests/fuzz/stages/prelim/sheets",
        "/contests/fuzz/sheets/{sid}/reopen",
    ),
    "setup-contest": ("organizer", "/contests/fuzz/setup", "/contests/fuzz/setup/contest"),
    "setup-group": ("organizer", "/contests/fuzz/setup", "/contests/fuzz/setup/groups"),
    "setup-field": ("organizer", "/contests/fuzz/setup", "/contests/fuzz/setup/fields/{fid}"),
    "setup-tier": ("organizer", "/contests/fuzz/setup", "/contests/fuzz/setup/tiers"),
    "setup-special": ("organizer", "/contests/fuzz/setup", "/contests/fuzz/setup/specials"),
    "setup-stage": (
        "organizer",
        "/contests/fuzz/setup/stages/prelim",
        "/contests/fuzz/setup/stages/prelim",
    ),
    "new-stage": (
        "organizer",
        "/contests/fuzz/setup/stages/new",
        "/contests/fuzz/setup/stages/new",
    ),
    "rubric": (
        "organizer",
        "/contests/fuzz/stages/prelim/rubric/angel",
        "/contests/fuzz/stages/prelim/rubric/angel",
    ),
    "new-entry": ("organizer", "/contests/fuzz/entries/new", "/contests/fuzz/entries/new"),
    "edit-entry": (
        "organizer",
        "/contests/fuzz/entries/{eid}/edit",
        "/contests/fuzz/entries/{eid}/edit",
    ),
    "entry-status": (
        "organizer",
        "/contests/fuzz/entries/{eid}/status?to=withdrawn",
        "/contests/fuzz/entries/{eid}/status",
    ),
    "new-judge": ("organizer", "/contests/fuzz/judges/new", "/contests/fuzz/judges/new"),
    "edit-judge": ("organizer", "/contests/fuzz/judges/{jid}", "/contests/fuzz/judges/{jid}"),
    "add-conflict": ("organizer", "/contests/fuzz/conflicts", "/contests/fuzz/conflicts/add"),
    "on-stage": ("organizer", "/contests/fuzz/live/final", "/contests/fuzz/live/final/on-stage"),
    "reveal": ("organizer", "/contests/fuzz/live/final", "/contests/fuzz/live/final/reveal"),
    "timer": ("organizer", "/contests/fuzz/live/final", "/contests/fuzz/live/final/timer"),
    "running-order": (
        "organizer",
        "/contests/fuzz/stages/final/order",
        "/contests/fuzz/stages/final/order",
    ),
    "confirm": (
        "organizer",
        "/contests/fuzz/stages/prelim/confirm/awards",
        "/contests/fuzz/stages/prelim/confirm/awards",
    ),
    "stage-state": (
        "organizer",
        "/contests/fuzz/stages/prelim/state/closed",
        "/contests/fuzz/stages/prelim/state/closed",
    ),
    "invite": ("organizer", "/organizers", "/organizers/invite"),
    "password": ("judge", "/account/password", "/account/password"),
}
_NAME = re.compile(r'name="([A-Za-z_][\w-]*)"')


def _form_names(html: str) -> list[str]:
    names = sorted(set(_NAME.findall(html)) - {"csrf_token"})
    return names or ["reason"]


@pytest.mark.parametrize("target", sorted(FORMS))
def test_no_form_field_gets_a_5xx(world, client, organizer_client, judge_client, no_limits, target):
    who, page, action = FORMS[target]
    client = {"anonymous": client, "organizer": organizer_client, "judge": judge_client}[who]
    ids = {
        "sheet": f"/judge/stages/{world.prelim.id}/entries/{world.entry.id}",
        "sid": world.sheet.id,
        "fid": world.field.id,
        "eid": world.entry.id,
        "jid": world.judge.id,
    }
    page, action = page.format(**ids), action.format(**ids)
    shown = client.get(page)
    assert shown.status_code == 200, f"{page}: {shown.status_code}"
    html = shown.get_data(as_text=True)
    names = _form_names(html)
    token = token_for(client, page)

    @FUZZ
    @given(
        fields=st.dictionaries(st.sampled_from(names), hostile, min_size=1),
        mode=st.sampled_from(["form", "form", "form", "json", "files"]),
    )
    def run(fields, mode):
        response = post(client, action, fields, token=token, mode=mode)
        assert_no_5xx(response, f"{target} {mode} {sorted(fields)}")

    run()


def test_no_upload_gets_a_5xx(world, organizer_client):
    token = token_for(organizer_client, "/contests/fuzz/excel")

    @settings(FUZZ, max_examples=EXAMPLES // 2)
    @given(
        kind=st.sampled_from(["entries", "judges", "scores", "contest", "\x00", "x" * 300]),
        body=st.one_of(
            st.binary(max_size=64),
            st.just(b"PK\x03\x04" + b"\x00" * 60),
            st.just("\ufeff编号,项目名称\nA9,\x00\n".encode()),
        ),
        name=st.sampled_from(["a.xlsx", "a.csv", "\x00.xlsx", "..\\a.xlsx", "a" * 300]),
    )
    def run(kind, body, name):
        import io

        url = f"/contests/fuzz/excel/import/{path_part(kind)}"
        data = {"csrf_token": token, "file": (io.BytesIO(body), name), "stage": "prelim"}
        response = organizer_client.post(url, data=data, content_type="multipart/form-data")
        assert_no_5xx(response, f"upload {kind[:20]} {name[:20]}")

    run()
