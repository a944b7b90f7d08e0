"""The scoring page's POST reads a sheet straight from the request (``posted_sheet``); the
form class it stands in for must read and refuse exactly the same posts."""

from decimal import Decimal

import pytest
from flask import g
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from judging.scoring.forms import MAX_COMMENT, PostedSheet, posted_sheet, sheet_form_class
from judging.scoring.rubric import CriterionSpec

RUBRIC = (
    CriterionSpec(11, 1, "技术与产品", "", Decimal("40"), Decimal("0.5")),
    CriterionSpec(12, 2, "商业模式", "", Decimal("35"), Decimal("0.5")),
    CriterionSpec(13, 3, "团队", "", Decimal("25"), Decimal("1")),
)


def readings(app, data, content_type="application/x-www-form-urlencoded"):
    """(posted_sheet's reading, the form's reading or None when it does not validate)."""
    with app.test_request_context(
        "/judge/stages/1/entries/1", method="POST", data=data, content_type=content_type
    ):
        from flask import request

        g.csrf_valid = True  # as CSRFProtect leaves it for every POST it let through
        form = sheet_form_class(RUBRIC)()
        submit = request.form.get("action") == "submit"
        by_form = PostedSheet.of_form(form, submit=submit) if form.validate_on_submit() else None
        return posted_sheet(RUBRIC, request), by_form


@pytest.mark.parametrize(
    "data",
    [
        {"version": "0", "action": "submit", "comment": "", "c11": "30", "c12": "20", "c13": "9"},
        {"version": "3", "action": "save", "comment": " 好 ", "c11": " ３０ ", "c12": "20.5"},
        {"c11": "", "c12": "  ", "c13": "abc"},  # no version, action or comment
        {"version": "", "comment": "x" * MAX_COMMENT, "c11": "1"},
        {"version": "v2", "action": "submit", "c14": "5", "c11": "1e1"},  # c14: not the rubric's
        MultiDict([("c11", "10"), ("c11", "20"), ("comment", "a"), ("comment", "b")]),
    ],
)
def test_posted_sheet_reads_what_the_form_reads(app, data):
    fast, by_form = readings(app, data)
    assert by_form is not None and fast == by_form


def test_a_comment_the_form_refuses_is_left_to_the_form(app):
    fast, by_form = readings(app, {"comment": "x" * (MAX_COMMENT + 1), "c11": "1"})
    assert fast is None and by_form is None


def test_a_body_that_is_not_a_form_post_is_left_to_the_form(app):
    fast, by_form = readings(app, '{"c11": "30", "version": "1"}', "application/json")
    assert fast is None
    assert by_form is not None and by_form.points[11] == "30" and by_form.version == "1"


def test_an_empty_post_without_a_type_is_left_to_the_form(app):
    fast, by_form = readings(app, {}, None)
    assert fast is None and by_form == PostedSheet({11: None, 12: None, 13: None}, "", "0", False)


def test_a_multipart_post_is_read_alike(app):
    fast, by_form = readings(
        app, {"c11": "30", "comment": "多部分", "action": "submit"}, "multipart/form-data"
    )
    assert fast is not None and fast == by_form


_TEXT = st.one_of(
    st.none(),  # the field is not sent
    st.text(max_size=8),
    st.sampled_from(["0", " 12.5 ", "４０", "", "-1", "abc", "1e3"]),
)


# The app fixture holds no state a post could change: one for every example is right.
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    points=st.fixed_dictionaries({f"c{c.id}": _TEXT for c in RUBRIC}),
    version=_TEXT,
    action=st.one_of(st.none(), st.sampled_from(["submit", "save", ""])),
    comment=st.one_of(
        st.none(),
        st.text(max_size=20),
        st.integers(MAX_COMMENT - 2, MAX_COMMENT + 2).map(lambda n: "评" * n),
    ),
)
def test_any_form_post_reads_alike(app, points, version, action, comment):
    fields = {**points, "version": version, "action": action, "comment": comment}
    data = {k: v for k, v in fields.items() if v is not None}
    fast, by_form = readings(app, data)
    assert fast == by_form
