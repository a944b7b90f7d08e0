"""Security headers on every answer (pages, errors, static files, the front door) and
``no-store`` on every private one, while the public pages keep their caching."""

from __future__ import annotations

import pytest

from judging import TestingConfig, create_app
from judging.common.enums import StageKind, StageState
from judging.common.headers import CSP
from judging.extensions import db
from judging.leaderboard.cache import cache
from tests.conftest import (
    create_assignment,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
    sign_in_as,
)

SECURITY = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
#: Endpoints whose answers are public and keep their own caching.
PUBLIC = {"static", "exports.public_stage"}
PUBLIC_BLUEPRINTS = {"leaderboard"}


def assert_security_headers(response, what: str) -> None:
    for name, value in SECURITY.items():
        sent = response.headers.get(name)
        assert sent == value, f"{what}: {name} is {sent!r}"


def test_the_policy_allows_no_inline_script_and_no_framing():
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe" not in CSP
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["img-src"] == "'self' data:"  # the judge cards' QR codes


def test_pages_errors_and_static_files_carry_the_headers(app, client):
    @app.route("/_boom")
    def _boom():
        raise RuntimeError("boom")

    for url, status in [
        ("/sign-in", 200),
        ("/no-such-page", 404),
        ("/static/css/app.css", 200),
        ("/static/js/sheet.js", 200),
        ("/results/nope", 404),
        ("/api/v1/contests/nope", 404),
        ("/_boom", 500),
        ("/healthz", 200),
    ]:
        response = client.get(url)
        assert response.status_code == status, url
        assert_security_headers(response, url)
        assert "Strict-Transport-Security" not in response.headers, url
    assert client.get("/static/css/app.css").headers.get("Cache-Control") != "no-store"


def test_hsts_only_over_https(app, client):
    assert "Strict-Transport-Security" not in client.get("/sign-in").headers
    secure = client.get("/sign-in", base_url="https://judging.example.org")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    config = TestingConfig()
    config.SESSION_COOKIE_SECURE = True  # HTTPS=1: behind a TLS-terminating proxy
    https_app = create_app(config)
    for url in ("/sign-in", "/no-such-page", "/static/css/app.css", "/healthz"):
        response = https_app.test_client().get(url)
        assert response.headers["Strict-Transport-Security"] == "max-age=63072000", url


@pytest.fixture
def file_app(tmp_path):
    """The app on a SQLite file, where the leaderboard's front door answers cache hits."""
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'headers.sqlite'}"
    app = create_app(config)
    with app.app_context():
        db.create_all()
        contest = create_contest("demo")
        angel = create_group(contest, "angel", "天使组")
        prelim = create_stage(contest, "prelim", state=StageState.PUBLISHED)
        criterion = create_criterion(prelim, angel, max_points="100")
        entry = create_entry(contest, angel, "A-001", title="中科海洋", phone="13800001111")
        create_sheet(prelim, create_judge(contest), entry, {criterion: "88"})
        db.session.commit()
        cache.clear()
        yield app
        db.session.remove()
        db.engine.dispose()
    cache.clear()


def test_the_front_doors_answers_carry_the_headers_and_keep_their_caching(file_app):
    client = file_app.test_client()
    front = file_app.extensions["leaderboard_front"]
    for url in ("/results/demo/prelim/angel", "/api/v1/contests/demo", "/results/demo/prelim.xlsx"):
        by_view = client.get(url)
        assert by_view.status_code == 200, url
        served = front.served
        by_front = client.get(url)
        assert front.served == served + 1, f"{url} did not take the front door"
        assert_security_headers(by_front, f"{url} (front door)")
        assert by_front.headers["Cache-Control"] == by_view.headers["Cache-Control"]
        assert by_front.headers["Cache-Control"].startswith("public"), url
        not_modified = client.get(url, headers={"If-None-Match": by_front.headers["ETag"]})
        assert not_modified.status_code == 304 and front.served == served + 2
        assert_security_headers(not_modified, f"{url} (304)")


# ------------------------------------------------------------------ no-store on private pages


@pytest.fixture
def world(app, organizer, judge_user):
    """A contest with a published prelim (the judge scored in it), a live final, and the
    judge assigned: every route's parameters have something real to name."""
    contest = create_contest("priv")
    group = create_group(contest, "angel")
    prelim = create_stage(contest, "prelim", state=StageState.PUBLISHED)
    criterion = create_criterion(prelim, group, max_points="100")
    final = create_stage(contest, "final", kind=StageKind.ROADSHOW)
    create_criterion(final, group, max_points="100")
    entry = create_entry(contest, group, "A-001", phone="13800001111", email="a@example.org")
    judge = create_judge(contest, judge_user)
    create_assignment(prelim, judge, entry)
    create_assignment(final, judge, entry)
    create_sheet(prelim, judge, entry, {criterion: "88"})
    db.session.commit()
    return {
        "slug": contest.slug,
        "code": "final",
        "group": group.code,
        "entry_id": entry.id,
        "judge_id": judge.id,
        "stage_id": final.id,
        "target": "closed",
        "kind": "standings",
        "token": "no-such-token",
    }


#: Per-endpoint parameters where the generic ones name nothing real.
SPECIAL = {
    "exports.template": {"kind": "contest"},
    "exports.public_stage": {"code": "prelim"},
    "leaderboard.standings": {"code": "prelim"},
    "leaderboard.standings_table": {"code": "prelim"},
}


def _get_urls(app, values: dict) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.rule.startswith("/_"):
            continue
        args = {**values, **SPECIAL.get(rule.endpoint, {})}
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", str(args[name])).replace(
                f"<{name}>", str(args[name])
            )
        urls.append((rule.endpoint, path))
    return urls


def _public(endpoint: str) -> bool:
    return endpoint in PUBLIC or endpoint.split(".")[0] in PUBLIC_BLUEPRINTS


@pytest.mark.parametrize("role", ["organizer", "judge", "anonymous"])
def test_every_private_answer_is_no_store(app, world, organizer, judge_user, role):
    client = app.test_client()
    if role != "anonymous":
        sign_in_as(client, organizer if role == "organizer" else judge_user)
    urls = _get_urls(app, world)
    assert len(urls) > 40, "the route inventory is incomplete"
    missing, pages, public = [], 0, 0
    for endpoint, path in urls:
        response = client.get(path)
        assert response.status_code < 500, path
        assert_security_headers(response, path)
        cache_control = response.headers.get("Cache-Control", "")
        if _public(endpoint):
            if response.status_code == 200:
                public += 1
                assert cache_control.startswith("public"), f"{path} lost its caching"
            continue
        pages += response.status_code == 200
        if cache_control != "no-store":
            missing.append(f"{path} ({response.status_code}): {cache_control!r}")
    assert not missing, "private answers that may be stored:\n" + "\n".join(missing)
    assert public >= 8, "the public pages of the published prelim were not reached"
    least = {"organizer": 20, "judge": 3, "anonymous": 2}[role]
    assert pages >= least, "too few private pages were reached"


def test_organizer_downloads_and_the_live_panel_are_no_store(organizer_client, world):
    slug = world["slug"]
    for url in (
        f"/contests/{slug}/export.xlsx",
        f"/contests/{slug}/stages/final/progress.xlsx",
        f"/contests/{slug}/live/final/panel",
        f"/contests/{slug}/judges",
        f"/contests/{slug}/entries",
    ):
        response = organizer_client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
