"""The front door: cookieless cache hits answered before Flask, exactly as the view would."""

import time

import pytest
import sqlalchemy as sa

from judging import TestingConfig, create_app
from judging.common.enums import StageKind, StageState
from judging.contests.models import Contest, Stage
from judging.contests.versions import bump_data_version
from judging.extensions import db
from judging.leaderboard.cache import cache
from judging.leaderboard.front import VersionReader
from tests.conftest import (
    TEST_DATABASE_URL,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
)

URLS = [
    "/results/demo/prelim/angel",
    "/results/demo/prelim/angel/table",
    "/results/demo/prelim/angel?lang=en",
    "/api/v1/contests/demo/stages/prelim/groups/angel/standings",
    "/api/v1/contests/demo/live",
    "/screen/demo/body",
]


@pytest.fixture
def file_app(tmp_path):
    """The app on a SQLite file, where the front door reads versions on its own connection."""
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'front.sqlite'}"
    app = create_app(config)
    with app.app_context():
        db.create_all()
        contest = create_contest("demo")
        angel = create_group(contest, "angel", "天使组")
        prelim = create_stage(contest, "prelim", state=StageState.PUBLISHED)
        create_stage(contest, "final", state=StageState.OPEN, kind=StageKind.ROADSHOW)
        criterion = create_criterion(prelim, angel, max_points="100")
        entry = create_entry(contest, angel, "A-001", title="中科海洋", phone="13800001111")
        create_sheet(prelim, create_judge(contest), entry, {criterion: "88"})
        db.session.commit()
        cache.clear()
        yield app
        db.session.remove()
        db.engine.dispose()
    cache.clear()


def _headers(response) -> dict:
    skip = {"Date", "Server", "X-Server-Time"}
    return {k: v for k, v in response.headers.items() if k not in skip}


def test_the_front_door_answers_a_repeat_view_exactly_as_the_view_does(file_app):
    client = file_app.test_client()
    front = file_app.extensions["leaderboard_front"]
    for url in URLS:
        by_view = client.get(url)
        assert by_view.status_code == 200, url
        served = front.served
        by_front = client.get(url)
        assert front.served == served + 1, f"{url} did not take the front door"
        assert by_front.data == by_view.data
        assert _headers(by_front) == _headers(by_view), url
        assert ("X-Server-Time" in by_front.headers) == ("X-Server-Time" in by_view.headers)
        etag = by_front.headers["ETag"]
        not_modified = client.get(url, headers={"If-None-Match": etag})
        assert not_modified.status_code == 304 and front.served == served + 2
        assert not_modified.headers["ETag"] == etag and not_modified.data == b""


def test_anything_it_cannot_be_sure_of_goes_on_to_flask(file_app):
    client = file_app.test_client()
    front = file_app.extensions["leaderboard_front"]
    url = URLS[0]
    client.get(url)
    served = front.served
    client.head(url)
    client.get(url + "?other=1")
    client.get("/results/demo/prelim/nope")
    assert front.served == served

    # A change anywhere (here plain SQL, as another worker would) makes the cached copy
    # unreachable: the next request is the view's, and it sees the change.
    db.session.execute(sa.update(Stage).values(state=StageState.CLOSED))
    bump_data_version(db.session.scalar(sa.select(Stage.contest_id)))
    db.session.commit()
    assert client.get(url).status_code == 404
    assert front.served == served


def test_the_reader_keeps_few_connections_and_closes_them_with_the_engine(file_app):
    front = file_app.extensions["leaderboard_front"]
    client = file_app.test_client()
    client.get(URLS[0])
    reader = front.reader
    assert isinstance(reader, VersionReader) and 1 <= len(reader.opened) <= reader.size
    assert reader.read("demo")[1].contest >= 1 and reader.read("no-such") is None
    db.engine.dispose()
    assert reader.opened == []
    assert client.get(URLS[0]).status_code == 200, "it reconnects when needed"


def test_an_in_memory_database_has_no_reader(app, client):
    client.get("/api/v1/contests")
    front = app.extensions["leaderboard_front"]
    if app.config["SQLALCHEMY_DATABASE_URI"] in ("sqlite://", "sqlite:///:memory:"):
        assert front.version_of("x") is False and front.reader is None


