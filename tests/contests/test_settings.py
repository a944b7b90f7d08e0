"""A contest's visibility (a draft is never public) and its status (follows the stages
unless set by hand)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from judging.common.audit import AuditEvent
from judging.common.enums import ContestStatus, StageState
from judging.contests.models import Contest, status_of_stages
from judging.extensions import db
from tests.conftest import create_contest, create_group, create_stage

D, OP, C, P = StageState.DRAFT, StageState.OPEN, StageState.CLOSED, StageState.PUBLISHED


@pytest.mark.parametrize(
    ("states", "status"),
    [
        ([], ContestStatus.SETUP),
        ([D, D], ContestStatus.SETUP),
        ([OP, D], ContestStatus.RUNNING),
        ([P, D], ContestStatus.RUNNING),
        ([P, C], ContestStatus.RUNNING),
        ([P, P], ContestStatus.FINISHED),
    ],
)
def test_status_follows_the_stages(states, status):
    assert status_of_stages(states) == status


def _contest(public: bool):
    contest = create_contest("vis", is_public=public)
    create_group(contest)
    create_stage(contest, "prelim", state=StageState.PUBLISHED)
    create_stage(contest, "final", state=StageState.OPEN)
    db.session.commit()
    return contest


PUBLIC_URLS = (
    "/results/vis",
    "/results/vis/prelim/angel",
    "/results/vis/prelim.xlsx",
    "/screen/vis",
    "/api/v1/contests/vis",
    "/api/v1/contests/vis/stages",
    "/api/v1/contests/vis/stages/prelim/groups/angel/standings",
)


def test_a_draft_is_on_no_public_page(client):
    _contest(public=False)
    for url in PUBLIC_URLS:
        assert client.get(url).status_code == 404, url
    slugs = [c["slug"] for c in client.get("/api/v1/contests").get_json()["contests"]]
    assert "vis" not in slugs
    assert "Contest " not in client.get("/").get_data(as_text=True)


def _settings(client, **data):
    page = client.get("/contests/vis").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post("/contests/vis/settings", data={"csrf_token": token, **data})


def test_organizer_makes_it_public_and_back(organizer_client, app):
    contest = _contest(public=False)
    home = organizer_client.get("/").get_data(as_text=True)
    assert "vis" in home and ("Draft (not public)" in home or "草稿（未公开）" in home)
    version = contest.data_version
    answer = _settings(organizer_client, visibility="public", status="auto")
    assert answer.status_code == 302
    db.session.expire_all()
    contest = db.session.get(Contest, contest.id)
    assert contest.is_public and contest.data_version == version + 1
    anonymous = app.test_client()
    for url in PUBLIC_URLS:
        assert anonymous.get(url).status_code == 200, url
    _settings(organizer_client, visibility="draft", status="auto")
    for url in PUBLIC_URLS:
        assert anonymous.get(url).status_code == 404, url
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "contest_settings")
    ).all()
    assert [e.new["public"] for e in events] == [True, False]


def test_status_by_hand_and_back_to_the_stages(organizer_client):
    contest = _contest(public=True)
    assert contest.current_status == ContestStatus.RUNNING
    _settings(organizer_client, visibility="public", status="finished")
    db.session.expire_all()
    contest = db.session.get(Contest, contest.id)
    assert contest.status_by_hand and contest.current_status == ContestStatus.FINISHED
    _settings(organizer_client, visibility="public", status="auto")
    db.session.expire_all()
    assert db.session.get(Contest, contest.id).current_status == ContestStatus.RUNNING


def test_settings_refused_without_csrf_or_bad_choice(organizer_client):
    contest = _contest(public=False)
    no_token = organizer_client.post("/contests/vis/settings", data={"visibility": "public"})
    assert no_token.status_code == 400
    refused = _settings(organizer_client, visibility="everyone", status="auto")
    assert refused.status_code == 302
    page = organizer_client.get(refused.location).get_data(as_text=True)
    assert "公开范围：不是有效的选择。" in page
    db.session.expire_all()
    assert not db.session.get(Contest, contest.id).is_public


def test_settings_are_for_organizers(judge_client):
    _contest(public=False)
    answer = judge_client.post("/contests/vis/settings", data={"visibility": "public"})
    assert answer.status_code in (400, 403, 404)
    db.session.expire_all()
    assert not db.session.scalar(sa.select(Contest.is_public).where(Contest.slug == "vis"))
