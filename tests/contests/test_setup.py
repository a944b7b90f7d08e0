"""Building a contest in the browser: the contest, groups, fields, stages, award tiers,
special awards and rubrics (issue 14, item 1)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from judging.common.audit import AuditEvent
from judging.common.enums import SheetState, StageKind, StageState
from judging.contests.models import AwardTier, Contest, Criterion, Group, SpecialAward, Stage
from judging.contests.organizers import contests_for
from judging.extensions import db
from judging.scoring.models import ScoreSheet
from tests.conftest import (
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
    database_state,
)


def _token(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="[\w-]*csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _post(client, url: str, data: dict, page: str | None = None):
    """Post a form with its CSRF token (a prefixed form's token has its prefix too)."""
    token = _token(client, page or url)
    prefixes = {key.split("-")[0] for key in data if "-" in key}
    tokens = {f"{prefix}-csrf_token": token for prefix in prefixes}
    return client.post(url, data={"csrf_token": token, **tokens, **data})


def _actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_an_organizer_creates_a_draft_contest(organizer_client, organizer):
    answer = _post(
        organizer_client,
        "/contests/new",
        {"name": "2026 创新创业大赛", "slug": "cx-2026", "year": "2026", "organizers": "某大学"},
    )
    assert answer.status_code == 302 and answer.location.endswith("/contests/cx-2026/setup")
    contest = db.session.scalar(sa.select(Contest).where(Contest.slug == "cx-2026"))
    assert contest.name == "2026 创新创业大赛" and not contest.is_public
    # the creator runs the new contest (and nobody else does)
    assert _actions() == ["contest_create", "organizer_grant"]
    assert [c.slug for c in contests_for(organizer)] == ["cx-2026"]
    # a draft is nowhere public
    assert organizer_client.get("/api/v1/contests").get_json() == {"contests": []}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "slug": "ok-1", "year": "2026"}, "赛事名称"),
        ({"name": "x", "slug": "Bad Slug", "year": "2026"}, "网址名（slug）"),
        ({"name": "x", "slug": "ok-1", "year": "12"}, "年份"),
        ({"name": "x", "slug": "taken", "year": "2026"}, "网址名（slug）"),
    ],
)
def test_a_bad_contest_form_names_the_field_and_writes_nothing(organizer_client, data, field):
    create_contest("taken")
    db.session.commit()
    before = database_state()
    answer = _post(organizer_client, "/contests/new", data)
    assert answer.status_code == 200
    assert f"{field}：" in answer.get_data(as_text=True) or f"{field}:" in answer.get_data(
        as_text=True
    )
    assert database_state() == before


def test_groups_fields_and_stages(organizer_client):
    contest = create_contest("cx")
    db.session.commit()
    setup = "/contests/cx/setup"
    assert (
        _post(
            organizer_client,
            "/contests/cx/setup/groups",
            {"group-code": "angel", "group-name": "天使组"},
            setup,
        ).status_code
        == 302
    )
    assert (
        _post(
            organizer_client,
            "/contests/cx/setup/groups",
            {"group-code": "growth", "group-name": "成长组"},
            setup,
        ).status_code
        == 302
    )
    clash = _post(
        organizer_client,
        "/contests/cx/setup/groups",
        {"group-code": "angel", "group-name": "另一个"},
        setup,
    )
    assert clash.status_code == 400 and "本赛事中已被使用" in clash.get_data(as_text=True)
    angel = contest.group("angel")
    renamed = _post(
        organizer_client,
        f"/contests/cx/setup/groups/{angel.id}",
        {
            f"g{angel.id}-code": "angel",
            f"g{angel.id}-name": "天使组（改）",
            f"g{angel.id}-position": "1",
        },
        setup,
    )
    assert renamed.status_code == 302
    db.session.expire_all()
    assert [g.name for g in contest.groups] == ["天使组（改）", "成长组"]
    assert (
        _post(
            organizer_client, "/contests/cx/setup/fields", {"field-name": "物联网"}, setup
        ).status_code
        == 302
    )

    form = {
        "code": "final",
        "name": "决赛",
        "position": "1",
        "kind": "roadshow",
        "judges_per_entry": "7",
        "rule": "trimmed",
        "trim": "1",
        "min_sheets_to_trim": "5",
        "pitch_minutes": "8",
        "qa_minutes": "7",
        "advance_quota": "",
        "advance_threshold": "",
        "weight": "0.7",
        "quota-angel": "3",
        "quota-growth": "",
    }
    bad = _post(
        organizer_client,
        "/contests/cx/setup/stages/new",
        {**form, "quota-growth": "x", "weight": "1.5"},
    )
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "成长组晋级数: " in text and "综合成绩权重: " in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Stage)) == 0
    assert _post(organizer_client, "/contests/cx/setup/stages/new", form).status_code == 302
    stage = db.session.scalar(sa.select(Stage).where(Stage.code == "final"))
    assert stage.kind == StageKind.ROADSHOW and stage.judges_per_entry == 7
    assert stage.weight == Decimal("0.7") and stage.quota_for(contest.group("angel")) == 3
    assert stage.quota_for(contest.group("growth")) is None
    assert _actions() == ["group_save", "group_save", "group_save", "field_save", "stage_save"]


