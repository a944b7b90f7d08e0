"""The judge's scoring flow and every refusal of issue 3, point 6.

Each refusal asserts the HTTP answer and that no sheet, score or audit row changed.
"""

import re
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from judging.common.audit import AuditEvent
from judging.common.enums import SheetState
from judging.extensions import db
from judging.judges.models import Conflict
from judging.scoring.models import Score, ScoreSheet
from judging.scoring.queries import sheets_with_wrong_totals
from tests.conftest import create_sheet, csrf_token


def url(stage, entry):
    return f"/judge/stages/{stage.id}/entries/{entry.id}"


def rows():
    """Everything a scoring request may write, to compare before and after."""
    sheets = db.session.execute(
        sa.select(
            ScoreSheet.id,
            ScoreSheet.entry_id,
            ScoreSheet.judge_id,
            ScoreSheet.state,
            ScoreSheet.version,
            ScoreSheet.comment,
        ).order_by(ScoreSheet.id)
    ).all()
    scores = db.session.execute(
        sa.select(Score.sheet_id, Score.criterion_id, Score.points).order_by(Score.id)
    ).all()
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    return sheets, scores, events


def post_sheet(
    client, arena, entry=None, *, points, action="save", version="0", token=None, **extra
):
    entry = entry or arena.entry
    data = {"version": version, "comment": extra.pop("comment", ""), "action": action, **extra}
    for criterion, value in zip(arena.criteria, points, strict=False):
        data[f"c{criterion.id}"] = value
    if token is not False:
        data["csrf_token"] = token or csrf_token(client, url(arena.stage, arena.entry))
    return client.post(url(arena.stage, entry), data=data)


def text(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


# ------------------------------------------------------------------ the happy path


def test_home_lists_assigned_entries_with_state_but_never_a_conflicted_one(judge_client, arena):
    page = text(judge_client.get("/judge/"))
    assert "A-001" in page and "G-001" in page
    assert "A-003" not in page, "a conflicted entry is never shown"
    assert "A-002" not in page, "another judge's entry is never shown"
    assert "已分配 2 个项目，已提交 0 份，草稿 0 份" in page


def test_home_filters_by_state_and_group(judge_client, arena):
    create_sheet(arena.stage, arena.judge, arena.entry, {arena.criteria[0]: "30"}, submitted=False)
    db.session.commit()
    drafts = text(judge_client.get("/judge/?state=draft"))
    assert "A-001" in drafts and "G-001" not in drafts
    growth = text(judge_client.get(f"/judge/?group={arena.growth_entry.group_id}"))
    assert "G-001" in growth and "A-001" not in growth


def test_entry_page_shows_the_entry_and_rubric_but_no_contact_data(judge_client, arena):
    response = judge_client.get(url(arena.stage, arena.entry))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for shown in (
        "中科海洋",
        "海洋生物入侵预警",
        "天使组",
        "大连海事大学",
        "技术先进性",
        "满分 40",
    ):
        assert shown in html
    assert "13800001111" not in html and "secret@example.com" not in html


def test_save_a_partial_draft_then_submit_and_find_it_locked(judge_client, arena):
    response = post_sheet(judge_client, arena, points=["30.5", "", ""], comment="思路清晰")
    assert response.status_code == 302
    sheet = db.session.scalar(sa.select(ScoreSheet))
    assert sheet.state == SheetState.DRAFT and sheet.version == 1
    assert [s.points for s in sheet.scores] == [Decimal("30.50")]
    assert (sheet.total_hundredths, sheet.points_count) == (3050, 1)

    page = judge_client.get(url(arena.stage, arena.entry)).get_data(as_text=True)
    assert 'value="30.5"' in page and "思路清晰" in page

    response = post_sheet(
        judge_client, arena, points=["30.5", "30", "20"], action="submit", version="1"
    )
    assert response.status_code == 302
    db.session.expire_all()
    sheet = db.session.scalar(sa.select(ScoreSheet))
    assert sheet.state == SheetState.SUBMITTED and sheet.version == 2
    assert sheet.submitted_at is not None
    assert sheet.total == Decimal("80.50")
    assert (sheet.total_hundredths, sheet.points_count) == (8050, 3), "stored with the points"

    page = text(judge_client.get(url(arena.stage, arena.entry)))
    assert "已提交" in page and "80.50" in page and "提交于" in page
    assert "保存草稿" not in page, "a submitted sheet is read-only"
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["sheet_save", "sheet_submit"]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "sheet_submit"))
    assert event.old["points"] == {"技术与产品": "30.50"}
    assert event.new["points"] == {"技术与产品": "30.50", "商业模式": "30.00", "团队": "20.00"}
    assert event.new["state"] == "submitted" and event.user_id == arena.judge.user_id


