"""The public leaderboard and the JSON API: only published stages, no contact data, cached."""

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from judging.awards import workflow
from judging.awards.workflow import change_state
from judging.contests.versions import bump_data_version
from judging.extensions import db
from judging.leaderboard import queries
from judging.scoring.models import ScoreSheet
from tests.leaderboard.conftest import EMAIL, JUDGE_EMAIL, PHONE
from tests.leaderboard.helpers import submit, text

PRELIM = "/results/dalian-2020/prelim/angel"


def _routes(code: str, group: str = "angel") -> list[str]:
    return [
        f"/results/dalian-2020/{code}/{group}",
        f"/results/dalian-2020/{code}/{group}/table",
        f"/api/v1/contests/dalian-2020/stages/{code}",
        f"/api/v1/contests/dalian-2020/stages/{code}/groups/{group}/standings",
    ]


def test_published_standings_show_rank_code_title_organization_score_and_award(client, board):
    response = client.get(PRELIM)
    assert response.status_code == 200
    page = text(response)
    assert "初赛 · 天使组" in page
    assert "1 A-001 中科海洋 中国科学院海洋研究所 一等奖 86.00" in page
    assert "2 A-002 爬壁机器人 大连理工大学 80.00" in page
    assert "3 A-003 助力外骨骼 大连海事大学 74.00" in page
    html = response.get_data(as_text=True)
    for private in (PHONE, EMAIL, JUDGE_EMAIL, "张队长", "评委1"):
        assert private not in html
    assert 'name="viewport"' in html, "readable on a phone"
    assert 'name="csrf_token"' not in html, "nothing personal in a shared, cached page"
    workbook = client.get("/results/dalian-2020/prelim.xlsx")
    assert 'href="/results/dalian-2020/prelim.xlsx"' in html and workbook.status_code == 200
    assert workbook.data[:2] == b"PK", "the page links its stage's public workbook"


def test_unpublished_stages_are_not_found_on_every_public_route(client, board):
    for code in ("semi", "final", "extra", "no-such"):
        for url in _routes(code):
            assert client.get(url).status_code == 404, url
    assert client.get("/results/dalian-2020/prelim/no-such-group").status_code == 404
    assert client.get("/results/no-such/prelim/angel").status_code == 404
    assert client.get("/api/v1/contests/no-such").status_code == 404
    stages = client.get("/api/v1/contests/dalian-2020/stages").get_json()["stages"]
    assert [(s["code"], s["published"], s["live"]) for s in stages] == [
        ("prelim", True, False),
        ("final", False, True),  # the live final: only what Rule 8 allows, see test_live
    ]
    for url in ("/", "/results/dalian-2020", "/api/v1/contests/dalian-2020"):
        body = client.get(url).get_data(as_text=True)
        assert "复赛" not in body and "加赛" not in body, url


def test_withdrawing_publication_hides_the_stage_at_once(client, board):
    assert client.get(PRELIM).status_code == 200
    change_state(stage=board.prelim, target="closed", reason="a correction")
    db.session.commit()
    for url in _routes("prelim"):
        assert client.get(url).status_code == 404, url


