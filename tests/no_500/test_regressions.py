"""Every input issue 16 found answered with a 500, answered as it should be (issue 16, item 5):
a path with a NUL or an id beyond the id columns is no page (404), a query argument out of
range is ignored, a form field with a NUL or a bidirectional control is a form error, points
that are not plain numbers are refused, a version no sheet can have is stale. Each refused
request changes nothing."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import g

from judging.common.forms import BaseForm, FiniteDecimalField
from judging.common.inputs import MAX_ID, db_id, refused_text
from judging.common.numbers import parse_number
from judging.entries.models import Entry
from judging.extensions import db
from judging.scoring.models import ScoreSheet
from tests.conftest import database_state
from tests.no_500.conftest import path_part, post, token_for

HUGE = ["2147483648", "9223372036854775808", "99999999999999999999", "9" * 5000]
NOT_DIGITS = ["٣", "²", "⑤", "-1", "1e3", "0x10"]


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


# ------------------------------------------------------------------ the rules themselves


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("30", Decimal("30")),
        (" 27.5 ", Decimal("27.5")),
        ("３０．５", Decimal("30.5")),  # full-width, as a Chinese input method types
        ("\u3000４０\u3000", Decimal("40")),
        (".5", Decimal("0.5")),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_numbers_people_type_are_read(typed, read):
    assert parse_number(typed) == read


@pytest.mark.parametrize(
    "typed",
    [
        "1E+999999999",
        "1e-999999999",
        "1e3",
        "NaN",
        "sNaN",
        "Infinity",
        "-inf",
        "²",
        "⑤",
        "٣",  # Arabic-Indic three
        "३",  # Devanagari three
        "1,000",
        "1.2.3",
        "9" * 41,
        "\x00",
        "1\x00",
    ],
)
def test_anything_else_is_not_a_number(typed):
    with pytest.raises(ValueError):
        parse_number(typed)


def test_a_number_cell_of_an_imported_file_is_bounded_too():
    assert parse_number(Decimal("3E+1")) == 30
    for cell in (Decimal("1E-999999999"), Decimal("1E+999999999"), Decimal("NaN")):
        with pytest.raises(ValueError):
            parse_number(cell)


@pytest.mark.parametrize("raw", ["1", " 42 ", str(MAX_ID)])
def test_an_id_within_the_columns_range_is_read(raw):
    assert db_id(raw) == int(raw)


@pytest.mark.parametrize("raw", ["", "0", "-1", str(MAX_ID + 1), *HUGE, *NOT_DIGITS, "1\x00"])
def test_an_id_beyond_it_is_not_an_id(raw):
    with pytest.raises(ValueError):
        db_id(raw)


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", "A001\u202e", "x\u2066y", "\u2069"])
def test_nul_surrogates_and_bidi_controls_are_refused_text(value):
    assert refused_text(value)


@pytest.mark.parametrize("value", ["", "评审", "line\nbreak\ttab", "emoji 🎉", "a\u200bb"])
def test_ordinary_text_is_not(value):
    assert not refused_text(value)


class _Prize(BaseForm):
    prize = FiniteDecimalField("Prize")


@pytest.mark.parametrize(
    ("typed", "ok"), [("１０００", True), ("12.5", True), ("٣", False), ("1E+999999999", False)]
)
def test_decimal_fields_of_every_form_read_numbers_by_the_same_rule(app, typed, ok):
    with app.test_request_context("/", method="POST", data={"prize": typed}):
        g.csrf_valid = True
        form = _Prize(meta={"csrf": False})
        assert form.validate() is ok
        if ok:
            assert form.prize.data == parse_number(typed)
        else:
            assert form.prize.errors


# ------------------------------------------------------------------ paths


@pytest.mark.parametrize(
    "url",
    [
        "/results/a%00b",
        "/screen/a%00b",
        "/api/v1/contests/a%00b",
        "/api/v1/contests/a%00b/stages",
        "/results/fuzz/a%00b/angel",
        "/contests/a%00b",
    ],
)
def test_a_nul_in_a_path_is_no_page(client, world, url):
    assert client.get(url).status_code == 404


def test_a_nul_in_a_query_argument_is_dropped(organizer_client, world):
    response = organizer_client.get("/contests/fuzz/stages/prelim/sheets?q=A0%0002")
    assert response.status_code == 200 and "A002" in text(response)  # searched for "A002"


@pytest.mark.parametrize("value", HUGE + NOT_DIGITS)
def test_ids_beyond_the_columns_name_no_page_of_a_judge(judge_client, world, value):
    stage, entry = world.prelim.id, world.entry.id
    part = path_part(value)
    assert judge_client.get(f"/judge/stages/{part}/entries/{entry}").status_code == 404
    assert judge_client.get(f"/judge/stages/{stage}/entries/{part}").status_code == 404
    token = token_for(judge_client, "/judge/")
    conflict = post(
        judge_client,
        f"/judge/stages/{part}/entries/{entry}/conflict",
        {"reason": "同单位"},
        token=token,
    )
    assert conflict.status_code == 404
    home = judge_client.get(f"/judge/?group={part}")
    assert home.status_code == 200 and "A001" in text(home)


@pytest.mark.parametrize("value", HUGE)
def test_ids_beyond_the_columns_in_the_organizers_pages(organizer_client, world, value):
    before = database_state()
    sheets = organizer_client.get(f"/contests/fuzz/stages/prelim/sheets?judge={value}")
    assert sheets.status_code == 200 and "A002" in text(sheets)  # the filter is ignored
    assert organizer_client.get(f"/contests/fuzz/audit?page={value}").status_code == 200
    entries = organizer_client.get(f"/contests/fuzz/entries?group={value}&page={value}")
    assert entries.status_code == 200
    token = token_for(organizer_client, "/contests/fuzz/stages/prelim/sheets")
    for url in (
        f"/contests/fuzz/sheets/{value}/reopen",
        f"/contests/fuzz/conflicts/{value}/withdraw",
        f"/contests/fuzz/entries/{value}/edit",
        f"/contests/fuzz/judges/{value}",
        f"/contests/fuzz/setup/groups/{value}",
        f"/organizers/{value}/deactivate",
    ):
        assert post(organizer_client, url, {"reason": "x"}, token=token).status_code == 404, url
    for action in ("on-stage", "reveal"):
        url = f"/contests/fuzz/live/final/{action}"
        response = post(organizer_client, url, {"entry": value}, token=token)
        assert response.status_code == 404, action
    assert database_state() == before


# ------------------------------------------------------------------ forms


def _sheet_url(world) -> str:
    return f"/judge/stages/{world.prelim.id}/entries/{world.entry.id}"


def _sheet_post(judge_client, world, **fields):
    tech, team = world.criteria
    data = {f"c{tech.id}": "30", f"c{team.id}": "20", "version": "0", "action": "submit"}
    token = token_for(judge_client, _sheet_url(world))
    return post(judge_client, _sheet_url(world), {**data, **fields}, token=token)


def in_english(client):
    """The client reads the pages in English (the new messages' Chinese is merged into the
    catalog separately)."""
    client.set_cookie("lang", "en")
    return client


REFUSED = "not allowed here"


def _sheets() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ScoreSheet))


@pytest.mark.parametrize("value", ["a\x00b", "看\u202e反了", "x\u2067"])
def test_a_comment_with_a_nul_or_a_control_is_a_form_error(judge_client, world, value):
    before = database_state()
    response = _sheet_post(in_english(judge_client), world, comment=value)
    assert response.status_code == 400
    assert REFUSED in text(response)  # the field's message
    assert database_state() == before


@pytest.mark.parametrize(
    "points", ["1E+999999999", "1e-999999999", "²", "⑤", "٣", "NaN", "Infinity", "1e1"]
)
def test_points_that_are_not_plain_numbers_are_refused(judge_client, world, points):
    tech, _team = world.criteria
    before = database_state()
    response = _sheet_post(judge_client, world, **{f"c{tech.id}": points})
    assert response.status_code == 400
    assert "技术：不是数字" in text(response)
    assert database_state() == before


def test_full_width_points_are_still_read(judge_client, world):
    tech, team = world.criteria
    token = token_for(judge_client, _sheet_url(world))
    data = {f"c{tech.id}": "３０．５", f"c{team.id}": "２０", "version": "0", "action": "submit"}
    assert post(judge_client, _sheet_url(world), data, token=token).status_code == 302
    sheet = db.session.scalars(
        sa.select(ScoreSheet).where(ScoreSheet.entry_id == world.entry.id)
    ).one()
    assert sheet.total == Decimal("50.5")


@pytest.mark.parametrize("version", ["99999999999", "2147483648", "9" * 30, "9" * 5000, "-5", "٣"])
def test_a_version_no_sheet_can_have_is_stale(judge_client, world, version):
    tech, team = world.criteria
    token = token_for(judge_client, _sheet_url(world))
    data = {f"c{tech.id}": "30", f"c{team.id}": "20", "version": version, "action": "save"}
    before = database_state()
    response = post(judge_client, _sheet_url(world), data, token=token)
    assert response.status_code == 409
    assert database_state() == before


@pytest.mark.parametrize("username", ["judge\x00-a", "judge-a\u202e"])
def test_a_username_with_a_nul_is_a_form_error(client, world, no_limits, username):
    in_english(client)
    token = token_for(client, "/sign-in")
    response = post(
        client, "/sign-in", {"username": username, "password": "whatever it is"}, token=token
    )
    assert response.status_code == 400
    assert REFUSED in text(response)


def test_an_entry_title_with_a_direction_override_is_refused(organizer_client, world):
    url = f"/contests/fuzz/entries/{world.entry.id}/edit"
    token = token_for(in_english(organizer_client), url)
    before = database_state()
    response = post(
        organizer_client,
        url,
        {"code": "A001", "title": "evil\u202etxt.exe", "group": str(world.group.id)},
        token=token,
    )
    assert response.status_code in (400, 200)
    assert REFUSED in text(response)
    assert database_state() == before
    assert db.session.get(Entry, world.entry.id).title == "智能巡检机器人"


@pytest.mark.parametrize("mode", ["json", "files"])
def test_a_text_field_sent_as_json_or_as_a_file_is_a_form_error(client, world, no_limits, mode):
    token = token_for(client, "/sign-in")
    fields = {"username": "judge-a", "password": "correct horse battery"}
    if mode == "json":
        body = '{"username": ["a", "b"], "password": 5}'
        response = client.post(
            "/sign-in", data=body, content_type="application/json", headers={"X-CSRFToken": token}
        )
    else:
        response = post(client, "/sign-in", fields, token=token, mode="files")
    assert response.status_code == 400


def test_a_lone_surrogate_in_a_form_post_arrives_replaced(judge_client, world):
    """A form body is not JSON: the broken UTF-8 of a lone surrogate arrives as ordinary
    text (Werkzeug leaves those bytes percent-encoded), and is saved as such."""
    response = _sheet_post(judge_client, world, comment="a\ud800b", action="save")
    assert response.status_code == 302
    sheet = db.session.scalars(
        sa.select(ScoreSheet).where(ScoreSheet.entry_id == world.entry.id)
    ).one()
    assert sheet.comment == "a%ED%A0%80b"


@pytest.mark.parametrize(
    "body",
    [
        '{"username": "\\ud800", "password": "x"}',  # a lone surrogate, escaped in JSON
        '{"\\udfff": "x"}',
        "[1, 2]",
        '"text"',
        '{"username": {"a": 1}}',
        "{not json",
    ],
)
def test_a_json_body_that_is_not_an_object_of_text_is_a_bad_request(client, world, body):
    token = token_for(client, "/sign-in")
    response = client.post(
        "/sign-in", data=body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 400
