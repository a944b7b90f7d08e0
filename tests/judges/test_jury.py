"""Issue 14, item 2: judges one by one — added (with a judge account), edited, deactivated
and reactivated (no sign-in, sheets kept), given a temporary password (replaced at the
first sign-in), their card link reissued (the old one stops working)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from judging.auth.models import LoginToken, User
from judging.auth.passwords import verify_password
from judging.auth.services import issue_login_token
from judging.common.audit import AuditEvent
from judging.common.enums import Role, StageState
from judging.contests.models import Contest
from judging.extensions import db
from judging.judges.models import Judge
from judging.scoring.models import ScoreSheet
from tests.conftest import (
    create_assignment,
    create_contest,
    create_criterion,
    create_entry,
    create_field,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
    csrf_token,
    database_state,
    sign_in_as,
)


def en(client):
    """The client, in English: the new strings' Chinese arrives with the next catalog merge."""
    client.set_cookie("lang", "en")
    return client


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def _errors(response) -> list[str]:
    return re.findall(r'<p class="error" role="alert">(.*?)</p>', response.get_data(as_text=True))


def _sign_in(client, username, password):
    return client.post(
        "/sign-in",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
    )


@pytest.fixture
def jury(app):
    """A contest with two fields, an open stage, and a judge with a submitted sheet."""
    contest = create_contest("c1", name="小赛")
    group = create_group(contest)
    iot = create_field(contest, "物联网")
    data = create_field(contest, "大数据")
    stage = create_stage(contest, "prelim", name="初赛", state=StageState.OPEN)
    crit = create_criterion(stage, group, max_points="100")
    entry = create_entry(contest, group, "A-001")
    judge = create_judge(contest, name="李评委", organization="大连理工大学")
    create_assignment(stage, judge, entry)
    create_sheet(stage, judge, entry, {crit: "80"})
    other = create_contest("c2")
    other_judge = create_judge(other, name="外赛评委")
    db.session.commit()
    return {
        "contest": contest,
        "fields": (iot, data),
        "judge": judge,
        "entry": entry,
        "other": other_judge,
    }


def _judge_form(**changes) -> dict:
    return {
        "username": "",
        "name": "赵评委",
        "title": "教授",
        "organization": "大连海事大学",
        "email": "zhao@example.com",
        **changes,
    }


def test_the_jury_page_links_to_adding_and_editing_judges(organizer_client, jury):
    html = organizer_client.get("/contests/c1/judges").get_data(as_text=True)
    assert "/contests/c1/judges/new" in html
    assert f"/contests/c1/judges/{jury['judge'].id}" in html


def test_add_a_judge_with_a_new_account(organizer_client, jury):
    iot, data = jury["fields"]
    url = "/contests/c1/judges/new"
    assert organizer_client.get(url).status_code == 200
    form = _judge_form(
        expertise=[str(iot.id), str(data.id)], csrf_token=csrf_token(organizer_client, url)
    )
    response = organizer_client.post(url, data=form)
    assert response.status_code == 302
    judge = db.session.scalar(sa.select(Judge).where(Judge.name == "赵评委"))
    assert judge.contest_id == jury["contest"].id
    assert sorted(f.name for f in judge.expertise) == ["大数据", "物联网"]
    assert judge.user.role == Role.JUDGE and judge.user.username == "c1-judge01"
    assert judge.user.password_hash is None and judge.user.is_enabled
    (event,) = _events("judge_add")
    assert event.contest_id == jury["contest"].id and event.new["username"] == "c1-judge01"
    assert (
        sorted(event.new["expertise"]) == ["大数据", "物联网"] and event.new["job_title"] == "教授"
    )
    assert response.headers["Location"] == f"/contests/c1/judges/{judge.id}"


def test_add_an_existing_judge_account_of_another_contest(organizer_client, jury):
    other_user = jury["other"].user
    url = "/contests/c1/judges/new"
    form = _judge_form(username=other_user.username, csrf_token=csrf_token(organizer_client, url))
    assert organizer_client.post(url, data=form).status_code == 302
    judges = db.session.scalars(sa.select(Judge).where(Judge.user_id == other_user.id)).all()
    assert sorted(j.contest.slug for j in judges) == ["c1", "c2"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "Name", "required"),
        ({"name": "名" * 121}, "Name", "120"),
        ({"username": "two words"}, "Username", "no spaces"),
        ({"username": "boss"}, "Username", "organizer"),
        ({"email": "nope"}, "Email", "email"),
        ({"expertise": ["999999"]}, "Expertise", "not a valid choice"),
        ({"expertise": ["x"]}, "Expertise", "Invalid choice"),
    ],
)
def test_a_refused_judge_names_its_field_and_writes_nothing(
    organizer_client, jury, changes, field, message
):
    en(organizer_client)
    url = "/contests/c1/judges/new"
    form = _judge_form(csrf_token=csrf_token(organizer_client, url), **changes)
    before = database_state()
    response = organizer_client.post(url, data=form)
    assert response.status_code == 400
    errors = _errors(response)
    assert errors and errors[0].startswith(f"{field}:") and message in errors[0], errors
    assert database_state() == before


