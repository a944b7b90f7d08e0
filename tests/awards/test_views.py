"""The organizer's results pages on the demo contest."""

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from judging.awards.models import Award, ResultSnapshot
from judging.extensions import db
from judging.seed import load_demo
from tests.conftest import confirm_form, csrf_token, give_every_organizer

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"
RESULTS = "/contests/dalian-2020/stages/{}/results"
JUDGE01 = "张文博"  # judge01 in seed/judges.csv: the 22 final sheets still to come


@pytest.fixture
def demo(app):
    load_demo(SEED_DIR)
    db.session.commit()
    give_every_organizer("dalian-2020")


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
    assert "本赛段尚未确认任何结果" in page
    assert "应交评分表提交情况" in page and "176 / 198" in page


def test_results_pages_are_for_organizers_only(judge_client, client, demo):
    assert judge_client.get(RESULTS.format("final")).status_code == 404
    assert client.get(RESULTS.format("final")).status_code == 302
    confirm = "/contests/dalian-2020/stages/final/confirm/awards"
    assert judge_client.get(confirm).status_code == 404
    assert judge_client.post(confirm).status_code in (400, 404)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Award)) == 0


def _final_snapshots() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ResultSnapshot)
        .where(ResultSnapshot.stage_id == sa.text("(SELECT id FROM stages WHERE code = 'final')"))
    )


def test_confirm_awards_says_what_happens_then_needs_an_override_on_an_open_stage(
    organizer_client, demo
):
    url = "/contests/dalian-2020/stages/final/confirm/awards"
    assert organizer_client.post(url).status_code == 400, "no CSRF token"
    page = organizer_client.get(url)
    body = text(page)
    assert "将会发生什么" in body and "决赛仍在评分中" in body
    assert "各评委未提交的应交评分表" in body and f"{JUDGE01} 22" in body
    data = confirm_form(organizer_client, url)
    # Without a reason: refused, nothing written, the field says why.
    refused = organizer_client.post(url, data=data)
    assert refused.status_code == 400 and "如仍要确认，请填写原因" in text(refused)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Award)) == 0
    assert _final_snapshots() == 0
    response = organizer_client.post(url, data={**data, "override_reason": "现场颁奖需要"})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Award)) == 42
    page = text(organizer_client.get(RESULTS.format("final")))
    assert "已确认并冻结" in page or "最近一次确认于" in page
    assert "强制确认： 现场颁奖需要" in page and "应交 198 份评分表中缺 22 份" in page
    assert "当前结果与已确认的结果一致" in page


def test_a_confirmation_whose_results_changed_meanwhile_is_refused(organizer_client, demo):
    url = "/contests/dalian-2020/stages/final/confirm/awards"
    token = csrf_token(organizer_client, url)
    response = organizer_client.post(
        url, data={"csrf_token": token, "fingerprint": "0" * 64, "override_reason": "x"}
    )
    assert response.status_code == 409 and "请重新核对" in text(response)
    assert _final_snapshots() == 0


def test_the_published_semi_cannot_be_confirmed_again_until_withdrawn(organizer_client, demo):
    url = "/contests/dalian-2020/stages/semi/confirm/advancement"
    page = text(organizer_client.get(url))
    assert "复赛已公布，成绩已冻结" in page and "确认晋级</button>" not in page
    token = csrf_token(organizer_client, RESULTS.format("semi"))
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ResultSnapshot))
    response = organizer_client.post(url, data={"csrf_token": token})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResultSnapshot)) == before
    # The final has no next stage: nobody advances from it.
    page = text(organizer_client.get("/contests/dalian-2020/stages/final/confirm/advancement"))
    assert "这是最后一个赛段，没有晋级" in page
    assert (
        organizer_client.get("/contests/dalian-2020/stages/final/confirm/nope").status_code == 404
    )
