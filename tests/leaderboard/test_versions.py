"""Versions as fine as the content, and one render per version (issue 13).

A sheet in the live final must leave every cached page of a published stage valid (no
render, the same ETag), a sheet in one group must leave the other group's standings
cached, and requests that miss together render once — in one process, and across
processes sharing Redis.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from judging.contests.versions import data_version
from judging.extensions import db
from judging.leaderboard import queries
from judging.leaderboard.cache import RenderCache, SharedStore, rendered
from judging.leaderboard.cache import cache as render_cache
from judging.live.services import put_on_stage
from judging.standings.groups import group_standings
from tests.conftest import PASSWORD, csrf_token, sign_in_as
from tests.leaderboard.helpers import submit

PUBLISHED = [
    "/results/dalian-2020",
    "/results/dalian-2020/prelim/angel",
    "/results/dalian-2020/prelim/angel/table",
    "/results/dalian-2020/prelim/growth",
    "/api/v1/contests/dalian-2020",
    "/api/v1/contests/dalian-2020/stages/prelim/groups/angel/standings",
    "/api/v1/contests/dalian-2020/awards",
]
LIVE = ["/screen/dalian-2020/body", "/api/v1/contests/dalian-2020/live"]


def test_a_sheet_in_one_stage_leaves_another_stages_cached_pages_valid(client, board):
    put_on_stage(stage=board.final, entry=board.entries["A-002"])
    db.session.commit()
    before = {url: client.get(url) for url in PUBLISHED + LIVE}
    assert all(r.status_code == 200 for r in before.values())
    live = client.get(LIVE[1]).get_json()
    renders = render_cache.renders

    submit(board.final, board.judges[0], board.entries["A-002"], 70)

    for url in PUBLISHED:
        again = client.get(url, headers={"If-None-Match": before[url].headers["ETag"]})
        assert again.status_code == 304, url
    assert render_cache.renders == renders, "no published page was rendered again"
    # The live pages depend on the final: they are rendered again, once each, and show it.
    for url in LIVE:
        assert client.get(url).headers["ETag"] != before[url].headers["ETag"], url
    assert render_cache.renders == renders + len(LIVE)
    assert client.get(LIVE[1]).get_json() != live


def test_the_big_screen_and_the_live_api_build_the_live_view_once_per_version(
    client, board, monkeypatch
):
    """The screen, its polled body and the live API show one view of the live final: it is
    built once per version for all three, and again after a sheet changes it."""
    calls = []
    real = queries.live
    monkeypatch.setattr(queries, "live", lambda contest: calls.append(1) or real(contest))
    put_on_stage(stage=board.final, entry=board.entries["A-002"])
    db.session.commit()
    screens = ["/screen/dalian-2020", *LIVE]
    first = {url: client.get(url) for url in screens}
    assert all(r.status_code == 200 for r in first.values()) and len(calls) == 1

    submit(board.final, board.judges[0], board.entries["A-002"], 70)

    for url in screens:
        assert client.get(url).headers["ETag"] != first[url].headers["ETag"], url
    assert len(calls) == 2


def test_a_sheet_in_one_group_leaves_the_other_groups_standings_cached(board):
    angel = group_standings(board.final, board.angel)
    growth = group_standings(board.final, board.growth)
    versions = data_version(board.contest.id)

    submit(board.final, board.judges[0], board.entries["A-002"], 70)

    after = data_version(board.contest.id)
    assert after.meta == versions.meta and after != versions
    assert group_standings(board.final, board.growth) is growth
    assert group_standings(board.final, board.angel) is not angel
    # The earlier stages' standings of the same group do not depend on the final.
    prelim = group_standings(board.prelim, board.angel, version=versions)
    assert group_standings(board.prelim, board.angel) is prelim


def test_concurrent_misses_render_once_and_the_others_wait():
    cache = RenderCache()
    started = threading.Event()
    calls = []

    def build():
        calls.append(1)
        started.set()
        time.sleep(0.2)
        return rendered("page", "text/html")

    results = []

    def ask():
        results.append(cache.get_or_build(("k", 1), build))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and cache.renders == 1
    assert [stale for _item, stale in results] == [False] * 8
    assert {item.body for item, _stale in results} == {b"page"}


def test_while_a_new_version_renders_the_previous_one_is_sent_marked_stale():
    cache = RenderCache()
    route = ("standings", 1, "zh_CN", False, ())
    old, _ = cache.get_or_build(("standings", 1, "v1"), lambda: rendered("old", "text/html"), route)
    release = threading.Event()

    def slow():
        release.wait(5)
        return rendered("new", "text/html")

    builder = threading.Thread(
        target=cache.get_or_build, args=(("standings", 1, "v2"), slow, route)
    )
    builder.start()
    while ("standings", 1, "v2") not in cache.building:
        time.sleep(0.001)
    item, stale = cache.get_or_build(("standings", 1, "v2"), slow, route)
    assert stale and item.body == b"old"
    assert cache.stale_for(route, ("standings", 1, "v2")) is not None
    release.set()
    builder.join()
    item, stale = cache.get_or_build(("standings", 1, "v2"), slow, route)
    assert not stale and item.body == b"new" and cache.renders == 2
    assert cache.stale_for(route, ("standings", 1, "v2")) is None, "nothing is building"


def _redis_store() -> SharedStore:
    store = SharedStore("redis://127.0.0.1:6379/15")
    try:
        store.client.ping()
    except Exception as err:  # the machine's Redis is part of the test setup (.ci/run)
        pytest.fail(f"Redis at 127.0.0.1:6379 is not reachable: {err}")
    store.prefix = f"judging:test:{uuid.uuid4().hex}:"
    return store


def test_processes_sharing_redis_render_a_version_once():
    """Two caches (two workers) with one Redis: a version is rendered by one of them."""
    caches = [RenderCache(), RenderCache()]
    prefix = f"judging:test:{uuid.uuid4().hex}:"
    for cache in caches:
        cache.shared = _redis_store()
        cache.shared.prefix = prefix
    calls = []

    def build():
        calls.append(1)
        time.sleep(0.2)
        return rendered("shared page", "text/html")

    results = []
    threads = [
        threading.Thread(target=lambda c=c: results.append(c.get_or_build(("k", 7), build)))
        for c in caches
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert {item.body for item, _ in results} == {b"shared page"}
    assert {item.etag for item, _ in results} == {rendered("shared page", "x").etag}
    caches[0].shared.client.delete(caches[0].shared.name(("k", 7)))


def test_without_redis_the_cache_renders_for_itself():
    cache = RenderCache()
    cache.shared = SharedStore("redis://127.0.0.1:1/0")  # nothing listens there
    item, stale = cache.get_or_build(("k", 1), lambda: rendered("here", "text/html"))
    assert item.body == b"here" and not stale and cache.renders == 1


def test_the_personal_header_is_fetched_apart_from_the_cached_page(app, client, board, organizer):
    page = client.get("/results/dalian-2020/prelim/angel").get_data(as_text=True)
    assert 'data-personal="/account/header"' in page and "js/personal.js" in page
    assert client.get("/account/header").status_code == 204
    signed_in = app.test_client()
    sign_in_as(signed_in, organizer)
    again = signed_in.get("/results/dalian-2020/prelim/angel").get_data(as_text=True)
    assert again == page, "the same bytes for everyone"
    header = signed_in.get("/account/header")
    assert header.status_code == 200 and header.headers["Cache-Control"] == "no-store"
    body = header.get_data(as_text=True)
    assert organizer.display_name in body and 'name="csrf_token"' in body
    english = signed_in.get("/account/header?lang=en").get_data(as_text=True)
    assert "Sign out" in english


def test_a_signed_in_browser_gets_the_marker_and_loses_it_at_sign_out(app, organizer):
    client = app.test_client()
    token = csrf_token(client)
    response = client.post(
        "/sign-in",
        data={"username": organizer.username, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert "signed_in=1" in response.headers.get("Set-Cookie", "")
    out = client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    assert any("signed_in=;" in c for c in out.headers.getlist("Set-Cookie"))


def _spawn(threads: list):
    def background(work):
        thread = threading.Thread(target=work)
        threads.append(thread)
        thread.start()

    return background


def test_a_slow_route_renders_its_new_version_in_the_background():
    """Even the request that starts the render of a slow route's new version gets the
    previous one at once (marked stale); the new one is there once the render ends."""
    cache = RenderCache()
    cache.slow_render = 0.05
    route = ("standings", 1, "zh_CN", False, (1,))

    def slow(body):
        def build():
            time.sleep(0.1)
            return rendered(body, "text/html")

        return build

    threads: list[threading.Thread] = []
    first, stale = cache.get_or_build(("v1",), slow("v1"), route, _spawn(threads))
    assert first.body == b"v1" and not stale and not threads, "nothing older: in the request"
    began = time.monotonic()
    item, stale = cache.get_or_build(("v2",), slow("v2"), route, _spawn(threads))
    assert item.body == b"v1" and stale and time.monotonic() - began < 0.05
    again, stale = cache.get_or_build(("v2",), slow("v2"), route, _spawn(threads))
    assert again.body == b"v1" and stale and len(threads) == 1, "one render of v2"
    threads[0].join()
    item, stale = cache.get_or_build(("v2",), slow("v2"), route, _spawn(threads))
    assert item.body == b"v2" and not stale and cache.renders == 2


def test_a_quick_route_renders_in_the_request():
    cache = RenderCache()
    cache.slow_render = 0.25
    route = ("screen", 1, "zh_CN", False, ())
    threads: list[threading.Thread] = []
    cache.get_or_build(("v1",), lambda: rendered("v1", "text/html"), route, _spawn(threads))
    item, stale = cache.get_or_build(
        ("v2",), lambda: rendered("v2", "text/html"), route, _spawn(threads)
    )
    assert item.body == b"v2" and not stale and not threads


def test_no_thread_to_be_had_renders_in_the_request():
    cache = RenderCache()
    cache.slow_render = 0.0
    route = ("standings", 1, "zh_CN", False, ())

    def refuse(_work):
        raise RuntimeError("can't start new thread")

    cache.get_or_build(("v1",), lambda: rendered("v1", "text/html"), route, refuse)
    item, stale = cache.get_or_build(("v2",), lambda: rendered("v2", "text/html"), route, refuse)
    assert item.body == b"v2" and not stale and not cache.building


def test_a_failed_background_render_leaves_the_next_request_to_render(caplog):
    cache = RenderCache()
    cache.slow_render = 0.0
    route = ("standings", 1, "zh_CN", False, ())
    threads: list[threading.Thread] = []
    cache.get_or_build(("v1",), lambda: rendered("v1", "text/html"), route, _spawn(threads))

    def broken():
        raise RuntimeError("database gone")

    item, stale = cache.get_or_build(("v2",), broken, route, _spawn(threads))
    assert item.body == b"v1" and stale
    threads[0].join()
    assert "background render failed" in caplog.text and not cache.building
    item, stale = cache.get_or_build(("v2",), lambda: rendered("v2", "text/html"), route)
    assert item.body == b"v2" and not stale