def test_a_judge_already_in_the_contest_is_not_added_twice(organizer_client, jury):
    en(organizer_client)
    url = "/contests/c1/judges/new"
    username = jury["judge"].user.username
    form = _judge_form(username=username, csrf_token=csrf_token(organizer_client, url))
    before = database_state()
    response = organizer_client.post(url, data=form)
    assert response.status_code == 400 and "already judges" in _errors(response)[0]
    assert database_state() == before


def test_a_judge_without_the_csrf_token_is_refused(organizer_client, jury):
    before = database_state()
    assert organizer_client.post("/contests/c1/judges/new", data=_judge_form()).status_code == 400
    judge = jury["judge"]
    for action in ("", "/deactivate", "/password", "/card"):
        url = f"/contests/c1/judges/{judge.id}{action}"
        response = organizer_client.post(url, data={"password": "long enough pw", "name": "x"})
        assert response.status_code == 400, url
    assert database_state() == before


def test_edit_a_judge(organizer_client, jury):
    judge = jury["judge"]
    url = f"/contests/c1/judges/{judge.id}"
    page = organizer_client.get(url)
    assert page.status_code == 200 and 'value="李评委"' in page.get_data(as_text=True)
    iot, _ = jury["fields"]
    version = db.session.scalar(sa.select(Contest.data_version).where(Contest.slug == "c1"))
    form = _judge_form(
        name="李明",
        title="研究员",
        organization="大连理工大学",
        email="",
        expertise=[str(iot.id)],
        username="ignored",
        csrf_token=csrf_token(organizer_client, url),
    )
    assert organizer_client.post(url, data=form).status_code == 302
    db.session.expire_all()
    judge = db.session.get(Judge, judge.id)
    assert (judge.name, judge.title, [f.name for f in judge.expertise]) == (
        "李明",
        "研究员",
        ["物联网"],
    )
    assert judge.user.username != "ignored"
    (event,) = _events("judge_edit")
    assert event.old == {"name": "李评委", "job_title": "", "expertise": []}
    assert event.new == {"name": "李明", "job_title": "研究员", "expertise": ["物联网"]}
    assert db.session.scalar(sa.select(Contest.data_version).where(Contest.slug == "c1")) > version


def test_a_judge_of_another_contest_is_not_found(organizer_client, jury):
    other = jury["other"]
    token = csrf_token(organizer_client, "/contests/c1/judges")
    before = database_state()
    assert organizer_client.get(f"/contests/c1/judges/{other.id}").status_code == 404
    for action in ("", "/deactivate", "/reactivate", "/password", "/card"):
        url = f"/contests/c1/judges/{other.id}{action}"
        data = {"csrf_token": token, "password": "long enough pw", "name": "x"}
        assert organizer_client.post(url, data=data).status_code == 404, url
    assert organizer_client.get("/contests/c1/judges/99999999999").status_code == 404
    assert organizer_client.get("/contests/nope/judges/1").status_code == 404
    assert database_state() == before


def test_a_judge_cannot_manage_judges(app, jury):
    client = app.test_client()
    sign_in_as(client, jury["judge"].user)
    token = csrf_token(client, "/judge/")
    before = database_state()
    judge = jury["judge"]
    assert client.get("/contests/c1/judges/new").status_code == 404
    for action in ("", "/deactivate", "/password", "/card"):
        url = f"/contests/c1/judges/{judge.id}{action}"
        data = {"csrf_token": token, "password": "long enough pw", "name": "x"}
        assert client.post(url, data=data).status_code == 404
    assert database_state() == before


