"""The demo contest's public face: every public response, and none with personal data."""

import csv
from pathlib import Path

import pytest
import sqlalchemy as sa

from judging.contests.models import Contest
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Judge
from judging.live import services as live
from judging.scoring import services as scoring
from judging.scoring.rubric import rubric_specs
from judging.seed import load_demo

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"


def _private_values() -> set[str]:
    values = set()
    with (SEED_DIR / "entries.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            values |= {row["phone"], row["email"], row["leader"]}
    with (SEED_DIR / "judges.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            values |= {row["email"], row["name"]}
    return {v for v in values if v}


@pytest.fixture
def demo(app) -> Contest:
    load_demo(SEED_DIR)
    db.session.commit()
    contest = db.session.scalar(sa.select(Contest).where(Contest.slug == "dalian-2020"))
    # The live final mid-roadshow: judge01 scores A-007, it is on stage and revealed.
    final = contest.stage("final")
    entry = db.session.scalar(sa.select(Entry).where(Entry.code == "A-007"))
    judge01 = db.session.scalar(
        sa.select(Judge).join(Judge.user).where(sa.text("users.username = 'judge01'"))
    )
    rubric = rubric_specs(final.id, entry.group_id)
    scoring.save_sheet(
        judge=judge01,
        entry=entry,
        stage=final,
        points={c.id: str(c.max_points) for c in rubric},
        comment="",
        expected_version=0,
        submit=True,
        rubric=rubric,
    )
    live.put_on_stage(stage=final, entry=entry)
    live.start_phase(stage=final, phase="pitch")
    live.reveal(stage=final, entry=entry, user=None)
    db.session.commit()
    return contest


def _public_urls(client) -> list[str]:
    base = "/api/v1/contests/dalian-2020"
    urls = ["/", "/results/dalian-2020", "/screen/dalian-2020", "/screen/dalian-2020/body"]
    urls += ["/api/v1/contests", base, f"{base}/stages", f"{base}/groups"]
    urls += [f"{base}/awards", f"{base}/live"]
    for stage in client.get(f"{base}/stages").get_json()["stages"]:
        if not stage["published"]:
            continue
        urls.append(f"{base}/stages/{stage['code']}")
        for group in ("angel", "growth"):
            urls += [
                f"/results/dalian-2020/{stage['code']}/{group}",
                f"/results/dalian-2020/{stage['code']}/{group}/table",
                f"{base}/stages/{stage['code']}/groups/{group}/standings",
            ]
    return urls


def test_the_demo_publishes_prelim_and_semi_and_runs_the_final_live(client, demo):
    stages = client.get("/api/v1/contests/dalian-2020/stages").get_json()["stages"]
    assert [(s["code"], s["state"]) for s in stages] == [
        ("prelim", "published"),
        ("semi", "published"),
        ("final", "open"),
    ]
    home = client.get("/").get_data(as_text=True)
    for link in (
        "/results/dalian-2020/prelim/angel",
        "/results/dalian-2020/semi/growth",
        "/screen/dalian-2020",
    ):
        assert f'href="{link}"' in home
    for url in ("/results/dalian-2020/final/angel", "/api/v1/contests/dalian-2020/stages/final"):
        assert client.get(url).status_code == 404, "the final's standings are not published"
    live = client.get("/api/v1/contests/dalian-2020/live").get_json()
    assert live["on_stage"]["entry"]["code"] == "A-007"
    assert live["on_stage"]["judges"] == {"assigned": 9, "submitted": 9}
    assert live["on_stage"]["reveal"]["score"] == live["standings"]["angel"][0]["score"]
    assert len(live["on_stage"]["reveal"]["totals"]) == 9


def test_no_public_response_contains_personal_data_of_the_demo(client, demo):
    private = _private_values()
    assert len(private) > 150 and "13800006499" in private and "judge01@example.com" in private
    urls = _public_urls(client)
    assert len(urls) >= 20
    for url in urls:
        for lang in ("zh_CN", "en"):
            response = client.get(url, query_string={"lang": lang})
            assert response.status_code == 200, url
            body = response.get_data(as_text=True)
            leaked = sorted(v for v in private if v in body)
            assert not leaked, f"{url} shows {leaked[:5]}"
            assert "@example.com" not in body and "1380000" not in body, url
