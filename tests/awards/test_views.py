"""The organizer's results pages on the demo contest."""

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from judging.awards.models import Award, ResultSnapshot
from judging.entries.models import Entry
from judging.extensions import db
from judging.seed import load_demo
from tests.conftest import csrf_token

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"
RESULTS = "/contests/dalian-2020/stages/{}/results"


@pytest.fixture
def demo(app):
    load_demo(SEED_DIR)
    db.session.commit()


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_results_page_explains_each_row(organizer_client, demo):
    response = organizer_client.get(RESULTS.format("final"))
    assert response.status_code == 200
    page = text(response)
    assert "中科海洋——构筑海洋生物入侵的第一道防线" in page
    assert "一等奖 ¥50,000.00" in page
    assert "评分表（评委：总分），从低到高" in page
    assert "各评分项平均分" in page and "创意与技术" in page
    assert "本赛段尚未冻结任何结果" in page


def test_results_pages_are_for_organizers_only(judge_client, client, demo):
    assert judge_client.get(RESULTS.format("final")).status_code == 404
    assert client.get(RESULTS.format("final")).status_code == 302
    assert judge_client.post("/contests/dalian-2020/stages/final/awards").status_code in (400, 404)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Award)) == 0


def test_confirm_awards_then_the_page_shows_the_snapshot(organizer_client, demo):
    assert organizer_client.post("/contests/dalian-2020/stages/final/awards").status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Award)) == 0
    token = csrf_token(organizer_client, RESULTS.format("final"))
    response = organizer_client.post(
        "/contests/dalian-2020/stages/final/awards", data={"csrf_token": token}
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Award)) == 42
    page = text(organizer_client.get(RESULTS.format("final")))
    assert "获奖结果已确认并冻结" in page
    assert "当前结果与已冻结的结果一致" in page


def test_confirm_advancement_from_the_semi(organizer_client, demo):
    token = csrf_token(organizer_client, RESULTS.format("semi"))
    page = text(organizer_client.get(RESULTS.format("semi")))
    assert "晋级决赛：12 个（名额 12）" in page and "晋级决赛：10 个（名额 10）" in page
    response = organizer_client.post(
        "/contests/dalian-2020/stages/semi/advance", data={"csrf_token": token}
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResultSnapshot)) == 1
    final_id = db.session.scalar(sa.text("SELECT id FROM stages WHERE code = 'final'"))
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(Entry).where(Entry.advanced_stage_id == final_id)
    )
    assert count == 22
    # The final has no next stage: confirming advancement there is refused, nothing written.
    response = organizer_client.post(
        "/contests/dalian-2020/stages/final/advance", data={"csrf_token": token}
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResultSnapshot)) == 1