def test_a_deactivated_judge_cannot_sign_in_and_keeps_their_sheets(app, organizer_client, jury):
    judge = jury["judge"]
    link = issue_login_token(user=judge.user, contest_id=judge.contest_id)
    db.session.commit()
    theirs = app.test_client()
    sign_in_as(theirs, judge.user)
    assert theirs.get("/judge/").status_code == 200
    token = csrf_token(organizer_client, f"/contests/c1/judges/{judge.id}")
    response = organizer_client.post(
        f"/contests/c1/judges/{judge.id}/deactivate", data={"csrf_token": token}
    )
    assert response.status_code == 302
    assert theirs.get("/judge/").headers["Location"].startswith("/sign-in")
    assert app.test_client().get(f"/login/{link}").status_code in (404, 410)
    assert db.session.scalar(sa.select(sa.func.count(ScoreSheet.id))) == 1
    (event,) = _events("account_deactivate")
    assert event.contest_id == judge.contest_id and event.new["judge"] == "李评委"
    # No card for a deactivated judge.
    response = organizer_client.post(
        f"/contests/c1/judges/{judge.id}/card", data={"csrf_token": token}
    )
    assert response.status_code == 302
    cards = organizer_client.post("/contests/c1/judges/cards", data={"csrf_token": token})
    assert 'class="judge-card"' not in cards.get_data(as_text=True)
    # Reactivated, they can sign in again with a fresh card.
    organizer_client.post(f"/contests/c1/judges/{judge.id}/reactivate", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(User, judge.user_id).is_enabled
    assert len(_events("account_reactivate")) == 1


def test_set_a_temporary_password_the_judge_replaces_at_first_sign_in(app, organizer_client, jury):
    judge = jury["judge"]
    url = f"/contests/c1/judges/{judge.id}/password"
    token = csrf_token(organizer_client, f"/contests/c1/judges/{judge.id}")
    response = organizer_client.post(url, data={"password": "temp pass 123", "csrf_token": token})
    assert response.status_code == 302
    (event,) = _events("judge_password_set")
    assert "temp pass 123" not in str(event.new) and event.contest_id == judge.contest_id
    client = app.test_client()
    assert _sign_in(client, judge.user.username, "temp pass 123").status_code == 302
    assert client.get("/judge/").headers["Location"] == "/account/password"
    new = "the judge's own"
    token = csrf_token(client, "/account/password")
    client.post("/account/password", data={"password": new, "confirm": new, "csrf_token": token})
    assert client.get("/judge/").status_code == 200
    db.session.expire_all()
    user = db.session.get(User, judge.user_id)
    assert verify_password(user.password_hash, new) and not user.must_change_password


def test_a_too_short_password_names_its_field_and_writes_nothing(organizer_client, jury):
    en(organizer_client)
    judge = jury["judge"]
    token = csrf_token(organizer_client, f"/contests/c1/judges/{judge.id}")
    before = database_state()
    response = organizer_client.post(
        f"/contests/c1/judges/{judge.id}/password", data={"password": "short", "csrf_token": token}
    )
    assert response.status_code == 400
    assert _errors(response)[0].startswith("Temporary password:")
    assert database_state() == before


def test_reissue_a_card_link_ends_the_old_one(app, organizer_client, jury):
    judge = jury["judge"]
    old = issue_login_token(user=judge.user, contest_id=judge.contest_id)
    elsewhere = issue_login_token(user=judge.user, contest_id=None)
    db.session.commit()
    token = csrf_token(organizer_client, f"/contests/c1/judges/{judge.id}")
    response = organizer_client.post(
        f"/contests/c1/judges/{judge.id}/card", data={"csrf_token": token}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "李评委" in html and 'src="data:image/svg+xml' in html
    new_path = re.search(r"<code>[^<]*?(/login/[^<]+)</code>", html).group(1)
    db.session.commit()
    visitor = app.test_client()
    assert visitor.get(f"/login/{old}").status_code == 410
    assert visitor.get(new_path).status_code == 200
    assert visitor.get(f"/login/{elsewhere}").status_code == 200, "only this contest's links end"
    (event,) = _events("judge_link_reissue")
    assert event.new == {"judge": "李评委", "ended": 1}
    assert db.session.scalar(sa.select(sa.func.count(LoginToken.id))) == 3


def test_a_judge_sits_on_a_groups_panel(organizer_client, jury):
    group = jury["contest"].groups[0]
    url = "/contests/c1/judges/new"
    form = _judge_form(panel=str(group.id), csrf_token=csrf_token(organizer_client, url))
    assert organizer_client.post(url, data=form).status_code == 302
    judge = db.session.scalar(sa.select(Judge).where(Judge.name == "赵评委"))
    assert judge.panel_group_id == group.id
    (event,) = _events("judge_add")
    assert event.new["panel"] == group.code
    foreign = _judge_form(
        name="钱评委", panel="999999", csrf_token=csrf_token(organizer_client, url)
    )
    assert organizer_client.post(url, data=foreign).status_code == 400
