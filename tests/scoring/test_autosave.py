"""The scoring page's answers to its own script (autosave, issue 15 item 1): JSON instead
of a redirect or a page, with the same checks and the same writes as a plain form post."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from judging.common.audit import AuditEvent
from judging.common.enums import SheetState, StageState
from judging.extensions import db
from judging.scoring.models import ScoreSheet
from tests.conftest import create_sheet, csrf_token
from tests.scoring.test_views import post_sheet, rows, url

AS_SCRIPT = {"Accept": "application/json", "X-Requested-With": "fetch"}


def autosave(client, arena, *, points, version="0", headers=None, **extra):
    """What sheet.js sends: the form's fields, action=save (unless told), asking for JSON."""
    entry = extra.pop("entry", None) or arena.entry
    action = extra.pop("action", "save")
    data = {"version": version, "comment": extra.pop("comment", ""), "action": action, **extra}
    for criterion, value in zip(arena.criteria, points, strict=False):
        data[f"c{criterion.id}"] = value
    data["csrf_token"] = csrf_token(client, url(arena.stage, entry))
    return client.post(url(arena.stage, entry), data=data, headers=headers or AS_SCRIPT)


def field(arena, n):
    return f"c{arena.criteria[n].id}"


def test_a_saved_draft_answers_its_state_version_and_time(judge_client, arena):
    response = autosave(judge_client, arena, points=["30.5", "", ""], comment="思路清晰")
    assert response.status_code == 200 and response.mimetype == "application/json"
    answer = response.get_json()
    assert answer["state"] == "draft" and answer["version"] == 1
    sheet = db.session.scalar(sa.select(ScoreSheet))
    assert answer["saved_at"] == sheet.updated_at.isoformat()
    assert sheet.state == SheetState.DRAFT and sheet.comment == "思路清晰"
    assert [s.points for s in sheet.scores] == [Decimal("30.50")]

    again = autosave(judge_client, arena, points=["30.5", "20", ""], version="1").get_json()
    assert again["version"] == 2
    db.session.expire_all()
    assert db.session.scalar(sa.select(ScoreSheet)).total == Decimal("50.50")
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert actions == ["sheet_save", "sheet_save"], "every autosave is audited like a save"


@pytest.mark.parametrize(
    "headers", [{"Accept": "application/json"}, {"X-Requested-With": "XMLHttpRequest"}]
)
def test_either_header_asks_for_json(judge_client, arena, headers):
    response = autosave(judge_client, arena, points=["30", "", ""], headers=headers)
    assert response.status_code == 200 and response.get_json()["version"] == 1


def test_a_plain_form_post_still_redirects(judge_client, arena):
    response = post_sheet(judge_client, arena, points=["30", "", ""])
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url(arena.stage, arena.entry))


def test_full_width_digits_are_read_by_the_server(judge_client, arena):
    response = autosave(judge_client, arena, points=["３０．５", "２０", ""])
    assert response.status_code == 200
    assert db.session.scalar(sa.select(ScoreSheet)).total == Decimal("50.50")


def test_invalid_points_are_400_naming_each_field_and_change_nothing(judge_client, arena):
    autosave(judge_client, arena, points=["30", "", ""])
    before = rows()
    response = autosave(judge_client, arena, points=["41", "abc", "2.5"], version="1")
    assert response.status_code == 400
    answer = response.get_json()
    errors = answer["errors"]
    assert set(errors) == {field(arena, 0), field(arena, 1), field(arena, 2)}
    assert "技术与产品" in errors[field(arena, 0)] and "40" in errors[field(arena, 0)]
    assert "商业模式" in errors[field(arena, 1)]
    assert "团队" in errors[field(arena, 2)]
    assert answer["error"]
    assert rows() == before


def test_a_comment_too_long_is_400_naming_the_comment(judge_client, arena):
    before = rows()
    response = autosave(judge_client, arena, points=["30", "", ""], comment="长" * 2001)
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == {"comment"}
    assert rows() == before


