"""A published group's standings a page at a time: the page (without JavaScript), its
polled table, and the API; the whole standings built once for all of them."""

from __future__ import annotations

import re

import pytest

from judging.awards.workflow import publish_as_loaded
from judging.common.enums import StageState
from judging.extensions import db
from judging.leaderboard.pages import (
    PAGE_SIZE,
    PageRequest,
    board_page,
    memo,
    page_numbers,
    positive_int,
)
from tests.conftest import (
    create_assignment,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
)

ENTRIES = 230  # pages of 100, 100 and 30
URL = "/results/big/prelim/angel"
API = "/api/v1/contests/big/stages/prelim/groups/angel/standings"


@pytest.fixture
def big(app):
    """230 entries, one sheet each: entry E-001 has 500 points, E-002 499 … (ranks = codes)."""
    contest = create_contest("big", name="大组赛事")
    angel = create_group(contest, "angel", "天使组")
    prelim = create_stage(contest, "prelim", name="初赛", state=StageState.PUBLISHED)
    criterion = create_criterion(prelim, angel, "综合", max_points="1000")
    judge = create_judge(contest, name="评委")
    for i in range(1, ENTRIES + 1):
        entry = create_entry(contest, angel, f"E-{i:03d}", title=f"项目{i}")
        create_assignment(prelim, judge, entry)
        create_sheet(prelim, judge, entry, {criterion: str(501 - i)})
    publish_as_loaded(prelim, user=None)
    db.session.commit()
    memo.clear()
    return contest


def _codes(html: str) -> list[str]:
    return re.findall(r'<span class="code">(E-\d{3})</span>', html)


def test_positive_int():
    assert positive_int(None, 1) == 1 and positive_int("", 7) == 7
    assert positive_int("3", 1) == 3 and positive_int("1000", 1, most=1000) == 1000
    for bad in ("0", "-1", "abc", "1.5", "٣", "1e3", " 2", "9999999999", "1001"):
        assert positive_int(bad, 1, most=1000) is None, bad


def test_board_page_slices_and_counts():
    board = {"rows": list(range(230)), "other": "kept"}
    third = board_page(board, PageRequest(3))
    assert third["rows"] == list(range(200, 230)) and third["other"] == "kept"
    assert (third["page"], third["pages"], third["per_page"], third["total"]) == (3, 3, 100, 230)
    assert third["first"] == 201
    assert board_page(board, PageRequest(4)) is None
    assert board_page(board, PageRequest(1, 230))["pages"] == 1
    empty = board_page({"rows": []}, PageRequest(1))
    assert empty["rows"] == [] and empty["pages"] == 1 and empty["total"] == 0
    assert board_page({"rows": []}, PageRequest(2)) is None


def test_page_numbers():
    assert page_numbers(1, 1) == [1]
    assert page_numbers(1, 5) == [1, 2, 3, 4, 5]
    assert page_numbers(1, 1000) == [1, 2, 3, None, 1000]
    assert page_numbers(4, 7) == [1, 2, 3, 4, 5, 6, 7]
    assert page_numbers(500, 1000) == [1, None, 498, 499, 500, 501, 502, None, 1000]
    assert page_numbers(1000, 1000) == [1, None, 998, 999, 1000]


def test_the_page_shows_a_page_of_rows_and_links_to_the_others(client, big):
    first = client.get(URL + "?lang=en").get_data(as_text=True)
    assert _codes(first) == [f"E-{i:03d}" for i in range(1, PAGE_SIZE + 1)]
    assert "Rows 1–100 of 230" in first
    assert 'href="/results/big/prelim/angel?page=2&amp;lang=en" rel="next"' in first
    assert 'aria-current="page"' in first and 'rel="prev"' not in first
    assert 'data-poll-url="/results/big/prelim/angel/table?lang=en"' in first

    third = client.get(URL + "?page=3&lang=en").get_data(as_text=True)
    assert _codes(third) == [f"E-{i:03d}" for i in range(201, 231)]
    assert "Rows 201–230 of 230" in third and 'rel="next"' not in third
    # ranks go on from the pages before; the polled table is the same page
    assert re.search(
        r'<td class="num rank">201</td><td class="entry"><span class="code">E-201', third
    )
    assert 'data-poll-url="/results/big/prelim/angel/table?page=3&amp;lang=en"' in third
    table = client.get("/results/big/prelim/angel/table?page=3&lang=en").get_data(as_text=True)
    assert _codes(table) == _codes(third) and "Rows 201–230 of 230" in table


@pytest.mark.parametrize("page", ["4", "0", "-1", "abc", "٢", "99999999999"])
def test_a_page_that_does_not_exist_is_404(client, big, page):
    assert client.get(f"{URL}?page={page}").status_code == 404
    assert client.get(f"{URL}/table?page={page}").status_code == 404


def test_the_api_pages_too(client, big):
    first = client.get(API).get_json()
    assert (first["page"], first["pages"], first["per_page"], first["total"]) == (1, 3, 100, 230)
    assert [r["code"] for r in first["rows"]][:2] == ["E-001", "E-002"] and len(
        first["rows"]
    ) == 100
    third = client.get(API + "?page=3").get_json()
    assert len(third["rows"]) == 30 and third["rows"][0]["rank"] == 201
    everything = client.get(API + "?per_page=1000").get_json()
    assert everything["pages"] == 1 and len(everything["rows"]) == 230
    assert client.get(API + "?page=4").status_code == 404
    refused = client.get(API + "?per_page=1001")
    assert refused.status_code == 400 and "per_page" in refused.get_json()["error"]
    assert client.get(API + "?page=x").status_code == 400


def test_the_whole_standings_are_built_once_for_every_page(client, big):
    for path in (URL, URL + "?page=2", URL + "/table?page=3", API, API + "?per_page=50"):
        assert client.get(path).status_code == 200
    assert memo.builds == 1


def test_after_a_change_a_slow_page_answers_at_once_with_the_previous_version(client, big):
    """The organizer's change of a large group's contest: the first request after it gets
    the previous page (X-Cache: stale) while the new one renders in the background."""
    import threading
    import time

    from judging.contests.versions import bump_data_version
    from judging.leaderboard.cache import cache as render_cache

    render_cache.slow_render = 0.0  # every page counts as slow here
    try:
        old = client.get(URL)
        assert old.status_code == 200 and "X-Cache" not in old.headers
        bump_data_version(big.id)
        db.session.commit()
        stale = client.get(URL)
        assert stale.headers.get("X-Cache") == "stale" and stale.data == old.data
        for thread in threading.enumerate():
            if thread.name == "render":
                thread.join(30)
        deadline = time.monotonic() + 30
        fresh = client.get(URL)
        while fresh.headers.get("X-Cache") == "stale" and time.monotonic() < deadline:
            time.sleep(0.05)
            fresh = client.get(URL)
        assert fresh.status_code == 200 and "X-Cache" not in fresh.headers
        assert fresh.headers["ETag"] == old.headers["ETag"], "the same content, re-rendered"
        assert memo.builds == 2
    finally:
        render_cache.slow_render = None