def test_etag_304_and_cache_headers(client, board):
    first = client.get(PRELIM)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.headers["Cache-Control"].startswith("public")
    again = client.get(PRELIM, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert client.get(PRELIM, headers={"If-None-Match": f"W/{etag}"}).status_code == 304
    assert client.get(PRELIM, headers={"If-None-Match": '"other"'}).status_code == 200
    api = client.get("/api/v1/contests/dalian-2020/stages/prelim/groups/angel/standings")
    assert api.headers["Content-Type"] == "application/json"
    assert api.headers["Cache-Control"].startswith("public") and api.headers["ETag"]
    check = {"If-None-Match": api.headers["ETag"]}
    url = "/api/v1/contests/dalian-2020/stages/prelim/groups/angel/standings"
    assert client.get(url, headers=check).status_code == 304


def test_the_page_carries_its_table_etag_so_the_first_poll_is_a_304(client, board):
    page = client.get(PRELIM).get_data(as_text=True)
    table = client.get(PRELIM + "/table")
    tag = table.headers["ETag"].strip('"')
    assert f'data-etag="&#34;{tag}&#34;"' in page, "the script starts from the table's ETag"
    assert table.get_data(as_text=True) in page, "the page includes the same bytes"


def test_etag_changes_exactly_when_published_standings_change(client, board):
    urls = [PRELIM, PRELIM + "/table", _routes("prelim")[3]]
    before = {url: client.get(url).headers["ETag"] for url in urls}

    # A sheet of the open final changes the final's version, not the published standings.
    submit(board.final, board.judges[0], board.entries["A-002"], 70)
    version = queries.contest_by_slug("dalian-2020").data_version
    assert {url: client.get(url).headers["ETag"] for url in urls} == before
    assert client.get(PRELIM, headers={"If-None-Match": before[PRELIM]}).status_code == 304

    # A published stage is frozen: its sheets cannot be reopened, nothing changes.
    sheet = db.session.scalar(
        sa.select(ScoreSheet).where(
            ScoreSheet.stage_id == board.prelim.id,
            ScoreSheet.entry_id == board.entries["A-003"].id,
            ScoreSheet.judge_id == board.judges[4].id,
        )
    )
    with pytest.raises(workflow.WorkflowError):
        workflow.reopen_sheet(sheet=sheet, reason="复核")
    db.session.rollback()
    assert {url: client.get(url).headers["ETag"] for url in urls} == before

    # Withdrawn, reopened, confirmed again and republished: the published standings move,
    # every tag changes, and the page carries a dated correction notice.
    workflow.change_state(stage=board.prelim, target="closed", reason="复核一份评分")
    workflow.reopen_sheet(sheet=sheet, reason="复核")
    db.session.commit()
    assert all(client.get(url).status_code == 404 for url in urls)
    workflow.confirm(stage=board.prelim, kind="awards", user=None, override_reason="99 分待复核")
    workflow.change_state(stage=board.prelim, target="published")
    db.session.commit()
    assert queries.contest_by_slug("dalian-2020").data_version > version
    after = {url: client.get(url).headers["ETag"] for url in urls}
    assert all(after[url] != before[url] for url in urls)
    page = text(client.get(PRELIM))
    assert "A-003 助力外骨骼 大连海事大学 73.00" in page
    assert "成绩更正" in page and "A-003 助力外骨骼：得分 74.00 → 73.00" in page


def test_a_cache_hit_reads_one_row_and_never_ranks(app, client, board, monkeypatch):
    urls = [PRELIM, PRELIM + "/table", _routes("prelim")[3], "/screen/dalian-2020/body"]
    for url in urls:
        client.get(url)  # the first view of each renders and fills the cache
    statements, reads = [], []
    front = app.extensions["leaderboard_front"]
    if front.reader is not None:  # a database the front door reads on its own connection
        read = front.reader.read
        monkeypatch.setattr(
            front.reader, "read", lambda slug, **kw: reads.append(slug) or read(slug, **kw)
        )

    def count(conn, cursor, statement, *args):
        if not statement.startswith("BEGIN"):  # each request's own transaction, as in production
            statements.append(statement)

    def no_ranking(*args, **kwargs):
        raise AssertionError("a cache hit must not compute standings")

    monkeypatch.setattr(queries, "group_standings", no_ranking)
    monkeypatch.setattr(queries, "live", no_ranking)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for url in urls:
            statements.clear()
            reads.clear()
            assert client.get(url).status_code == 200
            if front.reader is not None:
                assert reads == ["dalian-2020"] and statements == [], url
            else:
                assert len(statements) == 1 and "data_version" in statements[0], statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_a_change_committed_by_another_worker_is_seen_at_the_next_request(client, board):
    """The cache key is the version in the database, not an in-process signal: a commit made
    anywhere (here plain SQL, as another worker or host would) is served at once."""
    assert client.get(_routes("semi")[0]).status_code == 404
    db.session.execute(sa.text("UPDATE stages SET state = 'published' WHERE code = 'semi'"))
    bump_data_version(board.contest.id)
    db.session.commit()
    db.session.expire_all()
    response = client.get(_routes("semi")[0])
    assert response.status_code == 200
    # Published by hand, with no confirmed snapshot: the live standings, and A-001 (assigned
    # in the final) shown as having reached it.
    assert "A-001 中科海洋 中国科学院海洋研究所 晋级决赛 77.00" in text(response)


def test_the_api_serves_the_same_rows_as_the_page(client, board):
    data = client.get(_routes("prelim")[3]).get_json()
    assert data["stage"]["code"] == "prelim"
    assert data["group"] == {"code": "angel", "name": "天使组"}
    rows = [(r["rank"], r["code"], r["title"], r["organization"], r["score"]) for r in data["rows"]]
    assert rows == [
        (1, "A-001", "中科海洋", "中国科学院海洋研究所", "86.00"),
        (2, "A-002", "爬壁机器人", "大连理工大学", "80.00"),
        (3, "A-003", "助力外骨骼", "大连海事大学", "74.00"),
    ]
    assert data["rows"][0]["awards"] == [
        {"kind": "tier", "name": "一等奖", "position": 1, "prize": "10000.00"}
    ]
    page = text(client.get(PRELIM))
    for _, code, title, org, score in rows:
        assert f"{code} {title} {org}" in page and score in page
    awards = client.get("/api/v1/contests/dalian-2020/awards").get_json()
    assert awards["stages"][0]["groups"][0]["awards"][0]["entry"]["code"] == "A-001"
    assert awards["prize_totals"] == {"groups": {"angel": "10000.00"}, "overall": "10000.00"}
    contests = client.get("/api/v1/contests").get_json()["contests"]
    assert [c["slug"] for c in contests] == ["dalian-2020"]
    groups = client.get("/api/v1/contests/dalian-2020/groups").get_json()["groups"]
    assert [g["code"] for g in groups] == ["angel", "growth"]


@pytest.mark.parametrize("body_of", ["/api/v1/contests", "/api/v1/contests/dalian-2020"])
def test_api_answers_json_with_etags(client, board, body_of):
    response = client.get(body_of)
    assert response.status_code == 200 and response.is_json
    again = client.get(body_of, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_language_can_be_chosen_in_the_address(client, board):
    english = client.get(PRELIM + "?lang=en")
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert "Rank" in text(english)
    chinese = client.get(PRELIM)
    assert '<html lang="zh-CN">' in chinese.get_data(as_text=True)
    assert english.headers["ETag"] != chinese.headers["ETag"]
    assert 'href="?lang=zh_CN"' in english.get_data(as_text=True)


def test_the_home_page_leads_to_the_leaderboards_and_the_live_final(client, board):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/results/dalian-2020/prelim/angel"' in html
    assert 'href="/results/dalian-2020/prelim/growth"' in html
    assert 'href="/screen/dalian-2020"' in html
    assert "/results/dalian-2020/semi/" not in html
    contest_page = client.get("/results/dalian-2020").get_data(as_text=True)
    assert 'href="/results/dalian-2020/prelim/angel"' in contest_page
    assert "一等奖" in contest_page and "A-001" in contest_page


def test_the_page_works_without_javascript(client, board):
    html = client.get(PRELIM).get_data(as_text=True)
    assert '<noscript><meta http-equiv="refresh"' in html
    assert "A-001" in html, "the standings are in the page itself, not fetched by a script"


def test_made_up_addresses_do_not_fill_the_cache(client, board):
    from judging.leaderboard.cache import cache

    client.get(PRELIM)
    size = len(cache.items)
    for i in range(50):
        assert client.get(f"/results/dalian-2020/stage{i}/angel").status_code == 404
        assert client.get(f"/api/v1/contests/dalian-2020/stages/s{i}").status_code == 404
    assert len(cache.items) == size