def test_full_width_digits_are_understood(judge_client, arena):
    response = post_sheet(judge_client, arena, points=["３０．５", "３０", "２０"], action="submit")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(ScoreSheet)).total == Decimal("80.50")


def test_a_draft_can_clear_a_criterion(judge_client, arena):
    post_sheet(judge_client, arena, points=["30", "20", ""])
    post_sheet(judge_client, arena, points=["30", "", ""], version="1")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Score)) == 1


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("points", "message"),
    [
        (["40.5", "30", "20"], "必须在 0 到 40 之间"),  # out of range (above)
        (["-1", "30", "20"], "必须在 0 到 40 之间"),  # out of range (below)
        (["30.25", "30", "20"], "必须是 0.5 的整数倍"),  # off the step
        (["30", "30", "20.5"], "必须是 1 的整数倍"),  # off this criterion's step of 1
        (["abc", "30", "20"], "不是数字"),  # not a number
        (["NaN", "30", "20"], "不是数字"),
        (["30", "", "20"], "必须填写分数"),  # a criterion missing on submit
    ],
)
def test_bad_points_are_refused_naming_the_field(judge_client, arena, points, message):
    before = rows()
    response = post_sheet(judge_client, arena, points=points, action="submit")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert rows() == before


def test_bad_points_in_a_draft_are_refused_too(judge_client, arena):
    before = rows()
    assert post_sheet(judge_client, arena, points=["99", "", ""]).status_code == 400
    assert rows() == before


def test_another_judges_entry_is_404(judge_client, arena):
    before = rows()
    assert judge_client.get(url(arena.stage, arena.unassigned)).status_code == 404
    response = post_sheet(
        judge_client, arena, arena.unassigned, points=["30", "30", "20"], action="submit"
    )
    assert response.status_code == 404
    assert rows() == before


def test_another_judges_sheet_cannot_be_touched(judge_client, arena, app):
    theirs = create_sheet(
        arena.stage, arena.other_judge, arena.unassigned, {arena.criteria[0]: "10"}, submitted=False
    )
    db.session.commit()
    before = rows()
    response = post_sheet(
        judge_client,
        arena,
        arena.unassigned,
        points=["40", "35", "25"],
        version=str(theirs.version),
    )
    assert response.status_code == 404
    assert rows() == before


def test_a_conflicted_entry_is_404(judge_client, arena):
    before = rows()
    assert judge_client.get(url(arena.stage, arena.conflicted)).status_code == 404
    response = post_sheet(
        judge_client, arena, arena.conflicted, points=["30", "30", "20"], action="submit"
    )
    assert response.status_code == 404
    assert rows() == before


def test_a_closed_stage_is_refused(judge_client, arena):
    before = rows()
    closed_url = url(arena.closed, arena.entry)
    page = judge_client.get(closed_url)
    assert page.status_code == 200 and "本赛段未开放评分" in page.get_data(as_text=True)
    crit = arena.closed.criteria[0]
    response = judge_client.post(
        closed_url,
        data={
            "csrf_token": csrf_token(judge_client, closed_url),
            "version": "0",
            "action": "submit",
            f"c{crit.id}": "80",
        },
    )
    assert response.status_code == 404
    assert rows() == before


def test_a_submitted_sheet_cannot_be_written(judge_client, arena):
    sheet = create_sheet(
        arena.stage,
        arena.judge,
        arena.entry,
        dict(zip(arena.criteria, ["30", "30", "20"], strict=True)),
    )
    db.session.commit()
    before = rows()
    for action in ("save", "submit"):
        response = post_sheet(
            judge_client,
            arena,
            points=["40", "35", "25"],
            action=action,
            version=str(sheet.version),
        )
        assert response.status_code == 409
        assert "已提交" in response.get_data(as_text=True)
    assert rows() == before