def test_award_tiers_and_special_awards(organizer_client):
    contest = create_contest("cx")
    create_group(contest, "angel", "天使组")
    create_stage(contest, "semi", name="复赛")
    db.session.commit()
    setup = "/contests/cx/setup"
    tier = {
        "tier-stage": "semi",
        "tier-group": "angel",
        "tier-name": "一等奖",
        "tier-position": "1",
        "tier-quota": "1",
        "tier-prize": "50000",
    }
    assert _post(organizer_client, "/contests/cx/setup/tiers", tier, setup).status_code == 302
    again = _post(
        organizer_client, "/contests/cx/setup/tiers", {**tier, "tier-prize": "0.001"}, setup
    )
    assert again.status_code == 400 and "最多两位小数" in again.get_data(as_text=True)
    special = {
        "special-name": "学生团队奖",
        "special-rule": "student_team_reached:semi",
        "special-prize": "2000",
    }
    assert _post(organizer_client, "/contests/cx/setup/specials", special, setup).status_code == 302
    forged = _post(
        organizer_client,
        "/contests/cx/setup/specials",
        {**special, "special-name": "x", "special-rule": "anything"},
        setup,
    )
    assert forged.status_code == 400
    saved = db.session.scalar(sa.select(AwardTier))
    assert (saved.name, saved.quota, saved.prize) == ("一等奖", 1, Decimal("50000.00"))
    assert db.session.scalar(sa.select(SpecialAward.rule)) == "student_team_reached:semi"


def test_setup_is_for_organizers_and_their_objects(organizer_client, judge_client, app):
    contest = create_contest("cx")
    other = create_contest("other")
    foreign = create_group(other, "g", "别人的组")
    db.session.commit()
    assert judge_client.get("/contests/cx/setup").status_code == 404
    assert judge_client.get("/contests/new").status_code == 404
    answer = _post(
        organizer_client,
        f"/contests/cx/setup/groups/{foreign.id}",
        {f"g{foreign.id}-code": "g", f"g{foreign.id}-name": "改"},
        "/contests/cx/setup",
    )
    assert answer.status_code == 404
    no_token = organizer_client.post(
        "/contests/cx/setup/groups", data={"group-code": "a", "group-name": "A"}
    )
    assert no_token.status_code == 400
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Group).where(Group.contest_id == contest.id)
        )
        == 0
    )


# -- the rubric


def _rubric_form(rows: list[dict], **extra) -> dict:
    data = {}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"criteria-{i}-{key}"] = value
    return {**data, **extra}


@pytest.fixture
def staged(app):
    contest = create_contest("cx")
    angel = create_group(contest, "angel", "天使组")
    stage = create_stage(contest, "prelim", name="初赛", state=StageState.OPEN)
    db.session.commit()
    return contest, angel, stage


URL = "/contests/cx/stages/prelim/rubric/angel"