def test_a_version_clash_is_409_with_the_servers_sheet(judge_client, arena):
    autosave(judge_client, arena, points=["30", "", ""], comment="第一版")  # version 1
    autosave(judge_client, arena, points=["35", "20", ""], version="1", comment="另一台手机")
    before = rows()
    response = autosave(judge_client, arena, points=["10", "10", "10"], version="1")
    assert response.status_code == 409
    answer = response.get_json()
    assert "在别处被修改" in answer["error"]
    assert answer["sheet"] == {
        "version": 2,
        "state": "draft",
        "points": {field(arena, 0): "35", field(arena, 1): "20"},
        "comment": "另一台手机",
        "writable": True,
    }
    assert rows() == before
    # "Keep mine": the same values sent again with the server's version are saved.
    kept = autosave(judge_client, arena, points=["10", "10", "10"], version="2")
    assert kept.status_code == 200 and kept.get_json()["version"] == 3


def test_a_sheet_submitted_meanwhile_is_409_and_not_writable(judge_client, arena):
    create_sheet(
        arena.stage,
        arena.judge,
        arena.entry,
        dict(zip(arena.criteria, ["30", "30", "20"], strict=True)),
    )
    db.session.commit()
    before = rows()
    response = autosave(judge_client, arena, points=["40", "35", "25"], version="1")
    assert response.status_code == 409
    sheet = response.get_json()["sheet"]
    assert sheet["state"] == "submitted" and sheet["writable"] is False
    assert sheet["points"] == {field(arena, 0): "30", field(arena, 1): "30", field(arena, 2): "20"}
    assert rows() == before


def test_a_stage_closed_meanwhile_is_404_with_the_servers_sheet(judge_client, arena):
    autosave(judge_client, arena, points=["30", "", ""])
    token = csrf_token(judge_client, url(arena.stage, arena.entry))
    arena.stage.state = StageState.CLOSED
    db.session.commit()
    before = rows()
    response = judge_client.post(
        url(arena.stage, arena.entry),
        data={"csrf_token": token, "version": "1", "action": "save", field(arena, 0): "35"},
        headers=AS_SCRIPT,
    )
    assert response.status_code == 404
    answer = response.get_json()
    assert answer["error"]
    assert answer["sheet"]["version"] == 1 and answer["sheet"]["writable"] is False
    assert answer["sheet"]["points"] == {field(arena, 0): "30"}
    assert rows() == before


def test_an_entry_that_is_not_the_judges_is_404_in_json(judge_client, arena):
    before = rows()
    response = autosave(judge_client, arena, points=["30"], entry=arena.conflicted)
    assert response.status_code == 404 and response.mimetype == "application/json"
    assert rows() == before


def test_a_missing_csrf_token_is_400_in_json(judge_client, arena):
    before = rows()
    response = judge_client.post(
        url(arena.stage, arena.entry),
        data={"version": "0", "action": "save", field(arena, 0): "30"},
        headers=AS_SCRIPT,
    )
    assert response.status_code == 400 and response.get_json()["detail"]
    assert rows() == before


def test_the_page_carries_the_servers_sheet_and_the_storage_key(judge_client, arena, judge_user):
    autosave(judge_client, arena, points=["30", "", ""], comment="草稿")
    html = judge_client.get(url(arena.stage, arena.entry)).get_data(as_text=True)
    key = f"judging.sheet.{judge_user.id}.{arena.stage.id}.{arena.entry.id}"
    assert f'data-key="{key}"' in html
    assert f'"{field(arena, 0)}": "30"' in html and '"version": 1' in html
    assert 'data-testid="back-to-list"' in html and 'href="/judge/"' in html


def test_a_submission_asking_for_json_answers_where_to_go_next(judge_client, arena):
    response = autosave(judge_client, arena, points=["30", "30", "20"], action="submit")
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["state"] == "submitted" and answer["version"] == 1
    assert answer["next"] == f"/judge/stages/{arena.stage.id}/next?submitted={arena.entry.id}"
    assert db.session.scalar(sa.select(ScoreSheet)).state == SheetState.SUBMITTED