def test_a_tampered_entry_id_in_the_body_is_ignored(judge_client, arena):
    response = post_sheet(
        judge_client,
        arena,
        points=["30", "30", "20"],
        action="submit",
        entry_id=str(arena.unassigned.id),
        judge_id=str(arena.other_judge.id),
        stage_id=str(arena.closed.id),
    )
    assert response.status_code == 302
    sheets = db.session.execute(sa.select(ScoreSheet.entry_id, ScoreSheet.judge_id)).all()
    assert sheets == [(arena.entry.id, arena.judge.id)]


def test_a_stale_form_is_409_and_keeps_the_newer_data(judge_client, arena):
    post_sheet(judge_client, arena, points=["30", "", ""])  # version 1, e.g. in another tab
    post_sheet(judge_client, arena, points=["35", "", ""], version="1")  # now version 2
    before = rows()
    response = post_sheet(judge_client, arena, points=["10", "10", "10"], version="1")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "在别处被修改" in html
    assert 'value="35"' in html, "the form shows the newer saved data"
    assert rows() == before


def test_a_post_without_csrf_token_is_refused(judge_client, arena):
    before = rows()
    response = post_sheet(
        judge_client, arena, points=["30", "30", "20"], action="submit", token=False
    )
    assert response.status_code == 400
    assert rows() == before


def test_two_identical_submits_leave_one_sheet(judge_client, arena):
    token = csrf_token(judge_client, url(arena.stage, arena.entry))
    first = post_sheet(judge_client, arena, points=["30", "30", "20"], action="submit", token=token)
    second = post_sheet(
        judge_client, arena, points=["30", "30", "20"], action="submit", token=token
    )
    assert (first.status_code, second.status_code) == (302, 409)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScoreSheet)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Score)) == 3


def test_organizer_cannot_use_the_judge_pages(organizer_client, arena):
    assert organizer_client.get(url(arena.stage, arena.entry)).status_code == 404


# ------------------------------------------------------------------ conflicts


def test_declaring_a_conflict_removes_the_entry_and_the_organizer_sees_it(
    judge_client, organizer_client, arena
):
    conflict_url = url(arena.stage, arena.entry) + "/conflict"
    token = csrf_token(judge_client, url(arena.stage, arena.entry))
    refused = judge_client.post(conflict_url, data={"csrf_token": token, "reason": "  "})
    assert refused.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Conflict)) == 1  # the fixture's

    response = judge_client.post(conflict_url, data={"csrf_token": token, "reason": "曾指导该团队"})
    assert response.status_code == 302
    home = judge_client.get("/judge/").get_data(as_text=True)
    assert "已从您的列表中移除" in home
    assert '<span class="code">A-001</span>' not in home
    assert '<span class="code">G-001</span>' in home
    assert judge_client.get(url(arena.stage, arena.entry)).status_code == 404
    page = text(organizer_client.get("/contests/dalian-2020/conflicts"))
    assert "曾指导该团队" in page and "评委申报" in page
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "conflict_declare"))
    assert event.entry_id == arena.entry.id and event.new["reason"] == "曾指导该团队"


# ------------------------------------------------------------------ reopen


def test_organizer_reopens_a_sheet_with_a_reason(judge_client, organizer_client, arena):
    sheet = create_sheet(
        arena.stage,
        arena.judge,
        arena.entry,
        dict(zip(arena.criteria, ["30", "30", "20"], strict=True)),
    )
    db.session.commit()
    reopen_url = f"/contests/dalian-2020/sheets/{sheet.id}/reopen"
    token = csrf_token(organizer_client, "/contests/dalian-2020/stages/final/sheets")

    before = rows()
    organizer_client.post(reopen_url, data={"csrf_token": token, "reason": ""})
    assert rows() == before, "no reason, no change"
    assert judge_client.post(reopen_url, data={"csrf_token": token, "reason": "x"}).status_code in (
        400,
        404,
    )
    assert rows() == before

    response = organizer_client.post(reopen_url, data={"csrf_token": token, "reason": "录入错误"})
    assert response.status_code == 302
    db.session.expire_all()
    sheet = db.session.get(ScoreSheet, sheet.id)
    assert sheet.state == SheetState.DRAFT and sheet.submitted_at is None and sheet.version == 2
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "sheet_reopen"))
    assert event.reason == "录入错误"
    assert event.old["state"] == "submitted" and event.new["state"] == "draft"
    assert event.old["points"] == event.new["points"]
    assert "草稿" in text(judge_client.get("/judge/?state=draft"))
    # The judge can now change and resubmit it.
    response = post_sheet(
        judge_client, arena, points=["31", "30", "20"], action="submit", version="2"
    )
    assert response.status_code == 302
    audit = text(organizer_client.get("/contests/dalian-2020/audit"))
    assert "录入错误" in audit and "sheet_reopen" not in audit, "the action by name"


