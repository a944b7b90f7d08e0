"""The home page of each role shows the real state of the contest."""

import re

import sqlalchemy as sa

from judging.common.enums import StageState
from judging.extensions import db
from tests.conftest import (
    confirm_form,
    create_assignment,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
    csrf_token,
)


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _small_contest(judge_user=None):
    contest = create_contest("dalian-2020", name="大连市高校创新创业大赛")
    angel = create_group(contest, "angel", "天使组", position=1)
    growth = create_group(contest, "growth", "成长组", position=2)
    prelim = create_stage(contest, "prelim", name="初赛", state=StageState.PUBLISHED)
    final = create_stage(contest, "final", name="决赛", state=StageState.OPEN)
    crit = create_criterion(final, angel, max_points="100")
    entries = [create_entry(contest, angel, f"A-{i:03d}", phone="13800001234") for i in range(3)]
    entries.append(create_entry(contest, growth, "G-001", email="lead@example.com"))
    judge = create_judge(contest, judge_user, name="王评委")
    for entry in entries[:3]:
        create_assignment(final, judge, entry)
    create_sheet(final, judge, entries[0], {crit: "80"}, submitted=True)
    create_sheet(final, judge, entries[1], {crit: "70"}, submitted=False)
    db.session.commit()
    return contest, prelim, final


def test_organizer_home_shows_counts_per_group_and_stage(organizer_client):
    _small_contest()
    text = _text(organizer_client.get("/"))
    assert "大连市高校创新创业大赛" in text
    assert "天使组 3 个项目" in text
    assert "成长组 1 个项目" in text
    assert "1 / 3" in text  # final: one of three assigned sheets submitted
    assert "1 份草稿" in text
    assert "从 Excel 新建赛事" in text, "a new contest starts from the organizer's home"


def test_organizer_contest_page_shows_the_rubric(organizer_client):
    _small_contest()
    response = organizer_client.get("/contests/dalian-2020")
    assert response.status_code == 200
    text = _text(response)
    assert "技术与产品 100 0.5" in text and "合计 100" in text
    assert organizer_client.get("/contests/no-such").status_code == 404


def test_judge_home_shows_own_progress(judge_client, judge_user):
    _small_contest(judge_user)
    response = judge_client.get("/", follow_redirects=True)
    text = _text(response)
    assert "我的评分" in text
    assert "决赛" in text
    assert "已分配 3 个项目，已提交 1 份，草稿 1 份" in text


def test_public_home_shows_no_personal_data(client):
    _small_contest()
    html = client.get("/").get_data(as_text=True)
    assert "大连市高校创新创业大赛" in html
    assert "13800001234" not in html and "lead@example.com" not in html
    assert "王评委" not in html


def test_language_switch_to_english_and_back(client):
    assert "登录" in _text(client.get("/sign-in"))
    token = csrf_token(client)
    response = client.post(
        "/language", data={"lang": "en", "next": "/sign-in", "csrf_token": token}
    )
    assert response.headers["Location"] == "/sign-in"
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page
    client.post("/language", data={"lang": "zh_CN", "csrf_token": csrf_token(client)})
    assert '<html lang="zh-CN">' in client.get("/sign-in").get_data(as_text=True)


def test_unknown_language_is_ignored(client):
    client.post("/language", data={"lang": "xx", "csrf_token": csrf_token(client)})
    assert '<html lang="zh-CN">' in client.get("/sign-in").get_data(as_text=True)


def test_error_pages_are_in_the_layout(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "未找到" in response.get_data(as_text=True)


def test_organizer_moves_a_stage_through_its_states(organizer_client):
    contest, prelim, final = _small_contest()
    base = "/contests/dalian-2020/stages/final"
    token = csrf_token(organizer_client, "/contests/dalian-2020")
    page = _text(organizer_client.get("/contests/dalian-2020"))
    assert "截止评分…" in page and "退回草稿…" in page
    # open → published skips closing: refused, the page says so and offers no button.
    refused = organizer_client.post(f"{base}/state/published", data={"csrf_token": token})
    assert refused.status_code == 400
    db.session.expire_all()
    assert final.state == StageState.OPEN
    # Closing first says what is missing, per judge.
    page = _text(organizer_client.get(f"{base}/state/closed"))
    assert "应交的 3 份评分表中有 2 份未提交" in page
    assert "王评委 2 A-001（草稿） 、 A-002" in page  # A-000 is submitted; A-002 not started
    assert (
        organizer_client.post(f"{base}/state/closed", data={"csrf_token": token}).status_code == 302
    )
    db.session.expire_all()
    assert final.state == StageState.CLOSED
    # Publishing needs confirmed results; confirmed (with an override: 2 sheets missing), it goes.
    page = _text(organizer_client.get(f"{base}/state/published"))
    assert "决赛尚未确认任何结果" in page
    form = confirm_form(organizer_client, f"{base}/confirm/standings")
    confirm = organizer_client.post(
        f"{base}/confirm/standings", data={**form, "override_reason": "两位评委缺席"}
    )
    assert confirm.status_code == 302
    assert (
        organizer_client.post(f"{base}/state/published", data={"csrf_token": token}).status_code
        == 302
    )
    db.session.expire_all()
    assert final.state == StageState.PUBLISHED
    # Back needs a reason.
    back = organizer_client.post(f"{base}/state/closed", data={"csrf_token": token})
    assert back.status_code == 400 and "回退必须填写原因" in _text(back)
    db.session.expire_all()
    assert final.state == StageState.PUBLISHED
    assert (
        organizer_client.post(
            f"{base}/state/closed", data={"csrf_token": token, "reason": "更正一份评分"}
        ).status_code
        == 302
    )
    from judging.common.audit import AuditEvent

    events = db.session.execute(
        sa.select(AuditEvent.new, AuditEvent.reason).where(AuditEvent.action == "stage_state")
    ).all()
    assert [(e["state"], reason) for e, reason in events] == [
        ("closed", ""),
        ("published", ""),
        ("closed", "更正一份评分"),
    ]


def test_judges_cannot_change_stage_states(judge_client, app):
    _, _, final = _small_contest()
    assert judge_client.get("/contests/dalian-2020/stages/final/state/closed").status_code == 404
    response = judge_client.post("/contests/dalian-2020/stages/final/state/closed")
    assert response.status_code in (400, 404)
    db.session.expire_all()
    assert final.state == StageState.OPEN