def test_a_rubric_is_built_and_reordered_before_any_sheet(organizer_client, staged):
    _contest, angel, stage = staged
    rows = [
        {"name": "技术", "max_points": "60", "step": "0.5", "position": "1"},
        {"name": "团队", "max_points": "40", "step": "1", "position": "2"},
    ]
    # one line at a time, as the page offers it: the last line adds
    assert _post(organizer_client, URL, _rubric_form(rows[:1])).status_code == 302
    first = stage.rubric(angel)[0]
    assert (
        _post(
            organizer_client, URL, _rubric_form([{"id": str(first.id), **rows[0]}, rows[1]])
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert [(c.name, c.max_points) for c in stage.rubric(angel)] == [("技术", 60), ("团队", 40)]
    page = organizer_client.get(URL).get_data(as_text=True)
    assert "满分合计：100" in page and "不是 100" not in page
    swap = [
        {
            "id": str(c.id),
            "name": c.name,
            "max_points": str(c.max_points),
            "step": str(c.step),
            "position": str(2 - i),
        }
        for i, c in enumerate(stage.rubric(angel))
    ]
    assert _post(organizer_client, URL, _rubric_form(swap)).status_code == 302
    db.session.expire_all()
    assert [c.name for c in stage.rubric(angel)] == ["团队", "技术"]
    assert "rubric_save" in _actions()


def test_a_bad_rubric_names_the_line_and_field(organizer_client, staged):
    before = database_state()
    bad = _rubric_form(
        [
            {"name": "技术", "max_points": "0", "step": "0.5", "position": "1"},
            {"name": "团队", "max_points": "10", "step": "20", "position": "2"},
        ]
    )
    answer = _post(organizer_client, URL, bad)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "第 1 行 · 满分: 大于 0" in text and "第 2 行 · 步长: 不能大于满分" in text
    same = _rubric_form(
        [
            {"name": "技术", "max_points": "50", "step": "1", "position": "1"},
            {"name": "技术", "max_points": "50", "step": "1", "position": "1"},
        ]
    )
    assert _post(organizer_client, URL, same).status_code == 400
    assert _post(organizer_client, URL, {}).status_code == 400, "no lines at all"
    assert database_state() == before


def test_a_rubric_with_sheets_lists_them_and_needs_a_reason(organizer_client, staged):
    contest, angel, stage = staged
    tech = create_criterion(stage, angel, "技术", max_points="60")
    judge = create_judge(contest, name="评委甲")
    entry = create_entry(contest, angel, "A-001")
    sheet = create_sheet(stage, judge, entry, {tech: "55.5"})
    db.session.commit()
    keep = {"id": str(tech.id), "name": "技术", "max_points": "60", "step": "0.5", "position": "1"}
    new = {"name": "团队", "max_points": "40", "step": "1", "position": "2"}
    before = database_state()
    confirm = _post(organizer_client, URL, _rubric_form([keep, new]))
    text = confirm.get_data(as_text=True)
    assert (
        confirm.status_code == 200 and "A-001" in text and "评委甲" in text and "重新开放" in text
    )
    assert database_state() == before
    no_reason = _post(organizer_client, URL, _rubric_form([keep, new], confirmed="1", reason=""))
    assert "原因: " in no_reason.get_data(as_text=True) and database_state() == before
    done = _post(
        organizer_client, URL, _rubric_form([keep, new], confirmed="1", reason="补充团队评分项")
    )
    assert done.status_code == 302
    db.session.expire_all()
    sheet = db.session.get(ScoreSheet, sheet.id)
    assert sheet.state == SheetState.DRAFT and sheet.total == Decimal("55.5")
    assert [c.name for c in stage.rubric(angel)] == ["技术", "团队"]
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events][-2:] == ["sheet_reopen", "rubric_save"]
    assert events[-1].reason == "补充团队评分项"


def test_a_new_maximum_that_given_points_do_not_fit_is_refused(organizer_client, staged):
    contest, angel, stage = staged
    tech = create_criterion(stage, angel, "技术", max_points="60")
    create_sheet(
        stage,
        create_judge(contest, name="评委甲"),
        create_entry(contest, angel, "A-001"),
        {tech: "55.5"},
    )
    db.session.commit()
    before = database_state()
    lower = {"id": str(tech.id), "name": "技术", "max_points": "50", "step": "0.5", "position": "1"}
    answer = _post(organizer_client, URL, _rubric_form([lower], confirmed="1", reason="改满分"))
    assert answer.status_code == 400 and "评委甲给A-001" in answer.get_data(as_text=True)
    assert database_state() == before
    assert db.session.scalar(sa.select(Criterion.max_points)) == Decimal("60")


def test_a_contests_dates(organizer_client):
    data = {"name": "x", "slug": "dated", "year": "2026"}
    wrong = _post(
        organizer_client,
        "/contests/new",
        {**data, "starts_on": "2026-05-02", "ends_on": "2026-05-01"},
    )
    assert "最后一天: 不能早于第一天" in wrong.get_data(as_text=True)
    answer = _post(
        organizer_client,
        "/contests/new",
        {**data, "starts_on": "2026-05-01", "ends_on": "2026-05-20"},
    )
    assert answer.status_code == 302
    contest = db.session.scalar(sa.select(Contest).where(Contest.slug == "dated"))
    assert (contest.starts_on.isoformat(), contest.ends_on.isoformat()) == (
        "2026-05-01",
        "2026-05-20",
    )
    assert "2026-05-01 – 2026-05-20" in organizer_client.get("/contests/dated").get_data(
        as_text=True
    )


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "1e999", "sNaN"])
def test_numbers_that_are_not_numbers_are_refused(organizer_client, staged, bad):
    """No typed number, however strange, gets a 500 (WTForms' range check cannot compare
    a signalling NaN; quantize cannot round 1e999)."""
    before = database_state()
    line = {"name": "x", "max_points": bad, "step": "1", "position": "1"}
    assert _post(organizer_client, URL, _rubric_form([line])).status_code == 400
    line = {"name": "x", "max_points": "10", "step": bad, "position": "1"}
    assert _post(organizer_client, URL, _rubric_form([line])).status_code == 400
    tier = {
        "tier-stage": "prelim",
        "tier-group": "angel",
        "tier-name": "一等奖",
        "tier-position": "1",
        "tier-quota": "1",
        "tier-prize": bad,
    }
    assert (
        _post(organizer_client, "/contests/cx/setup/tiers", tier, "/contests/cx/setup").status_code
        == 400
    )
    stage = {
        "code": "s2",
        "name": "复赛",
        "position": "2",
        "kind": "online",
        "judges_per_entry": "3",
        "rule": "mean",
        "trim": "1",
        "min_sheets_to_trim": "5",
        "pitch_minutes": "8",
        "qa_minutes": "7",
        "weight": bad,
        "advance_threshold": bad,
    }
    assert _post(organizer_client, "/contests/cx/setup/stages/new", stage).status_code == 400
    assert database_state() == before