# ------------------------------------------------------------------ concurrency


def test_simultaneous_identical_submits_leave_exactly_one_sheet(app, arena, judge_user):
    if app.config["SQLALCHEMY_DATABASE_URI"] in ("sqlite://", "sqlite:///:memory:"):
        pytest.skip("one shared in-memory connection cannot serve threads; runs on PostgreSQL")
    from tests.conftest import sign_in_as

    clients = [app.test_client() for _ in range(6)]
    tokens = []
    for client in clients:
        sign_in_as(client, judge_user)
        tokens.append(csrf_token(client, url(arena.stage, arena.entry)))
    barrier = threading.Barrier(len(clients))
    codes = []

    def submit(client, token):
        with app.app_context():
            barrier.wait()
            codes.append(
                post_sheet(
                    client, arena, points=["30", "30", "20"], action="submit", token=token
                ).status_code
            )

    threads = [
        threading.Thread(target=submit, args=pair) for pair in zip(clients, tokens, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == [302] + [409] * (len(clients) - 1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScoreSheet)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Score)) == 3


def test_a_stored_total_that_differs_from_the_points_is_found(arena):
    sheet = create_sheet(
        arena.stage,
        arena.judge,
        arena.entry,
        dict(zip(arena.criteria, ["1", "2.5", "3"], strict=True)),
    )
    assert (sheet.total_hundredths, sheet.points_count) == (650, 3)
    assert sheets_with_wrong_totals() == []
    sheet.total_hundredths = 651
    db.session.flush()
    assert sheets_with_wrong_totals() == [(sheet.id, 651, 650)]
    sheet.recount()
    db.session.flush()
    assert sheets_with_wrong_totals() == []


def test_a_reopened_sheet_can_be_finished_while_its_stage_is_closed(
    judge_client, organizer_client, arena
):
    closed = arena.closed
    criterion = closed.criteria[0]
    sheet = create_sheet(closed, arena.judge, arena.entry, {criterion: "70"})
    db.session.commit()
    closed_url = url(closed, arena.entry)
    assert "本赛段未开放评分" not in text(judge_client.get(closed_url)), "submitted: read-only"
    home = judge_client.get("/judge/").get_data(as_text=True)
    assert closed_url not in home, "a closed stage lists nothing to do"
    token = csrf_token(organizer_client, "/contests/dalian-2020/stages/prelim/sheets")
    response = organizer_client.post(
        f"/contests/dalian-2020/sheets/{sheet.id}/reopen",
        data={"csrf_token": token, "reason": "分数漏填一位"},
    )
    assert response.status_code == 302
    # The judge finds it on the home page and can finish it although the stage is closed.
    home = judge_client.get("/judge/").get_data(as_text=True)
    assert closed_url in home and url(closed, arena.growth_entry) not in home
    page = text(judge_client.get(closed_url))
    assert "组委会已重新开放此评分表" in page
    response = judge_client.post(
        closed_url,
        data={
            "csrf_token": csrf_token(judge_client, closed_url),
            "version": "2",
            "action": "submit",
            f"c{criterion.id}": "75",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    sheet = db.session.get(ScoreSheet, sheet.id)
    assert sheet.state == SheetState.SUBMITTED and sheet.total == Decimal("75")
    assert sheet.reopened_at is not None
    # Another sheet of the closed stage stays closed to the judge.
    before = rows()
    other = url(closed, arena.growth_entry)
    response = judge_client.post(
        other,
        data={"csrf_token": csrf_token(judge_client, closed_url), "version": "0", "action": "save"},
    )
    assert response.status_code == 404
    assert rows() == before
