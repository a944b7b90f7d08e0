"""The organizer's audit log page: named actions, field diffs, filters, paging, bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from judging.common.audit import record
from judging.common.enums import Role
from judging.extensions import db
from tests.conftest import (
    create_contest,
    create_entry,
    create_group,
    create_judge,
    create_stage,
    create_user,
)

URL = "/contests/dalian-2020/audit"


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def log(app, monkeypatch):
    """A contest with two judges and two entries, and a way to record events at a time."""
    contest = create_contest("dalian-2020", name="大连市高校创新创业大赛")
    group = create_group(contest)
    entries = {code: create_entry(contest, group, code) for code in ("A-001", "A-002")}
    judges = [
        create_judge(contest, create_user("judge01", role=Role.JUDGE), name="张文博"),
        create_judge(contest, create_user("judge02", role=Role.JUDGE), name="李敏"),
    ]
    db.session.commit()

    def add(action="sheet_save", *, at=None, judge=None, entry=None, reason="", old=None, new=None):
        if at is not None:
            monkeypatch.setattr("judging.common.audit.utcnow", lambda: at)
        record(
            action,
            contest_id=contest.id,
            entry_id=entries[entry].id if entry else None,
            user_id=judge.user_id if judge else None,
            reason=reason,
            old=old,
            new=new,
        )
        db.session.commit()
        monkeypatch.undo()

    add.contest, add.judges, add.entries = contest, judges, entries
    return add


def test_only_the_organizer_reads_the_log(log, client, judge_client, organizer_client):
    assert client.get(URL).status_code == 302  # to the sign-in page
    assert judge_client.get(URL).status_code == 404
    assert organizer_client.get(URL).status_code == 200
    assert organizer_client.get("/contests/nope/audit").status_code == 404


def test_actions_by_name_and_changes_as_fields_not_json(log, organizer_client):
    log(
        "sheet_reopen",
        entry="A-001",
        reason="录入错误",
        old={
            "state": "submitted",
            "comment": "路演清楚",
            "version": 2,
            "points": {"技术与产品": "25.00"},
        },
        new={"state": "draft", "comment": "路演清楚", "version": 3, "points": {"技术与产品": "25"}},
    )
    page = text(organizer_client.get(URL))
    assert "重新开放评分表" in page and "sheet_reopen" not in page
    assert "状态: 已提交 → 草稿" in page and "版本: 2 → 3" in page
    assert "技术与产品" not in page, "unchanged points are not listed"
    assert "录入错误" in page and "A-001" in page
    assert "{" not in page and "\\u" not in page, "no raw JSON"
    organizer_client.set_cookie("lang", "en")
    page = text(organizer_client.get(URL))
    assert "Sheet reopened" in page and "State: Submitted → Draft" in page


def test_stage_codes_show_as_the_contest_s_stage_names(log, organizer_client):
    create_stage(log.contest, "semi", name="复赛")
    db.session.commit()
    log("stage_state", old={"state": "open"}, new={"state": "closed", "stage": "semi"})
    page = text(organizer_client.get(URL))
    assert "赛段: — → 复赛" in page and "更改赛段状态" in page


def test_an_unknown_action_shows_its_code(log, organizer_client):
    log("brand_new_action", new={"mystery": 1})
    page = text(organizer_client.get(URL))
    assert "brand_new_action" in page and "mystery: 1" in page


def test_filter_by_judge(log, organizer_client):
    first, second = log.judges
    log(judge=first, reason="by-first")
    log(judge=second, reason="by-second")
    log(reason="by-nobody")
    page = text(organizer_client.get(f"{URL}?judge={first.id}"))
    assert "by-first" in page and "by-second" not in page and "by-nobody" not in page
    assert "共 1 条记录" in page
    html = organizer_client.get(f"{URL}?judge={first.id}").get_data(as_text=True)
    assert f'<option value="{first.id}" selected>' in html


def test_filter_by_entry(log, organizer_client):
    log(entry="A-001", reason="on-one")
    log(entry="A-002", reason="on-two")
    page = text(organizer_client.get(f"{URL}?entry=+A-002+"))
    assert "on-two" in page and "on-one" not in page
    page = text(organizer_client.get(f"{URL}?entry=Z-999"))
    assert "没有编号为 Z-999 的项目" in page and "on-one" not in page and "on-two" not in page


def test_filter_by_action(log, organizer_client):
    log("sheet_save", reason="a-save")
    log("sheet_submit", reason="a-submit")
    page = text(organizer_client.get(f"{URL}?action=sheet_submit"))
    assert "a-submit" in page and "a-save" not in page
    html = organizer_client.get(URL).get_data(as_text=True)
    assert '<option value="sheet_submit" >提交评分表</option>' in html, "a select of named actions"


def test_filter_by_dates_in_the_contest_time_zone(log, organizer_client):
    # 23:30 on 1 March and 00:30 on 2 March in Shanghai (UTC+8).
    log(at=datetime(2026, 3, 1, 15, 30, tzinfo=UTC), reason="late-first")
    log(at=datetime(2026, 3, 1, 16, 30, tzinfo=UTC), reason="early-second")
    log(at=datetime(2026, 3, 3, 1, 0, tzinfo=UTC), reason="third")
    page = text(organizer_client.get(f"{URL}?from=2026-03-02"))
    assert "early-second" in page and "third" in page and "late-first" not in page
    page = text(organizer_client.get(f"{URL}?to=2026-03-01"))
    assert "late-first" in page and "early-second" not in page
    page = text(organizer_client.get(f"{URL}?from=2026-03-02&to=2026-03-02"))
    assert "early-second" in page and "late-first" not in page and "third" not in page
    page = text(organizer_client.get(f"{URL}?from=2026-03-03&to=2026-03-01"))
    assert "起始日期晚于截止日期" in page and "没有符合条件的记录" in page


def test_paging_newest_first_fifty_a_page_keeping_the_filters(log, organizer_client):
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(120):
        log(
            "sheet_save" if i % 2 else "sheet_submit",
            at=start + timedelta(minutes=i),
            reason=f"n{i:03d}",
        )
    first = text(organizer_client.get(URL))
    assert "n119" in first and "n070" in first and "n069" not in first
    assert "第 1 / 3 页" in first
    last = text(organizer_client.get(f"{URL}?page=3"))
    assert "n019" in last and "n000" in last and "n020" not in last
    html = organizer_client.get(f"{URL}?action=sheet_save&page=1").get_data(as_text=True)
    # 60 saves: two pages, and the link to the older one keeps the filter
    assert re.search(
        r'href="/contests/dalian-2020/audit\?[^"]*action=sheet_save[^"]*page=2|'
        r'href="/contests/dalian-2020/audit\?[^"]*page=2[^"]*action=sheet_save',
        html,
    )
    second = text(organizer_client.get(f"{URL}?action=sheet_save&page=2"))
    assert "第 2 / 2 页" in second and "n009" in second and "n008" not in second
    assert "n119" not in second


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("judge=abc", "本赛事没有该评委"),
        ("judge=99999999999999999999999", "本赛事没有该评委"),
        ("judge=-1", "本赛事没有该评委"),
        ("judge=%C2%B2", "本赛事没有该评委"),  # a superscript two: a digit, but not 0-9
        ("action=drop_table", "没有该操作类型"),
        ("action=sheet_save%00", None),
        ("from=2026-13-45", "起始日期不是有效日期"),
        ("from=20260301", "起始日期不是有效日期"),
        ("to=2026-W09-1", "截止日期不是有效日期"),
        ("to=9999-12-31&from=0001-01-01", None),
        ("entry=Z-0%0001", "没有编号为 Z-001"),
        ("entry=" + "A" * 5000, "没有编号为"),
        ("page=abc", None),
        ("page=-3", None),
        ("page=99999999999999999999999999999", None),
        ("page=%00", None),
        ("judge=%00&entry=%00&action=%00&from=%00&to=%00", None),
    ],
)
def test_bad_filter_input_never_fails(log, organizer_client, query, message):
    log(reason="still-here")
    response = organizer_client.get(f"{URL}?{query}")
    assert response.status_code == 200
    page = text(response)
    if message:
        assert message in page
    else:
        assert "flash-error" not in response.get_data(as_text=True)
    if not message or "有效日期" in message or "评委" in message or "操作" in message:
        assert "still-here" in page, "a bad value is ignored; the log still shows"
