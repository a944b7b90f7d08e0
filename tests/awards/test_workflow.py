"""Issue 11: the results workflow's refusals on the demo contest, each leaving the database
exactly as it was, and the changes it allows (advancement per stage, cascades).

The demo: 初赛 and 复赛 published (confirmed and published as loaded), the 决赛 open with
judge01's 22 sheets still to come.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from judging.awards import workflow
from judging.awards.models import ResultSnapshot
from judging.common.audit import AuditEvent
from judging.common.enums import SheetState, StageState
from judging.contests.models import AdvanceQuota, Contest
from judging.entries.models import Entry, Participation
from judging.extensions import db
from judging.judges.models import Conflict, Judge
from judging.scoring.models import ScoreSheet
from judging.seed import load_demo
from judging.standings.groups import group_standings
from tests.conftest import (
    confirm_form,
    csrf_token,
    database_state,
    give_every_organizer,
    sign_in_as,
)

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"
SLUG = "dalian-2020"


@pytest.fixture
def demo(app) -> Contest:
    load_demo(SEED_DIR)
    db.session.commit()
    give_every_organizer("dalian-2020")
    return db.session.scalar(sa.select(Contest).where(Contest.slug == SLUG))


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _judge(contest: Contest, username: str) -> Judge:
    return next(j for j in contest.judges if j.user.username == username)


def _entry(contest: Contest, code: str) -> Entry:
    return next(e for e in contest.entries if e.code == code)


def _sheet(stage, judge, entry) -> ScoreSheet:
    return db.session.scalar(
        sa.select(ScoreSheet).where(
            ScoreSheet.stage_id == stage.id,
            ScoreSheet.judge_id == judge.id,
            ScoreSheet.entry_id == entry.id,
        )
    )


def _judge_client(app, judge: Judge):
    client = app.test_client()
    sign_in_as(client, judge.user)
    return client


def _participants(stage) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Participation)
        .where(Participation.stage_id == stage.id)
    )


# ------------------------------------------------------------------ conflicts


def test_a_judge_cannot_declare_a_conflict_on_a_submitted_sheet(app, demo):
    """As judge02 in the open final, after submitting A-007: refused, no score moves."""
    final = demo.stage("final")
    judge, entry = _judge(demo, "judge02"), _entry(demo, "A-007")
    assert _sheet(final, judge, entry).state == SheetState.SUBMITTED
    score = next(
        r.score for r in group_standings(final, entry.group).rows if r.entry_id == entry.id
    )
    client = _judge_client(app, judge)
    url = f"/judge/stages/{final.id}/entries/{entry.id}"
    page = text(client.get(url))
    assert "申报回避" not in page, "no conflict form on a submitted sheet"
    before = database_state()
    response = client.post(
        f"{url}/conflict", data={"csrf_token": csrf_token(client, url), "reason": "同事"}
    )
    assert response.status_code == 302
    assert "只能由组委会决定" in text(client.get(url))
    assert database_state() == before
    after = next(
        r.score for r in group_standings(final, entry.group).rows if r.entry_id == entry.id
    )
    assert after == score


def test_a_judge_cannot_declare_a_conflict_in_a_published_stage(app, demo):
    """As judge01 on A-001 in the published 初赛: refused, the public score stays 72.50."""
    prelim = demo.stage("prelim")
    judge, entry = _judge(demo, "judge01"), _entry(demo, "A-001")
    client = _judge_client(app, judge)
    url = f"/judge/stages/{prelim.id}/entries/{entry.id}"
    before = database_state()
    public = app.test_client().get(f"/api/v1/contests/{SLUG}/stages/prelim/groups/angel/standings")
    response = client.post(
        f"{url}/conflict", data={"csrf_token": csrf_token(client, "/judge/"), "reason": "亲属"}
    )
    assert response.status_code == 302
    assert "初赛未在评分中" in text(client.get(url))
    assert database_state() == before
    again = app.test_client().get(f"/api/v1/contests/{SLUG}/stages/prelim/groups/angel/standings")
    assert again.get_json()["rows"] == public.get_json()["rows"]


def test_the_organizer_cannot_add_a_conflict_that_removes_a_published_sheet(organizer_client, demo):
    judge, entry = _judge(demo, "judge01"), _entry(demo, "A-001")
    url = f"/contests/{SLUG}/conflicts"
    token = csrf_token(organizer_client, url)
    data = {"csrf_token": token, "judge": judge.id, "entry": "A-001", "reason": "亲属"}
    page = text(organizer_client.post(f"{url}/add", data=data))
    assert "初赛 (已公布)" in page, "the sheets it would take out are listed first"
    before = database_state()
    response = organizer_client.post(f"{url}/add", data={**data, "confirmed": "1"})
    assert response.status_code == 302
    assert "请先撤回该赛段的公布" in text(organizer_client.get(url))
    assert database_state() == before
    assert (
        db.session.scalar(
            sa.select(Conflict).where(Conflict.judge_id == judge.id, Conflict.entry_id == entry.id)
        )
        is None
    )


# ------------------------------------------------------------------ published means frozen


def test_a_sheet_of_a_published_stage_cannot_be_reopened(organizer_client, demo):
    prelim = demo.stage("prelim")
    sheet = _sheet(prelim, _judge(demo, "judge01"), _entry(demo, "A-001"))
    url = f"/contests/{SLUG}/sheets/{sheet.id}/reopen"
    token = csrf_token(organizer_client, f"/contests/{SLUG}/stages/prelim/sheets")
    before = database_state()
    response = organizer_client.post(url, data={"csrf_token": token, "reason": "复核"})
    assert response.status_code == 302
    assert "请先撤回公布" in text(organizer_client.get(response.headers["Location"]))
    assert database_state() == before


def test_confirming_an_open_stage_without_an_override_is_refused(organizer_client, demo):
    url = f"/contests/{SLUG}/stages/final/confirm/awards"
    data = confirm_form(organizer_client, url)
    before = database_state()
    # A NUL is refused as a character no text field takes (judging.common.forms), before
    # the reason is read; a blank reason is asked for by the field.
    for reason in ("\x00", "", "   "):
        response = organizer_client.post(url, data={**data, "override_reason": reason})
        assert response.status_code == 400
    assert "如仍要确认，请填写原因" in text(response)
    assert database_state() == before


def test_publishing_with_a_live_difference_is_refused_and_shows_it(organizer_client, demo):
    final = demo.stage("final")
    workflow.confirm(stage=final, kind="awards", user=None, override_reason="提前冻结")
    workflow.change_state(stage=final, target="closed")
    db.session.commit()
    # After the confirmation the organizer reopens one of judge02's sheets: the live results
    # move away from the snapshot.
    sheet = _sheet(final, _judge(demo, "judge02"), _entry(demo, "A-007"))

    workflow.reopen_sheet(sheet=sheet, reason="分数录错")
    db.session.commit()
    url = f"/contests/{SLUG}/stages/final/state/published"
    page = text(organizer_client.get(url))
    assert "当前结果与已确认的快照不一致" in page
    assert re.search(r"A-007 得分: \d+\.\d\d → \d+\.\d\d", page), page
    assert "将决赛设为：已公布" not in page, "no button while it differs"
    before = database_state()
    response = organizer_client.post(url, data={"csrf_token": csrf_token(organizer_client, url)})
    assert response.status_code == 400
    assert database_state() == before
    db.session.expire_all()
    assert demo.stage("final").state == StageState.CLOSED


# ------------------------------------------------------------------ advancement per stage


def test_reconfirming_the_prelim_keeps_later_participants(demo):
    """The observed bug: re-confirming 初赛 moved the 22 finalists back to 复赛."""
    prelim, semi, final = demo.stage("prelim"), demo.stage("semi"), demo.stage("final")
    assert (_participants(semi), _participants(final)) == (44, 22)
    workflow.change_state(stage=prelim, target="closed", reason="复核", user=None)
    plan = workflow.plan_confirmation(prelim, "advancement")
    assert not plan.changes.changes and not plan.needs_cascade
    workflow.confirm(stage=prelim, kind="advancement", user=None)
    db.session.commit()
    assert (_participants(semi), _participants(final)) == (44, 22)


def _shrink_prelim_quota(demo) -> Entry:
    """The angel quota of 初赛 goes from 24 to 23: the 24th leaves the semi-final."""
    prelim = demo.stage("prelim")
    workflow.change_state(stage=prelim, target="closed", reason="名额更正", user=None)
    quota = db.session.scalar(
        sa.select(AdvanceQuota).where(
            AdvanceQuota.stage_id == prelim.id, AdvanceQuota.group_id == demo.group("angel").id
        )
    )
    assert quota.quota == 24
    quota.quota = 23
    db.session.commit()
    rows = group_standings(prelim, demo.group("angel")).rows
    return db.session.get(Entry, next(r.entry_id for r in rows if r.rank == 24))


def test_reconfirming_the_prelim_after_later_sheets_is_refused_with_the_entries(
    organizer_client, demo
):
    leaving = _shrink_prelim_quota(demo)
    workflow.change_state(stage=demo.stage("semi"), target="closed", reason="复核", user=None)
    db.session.commit()
    url = f"/contests/{SLUG}/stages/prelim/confirm/advancement"
    page = text(organizer_client.get(url))
    assert f"退出： {leaving.code}" in page
    assert "后续赛段已有" in page and "级联变更" in page
    data = confirm_form(organizer_client, url)
    before = database_state()
    response = organizer_client.post(url, data=data)
    assert response.status_code == 400
    assert f"已拒绝：后续赛段已有评分表，此操作会改变复赛的参赛项目（{leaving.code}）" in text(
        response
    )
    assert database_state() == before


def test_an_explicit_cascade_takes_the_entry_out_of_later_stages(organizer_client, demo):
    semi = demo.stage("semi")
    leaving = _shrink_prelim_quota(demo)
    semi_sheets = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ScoreSheet)
        .where(ScoreSheet.stage_id == semi.id, ScoreSheet.entry_id == leaving.id)
    )
    assert semi_sheets > 0
    # The semi-final is published: the cascade must wait for its withdrawal.
    url = f"/contests/{SLUG}/stages/prelim/confirm/advancement"
    assert "复赛已公布" in text(organizer_client.get(url))
    workflow.change_state(stage=semi, target="closed", reason="初赛名额更正", user=None)
    db.session.commit()
    data = confirm_form(organizer_client, url)
    response = organizer_client.post(url, data={**data, "cascade_reason": "初赛名额应为 23"})
    assert response.status_code == 302
    assert _participants(semi) == 43
    assert not db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ScoreSheet)
        .where(ScoreSheet.stage_id == semi.id, ScoreSheet.entry_id == leaving.id)
    )
    deleted = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.action == "sheet_delete", AuditEvent.entry_id == leaving.id
        )
    ).all()
    assert len(deleted) == semi_sheets and all(e.old["points"] for e in deleted)
    assert {e.reason for e in deleted} == {"初赛名额应为 23"}
    snapshot = db.session.scalar(
        sa.select(ResultSnapshot)
        .where(ResultSnapshot.stage_id == demo.stage("prelim").id)
        .order_by(ResultSnapshot.id.desc())
    )
    assert snapshot.details["cascade"] == {
        "reason": "初赛名额应为 23",
        "added": [],
        "removed": [leaving.code],
    }
    page = text(organizer_client.get(f"/contests/{SLUG}/stages/prelim/results"))
    assert "已级联变更后续赛段： 初赛名额应为 23" in page


# ------------------------------------------------------------------ the commands


def test_the_commands_plan_as_the_pages_do_and_change_only_with_yes(runner, demo):
    before = database_state()
    dry = runner.invoke(args=["stage", "--contest", SLUG, "--stage", "final", "--to", "closed"])
    assert dry.exit_code == 0 and "张文博: A-006" in dry.output and "dry run" in dry.output
    assert database_state() == before
    back = runner.invoke(
        args=["stage", "--contest", SLUG, "--stage", "semi", "--to", "closed", "--yes"]
    )
    assert back.exit_code == 1 and "回退必须填写原因" in back.output
    assert database_state() == before
    refused = runner.invoke(
        args=["confirm", "--contest", SLUG, "--stage", "final", "--what", "awards", "--yes"]
    )
    assert refused.exit_code == 1 and "如仍要确认，请填写原因" in refused.output
    assert database_state() == before
    done = runner.invoke(
        args=[
            *("confirm", "--contest", SLUG, "--stage", "final", "--what", "awards", "--yes"),
            *("--override-reason", "颁奖典礼前预确认"),
        ]
    )
    assert done.exit_code == 0 and "Confirmed and frozen" in done.output
    published = runner.invoke(
        args=["stage", "--contest", SLUG, "--stage", "prelim", "--to", "published"]
    )
    assert published.exit_code == 1 and "初赛已经是“已公布”状态" in published.output
