"""One-time sign-in links, judge cards and the judge-link command."""

import re
from datetime import timedelta

import sqlalchemy as sa

from judging.auth.models import LoginToken
from judging.common.models import utcnow
from judging.common.sessions import stamp
from judging.extensions import db
from judging.judges.services import login_link
from tests.conftest import csrf_token


def _path(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def test_a_link_signs_in_once(client, arena):
    link = login_link(arena.judge)
    db.session.commit()
    path = _path(link)
    page = client.get(path)
    assert page.status_code == 200 and "欢迎，王评委" in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(LoginToken.used_at)) is None, "a GET does not use it up"

    response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    assert client.get("/", follow_redirects=True).request.path == "/judge/"

    other = client.application.test_client()
    again = other.get(path)
    assert again.status_code == 410
    assert "此链接已被使用" in again.get_data(as_text=True)


def test_an_expired_link_says_so(client, arena):
    path = _path(login_link(arena.judge))
    db.session.execute(sa.update(LoginToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    response = client.get(path)
    assert response.status_code == 410
    assert "此链接已过期" in response.get_data(as_text=True)


def test_an_unknown_link_is_404(client, arena):
    response = client.get("/login/not-a-real-token")
    assert response.status_code == 404
    assert "此链接无效" in response.get_data(as_text=True)


def test_only_the_digest_of_a_token_is_stored(arena):
    link = login_link(arena.judge)
    token = link.rsplit("/", 1)[1]
    stored = db.session.scalar(sa.select(LoginToken.token_hash))
    assert token not in stored and len(stored) == 64


def test_organizer_prints_judge_cards_with_qr_codes(organizer_client, judge_client, arena):
    page = organizer_client.get("/contests/dalian-2020/judges")
    assert page.status_code == 200
    token = csrf_token(organizer_client, "/contests/dalian-2020/judges")
    response = organizer_client.post(
        "/contests/dalian-2020/judges/cards", data={"csrf_token": token}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count('class="judge-card"') == 2
    assert html.count('src="data:image/svg+xml;charset=utf-8,%3Csvg') == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginToken)) == 2
    # A card's link works.
    link = re.search(r"<code>(http[^<]+)</code>", html).group(1)
    assert judge_client.application.test_client().get(_path(link)).status_code == 200

    only_one = organizer_client.post(
        "/contests/dalian-2020/judges/cards", data={"csrf_token": token, "judge": arena.judge.id}
    )
    assert only_one.get_data(as_text=True).count('class="judge-card"') == 1
    assert organizer_client.get("/contests/dalian-2020/judges/cards").status_code == 405
    assert judge_client.post(
        "/contests/dalian-2020/judges/cards", data={"csrf_token": token}
    ).status_code in (400, 404)


def test_judge_link_command_prints_a_working_link(runner, client, arena):
    result = runner.invoke(args=["judge-link", "--contest", "dalian-2020", "judge-a"])
    assert result.exit_code == 0, result.output
    link = result.stdout.strip()
    assert link.startswith("http://127.0.0.1:5000/login/")
    assert client.get(_path(link)).status_code == 200
    # No request to take the address from, no PUBLIC_URL: it says which base it used and how
    # to change it (on stderr: the link alone stays on stdout, for scripts).
    assert "PUBLIC_URL is not set" in result.stderr
    assert "http://127.0.0.1:5000" in result.stderr and "PUBLIC_URL=http" in result.stderr

    missing = runner.invoke(args=["judge-link", "--contest", "dalian-2020", "nobody"])
    assert missing.exit_code != 0 and "no judge" in missing.output


def test_judge_link_command_uses_public_url(app, runner, client, arena):
    app.config["PUBLIC_URL"] = "https://judging.example.org:8443"
    result = runner.invoke(args=["judge-link", "--contest", "dalian-2020", "judge-a"])
    assert result.exit_code == 0, result.output
    link = result.stdout.strip()
    assert link.startswith("https://judging.example.org:8443/login/")
    assert result.stderr == "", "nothing to warn about"
    assert client.get(_path(link)).status_code == 200


def _card_links(app, organizer, base_url: str) -> list[str]:
    """The links on the judges' cards as the organizer prints them from base_url."""
    client = app.test_client()
    with client.session_transaction(base_url=base_url) as session:
        session["_user_id"] = str(organizer.id)
        session["_fresh"] = True
        stamp(session, organizer.session_epoch)
    page = client.get("/contests/dalian-2020/judges", base_url=base_url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/contests/dalian-2020/judges/cards", data={"csrf_token": token}, base_url=base_url
    )
    assert response.status_code == 200
    return re.findall(r"<code>(http[^<]+)</code>", response.get_data(as_text=True))


def test_card_links_come_from_the_request_unless_public_url_is_set(app, organizer, arena):
    # The server as the organizer reached it (any host and port), not the development one.
    links = _card_links(app, organizer, "http://192.168.1.20:8000")
    assert len(links) == 2
    assert all(link.startswith("http://192.168.1.20:8000/login/") for link in links), links

    app.config["PUBLIC_URL"] = "https://judging.example.org"
    links = _card_links(app, organizer, "http://192.168.1.20:8000")
    assert len(links) == 2
    assert all(link.startswith("https://judging.example.org/login/") for link in links), links
