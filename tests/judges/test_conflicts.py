"""Issue 11, conflicts reviewed: same-organization proposals, judges' declarations seen by
the organizer, conflicts added and withdrawn with reasons, and one count of the sheets a
stage needs everywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from judging.common.enums import ConflictSource, ConflictStatus
from judging.contests.models import Contest
from judging.extensions import db
from judging.judges.models import Conflict
from judging.leaderboard.queries import submission_counts
from judging.scoring.conflicts import organization_key
from judging.seed import load_demo
from judging.standings.groups import group_standings
from judging.standings.progress import contest_overview, judge_progress
from tests.conftest import (
    create_assignment,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
    csrf_token,
    database_state,
    give_every_organizer,
    sign_in_as,
)

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def text(response) -> str:
    return text_of(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("大连理工", "大连理工大学"),
        ("大连理工大学", " 大连理工　大学 "),
        ("ＤＬＵＴ大学", "dlut"),
        ("大连某某新材料有限公司", "大连某某新材料"),
        ("大连（甘井子）创新学院", "大连(甘井子)创新"),
    ],
)
def test_organization_names_match_across_forms(a, b):
    assert organization_key(a) == organization_key(b) != ""


@pytest.mark.parametrize("name", ["", "   ", "大学", "公司", None])
def test_an_organization_with_nothing_left_never_matches(name):
    assert organization_key(name) == ""


def test_different_organizations_differ():
    assert organization_key("大连理工大学") != organization_key("大连海事大学")


@pytest.fixture
def small(app):
    contest = create_contest("c1", name="小赛")
    group = create_group(contest)
    stage = create_stage(contest, "prelim", name="初赛")
    crit = create_criterion(stage, group, max_points="100")
    same = create_entry(contest, group, "A-001", organization="大连理工大学")
    other = create_entry(contest, group, "A-002", organization="大连海事大学")
    judge = create_judge(contest, name="李评委", organization="大连理工")
    for entry in (same, other):
        create_assignment(stage, judge, entry)
    create_sheet(stage, judge, other, {crit: "80"})
    db.session.commit()
    return contest, stage, judge, same, other


def test_same_organization_proposals_are_accepted_or_dismissed(organizer_client, small):
    contest, stage, judge, same, other = small
    url = "/contests/c1/conflicts"
    page = text(organizer_client.get(url))
    assert "同单位：建议回避 1" in page and "李评委 大连理工 A-001" in page
    assert "A-002" not in page.split("添加回避")[0], "another organization is not proposed"
    token = csrf_token(organizer_client, url)
    response = organizer_client.post(
        f"{url}/accept",
        data={"csrf_token": token, "judge": judge.id, "entry": same.id, "reason": "同单位"},
    )
    assert response.status_code == 302
    conflict = db.session.scalar(sa.select(Conflict))
    assert (conflict.status, conflict.source) == (ConflictStatus.BINDING, ConflictSource.SYSTEM)
    assert "同单位：建议回避 0" in text(organizer_client.get(url))
    # Dismissed pairs are never proposed again; a binding one cannot be "dismissed".
    before = database_state()
    response = organizer_client.post(
        f"{url}/dismiss", data={"csrf_token": token, "judge": judge.id, "entry": same.id}
    )
    assert "该回避已生效" in text(organizer_client.get(response.headers["Location"]))
    assert database_state() == before


def test_a_dismissed_proposal_stays_dismissed(organizer_client, small):
    contest, stage, judge, same, other = small
    url = "/contests/c1/conflicts"
    token = csrf_token(organizer_client, url)
    organizer_client.post(
        f"{url}/dismiss", data={"csrf_token": token, "judge": judge.id, "entry": same.id}
    )
    conflict = db.session.scalar(sa.select(Conflict))
    assert conflict.status == ConflictStatus.DISMISSED
    assert "同单位：建议回避 0" in text(organizer_client.get(url))
    assert group_standings(stage, same.group).rows  # nothing counted changed


def test_adding_a_conflict_that_removes_a_submitted_sheet_confirms_first(organizer_client, small):
    contest, stage, judge, same, other = small
    url = "/contests/c1/conflicts"
    token = csrf_token(organizer_client, url)
    data = {"csrf_token": token, "judge": judge.id, "entry": "A-002", "reason": "曾指导该团队"}
    before = database_state()
    page = text(organizer_client.post(f"{url}/add", data=data))
    assert "将不再计入成绩" in page and "初赛 (评分中): 80" in page
    assert database_state() == before, "the first post only shows what will happen"
    organizer_client.post(f"{url}/add", data={**data, "confirmed": "1"})
    conflict = db.session.scalar(sa.select(Conflict))
    assert conflict.status == ConflictStatus.BINDING and conflict.reason == "曾指导该团队"
    row = next(r for r in group_standings(stage, other.group).rows if r.entry_id == other.id)
    assert row.score is None, "the sheet no longer counts"
    # Withdrawn with a reason: it counts again.
    withdraw = f"{url}/{conflict.id}/withdraw"
    organizer_client.post(withdraw, data={"csrf_token": token, "reason": "误报", "confirmed": "1"})
    db.session.expire_all()
    assert db.session.get(Conflict, conflict.id).status == ConflictStatus.DISMISSED
    row = next(r for r in group_standings(stage, other.group).rows if r.entry_id == other.id)
    assert str(row.score) == "80.00"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"judge": "abc", "entry": "A-001", "reason": "x"}, "评委"),
        ({"judge": str(2**40), "entry": "A-001", "reason": "x"}, "评委"),
        ({"judge": "1", "entry": "NOPE", "reason": "x"}, "项目编号：本赛事没有项目 NOPE"),
        ({"judge": "1", "entry": "A-001", "reason": " "}, "请填写回避原因"),
        ({"judge": "1", "entry": "A-\x00001", "reason": "x"}, "项目编号"),
    ],
)
def test_bad_conflict_input_is_refused_with_a_clear_message(organizer_client, small, data, message):
    url = "/contests/c1/conflicts"
    before = database_state()
    response = organizer_client.post(
        f"{url}/add", data={"csrf_token": csrf_token(organizer_client, url), **data}
    )
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert message in text(organizer_client.get(url))
    assert database_state() == before


# ------------------------------------------------------------------ the demo's counts


@pytest.fixture
def demo(app) -> Contest:
    load_demo(SEED_DIR)
    db.session.commit()
    give_every_organizer("dalian-2020")
    return db.session.scalar(sa.select(Contest).where(Contest.slug == "dalian-2020"))


def test_a_judges_declaration_binds_at_once_and_every_count_agrees(app, demo, organizer_client):
    """judge01 declares a conflict with A-006 in the open final (never scored it): it leaves
    judge01's list at once, shows as new to the organizer, and every count of sheets
    needed drops from 198 to 197 alike (progress, judge progress, export, live control)."""
    final = demo.stage("final")
    judge = next(j for j in demo.judges if j.user.username == "judge01")
    entry = next(e for e in demo.entries if e.code == "A-006")
    overview = contest_overview(demo)
    totals = next(s.totals for s in overview.stages if s.stage.id == final.id)
    assert (totals.assignments, totals.submitted) == (198, 176)
    assert submission_counts(final, [entry.id])[entry.id] == (9, 8)

    client = app.test_client()
    sign_in_as(client, judge.user)
    url = f"/judge/stages/{final.id}/entries/{entry.id}"
    response = client.post(
        f"{url}/conflict", data={"csrf_token": csrf_token(client, url), "reason": "亲属任职"}
    )
    assert response.status_code == 302
    home = client.get("/judge/").get_data(as_text=True)
    assert "已申报回避：A-006 已从您的列表中移除" in text_of(home) and f'href="{url}"' not in home

    db.session.expire_all()
    totals = next(s.totals for s in contest_overview(demo).stages if s.stage.id == final.id)
    assert (totals.assignments, totals.submitted) == (197, 176)
    assert submission_counts(final, [entry.id])[entry.id] == (8, 8)
    mine = next(p for p in judge_progress(judge) if p.stage.id == final.id)
    assert (mine.assigned, mine.submitted) == (21, 0)
    home = text(organizer_client.get("/"))  # per group: A-006 is an angel entry
    assert "96 / 107 份评分表已提交" in home and "96 / 108" not in home
    page = text(organizer_client.get("/contests/dalian-2020/conflicts"))
    assert "评委新申报的回避 1" in page and "亲属任职" in page
    # The organizer confirms it with a note: no longer new.
    conflict = db.session.scalar(
        sa.select(Conflict).where(Conflict.entry_id == entry.id, Conflict.judge_id == judge.id)
    )
    token = csrf_token(organizer_client, "/contests/dalian-2020/conflicts")
    organizer_client.post(
        f"/contests/dalian-2020/conflicts/{conflict.id}/review",
        data={"csrf_token": token, "note": "已核实"},
    )
    db.session.expire_all()
    conflict = db.session.get(Conflict, conflict.id)
    assert conflict.reviewed_at is not None and conflict.note == "已核实"
    assert conflict.status == ConflictStatus.BINDING
    assert "评委新申报的回避 0" in text(organizer_client.get("/contests/dalian-2020/conflicts"))