def test_a_failing_reader_falls_back_to_the_session(file_app, monkeypatch):
    client = file_app.test_client()
    front = file_app.extensions["leaderboard_front"]
    assert client.get(URLS[0]).status_code == 200

    def broken(slug, **_):
        raise RuntimeError("server closed the connection unexpectedly")

    monkeypatch.setattr(front.reader, "read", broken)
    served = front.served
    response = client.get(URLS[0])
    assert response.status_code == 200 and front.served == served


def _eventually(check, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return False


@pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"), reason="PostgreSQL notifications only"
)
def test_postgresql_pushes_version_changes_to_the_front_door(app):
    contest = create_contest("demo")
    create_stage(contest, "prelim")
    create_group(contest, "angel", "天使组")
    db.session.commit()
    reader = VersionReader(db.engine)
    try:
        assert _eventually(lambda: reader.push.healthy), "listening"
        first = reader.read("demo", pushed=True)
        assert reader.push.known["demo"] == first
        # Another host's change, even in plain SQL: the trigger notifies, the kept
        # version goes, and the next read asks the database.
        db.session.execute(sa.update(Contest).values(data_version=Contest.data_version + 1))
        db.session.commit()
        assert _eventually(
            lambda: reader.read("demo", pushed=True)[1].contest == first[1].contest + 1
        )
        assert reader.push.notified >= 1
        # This process's own bump is forgotten on its commit, before any notification.
        reader.read("demo", pushed=True)
        bump_data_version(contest.id)
        db.session.commit()
        assert reader.read("demo", pushed=True)[1].contest == first[1].contest + 2
        # A stage version (a sheet in the final) is pushed the same way.
        reader.read("demo", pushed=True)
        notified = reader.push.notified
        db.session.execute(
            sa.text(
                "INSERT INTO stage_versions (stage_id, group_id, contest_id, version) "
                "SELECT s.id, g.id, s.contest_id, 1 FROM stages s JOIN groups g "
                "ON g.contest_id = s.contest_id WHERE s.contest_id = :c"
            ),
            {"c": contest.id},
        )
        db.session.commit()
        assert _eventually(lambda: reader.push.notified > notified)
    finally:
        reader.close()
    assert _eventually(lambda: not reader.push.thread.is_alive()), "stops with the engine"


def test_a_signed_in_visitor_or_a_chosen_language_takes_the_front_door_too(file_app):
    """The public pages hold nothing personal: a cookie changes only the language, which
    the front door reads from its own cookie, exactly as the view does."""
    url = URLS[0]
    front = file_app.extensions["leaderboard_front"]
    for cookies, lang in (({"session": "x"}, "zh-CN"), ({"lang": "en", "session": "y"}, "en")):
        client = file_app.test_client()
        for name, value in cookies.items():
            client.set_cookie(name, value)
        by_view = client.get(url)
        served = front.served
        by_front = client.get(url)
        assert front.served == served + 1, cookies
        assert by_front.data == by_view.data and f'<html lang="{lang}"'.encode() in by_front.data
        assert _headers(by_front) == _headers(by_view)
    # A malformed cookie header is the default language, never an error.
    client = file_app.test_client()
    response = client.get(url, headers={"Cookie": 'lang="\\x; ;;=='})
    assert response.status_code == 200 and b'<html lang="zh-CN"' in response.data


def test_a_built_public_workbook_is_sent_by_the_front_door(file_app):
    client = file_app.test_client()
    front = file_app.extensions["leaderboard_front"]
    url = "/results/demo/prelim.xlsx"
    by_view = client.get(url)
    assert by_view.status_code == 200 and by_view.data.startswith(b"PK")
    served = front.served
    by_front = client.get(url)
    assert front.served == served + 1
    assert by_front.data == by_view.data
    assert _headers(by_front) == _headers(by_view)
    etag = by_front.headers["ETag"]
    not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and front.served == served + 2
    ranged = client.get(url, headers={"Range": "bytes=0-1"})
    assert front.served == served + 2, "a range request is the view's"
    assert ranged.status_code == 206 and ranged.data == b"PK"

    # Withdrawn: a new version, not built, so the view answers (404).
    db.session.execute(sa.update(Stage).values(state=StageState.CLOSED))
    bump_data_version(db.session.scalar(sa.select(Stage.contest_id)))
    db.session.commit()
    assert client.get(url).status_code == 404 and front.served == served + 2
