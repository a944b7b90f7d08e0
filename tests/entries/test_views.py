"""Issue 14, item 2: entries one by one — added, edited, withdrawn (退赛), disqualified
(取消资格) and reinstated by the organizer, each with an audit event; a withdrawn or
disqualified entry is kept and leaves the standings."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from judging.common.audit import AuditEvent
from judging.common.enums import EntryStatus, StageState
from judging.contests.models import Contest
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Judge
from judging.standings.groups import group_standings
from tests.conftest import (
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
)


def en(client):
    """The client, in English: the new strings' Chinese arrives with the next catalog merge."""
    client.set_cookie("lang", "en")
    return client


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def _errors(response) -> list[str]:
    return re.findall(r'<p class="error" role="alert">(.*?)</p>', response.get_data(as_text=True))


def _version(contest: Contest) -> int:
    return db.session.scalar(sa.select(Contest.data_version).where(Contest.id == contest.id))


@pytest.fixture
def scored(app):
    """A contest with two groups, a field, a closed stage and three scored entries."""
    contest = create_contest("c1", name="小赛")
    angel = create_group(contest, "angel", "天使组")
    growth = create_group(contest, "growth", "成长组", position=1)
    iot = create_field(contest, "物联网")
    stage = create_stage(contest, "prelim", name="初赛", state=StageState.CLOSED)
    crit = create_criterion(stage, angel, max_points="100")
    judge = create_judge(contest, name="李评委")
    entries = {}
    for code, points in (("A-001", "90"), ("A-002", "80"), ("A-003", "70")):
        entries[code] = create_entry(contest, angel, code, field=iot, organization="大连理工大学")
        create_sheet(stage, judge, entries[code], {crit: points})
    other = create_contest("c2")
    other_entry = create_entry(other, create_group(other), "Z-001")
    db.session.commit()
    return {
        "contest": contest,
        "angel": angel,
        "growth": growth,
        "iot": iot,
        "stage": stage,
        "entries": entries,
        "other": other_entry,
    }


def _new_entry(**changes) -> dict:
    return {
        "code": "A-010",
        "title": "海洋牧场监测",
        "group": "",
        "field": "None",
        "organization": "大连海事大学",
        "leader": "王同学",
        "is_student_team": "y",
        "phone": "13800000000",
        "email": "team@example.com",
        "summary": "简介",
        **changes,
    }


def test_the_entries_page_lists_entries_by_group_with_their_status(organizer_client, scored):
    scored["entries"]["A-002"].status = EntryStatus.WITHDRAWN
    db.session.commit()
    page = organizer_client.get("/contests/c1/entries")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('data-code="') == 3 and "Z-001" not in html
    row = re.search(r'data-code="A-002">(.*?)</tr>', html, re.S).group(1)
    assert "已退赛" in row
    filtered = organizer_client.get("/contests/c1/entries?status=withdrawn&q=A-00")
    assert filtered.get_data(as_text=True).count('data-code="') == 1
    nothing = organizer_client.get("/contests/c1/entries?q=%00%25_x&group=abc&page=-3")
    assert nothing.status_code == 200 and 'data-code="' not in nothing.get_data(as_text=True)


def test_a_judge_or_a_visitor_cannot_reach_the_entries_pages(judge_client, client, scored):
    entry = scored["entries"]["A-001"]
    for url in (
        "/contests/c1/entries",
        "/contests/c1/entries/new",
        f"/contests/c1/entries/{entry.id}/edit",
    ):
        assert judge_client.get(url).status_code == 404
        assert client.get(url).status_code == 302
    token = csrf_token(judge_client, "/judge/")
    before = database_state()
    response = judge_client.post(
        f"/contests/c1/entries/{entry.id}/status",
        data={"status": "withdrawn", "reason": "x", "csrf_token": token},
    )
    assert response.status_code == 404
    assert database_state() == before


def test_add_an_entry(organizer_client, scored):
    version = _version(scored["contest"])
    token = csrf_token(organizer_client, "/contests/c1/entries/new")
    data = _new_entry(group=str(scored["growth"].id), field=str(scored["iot"].id), csrf_token=token)
    response = organizer_client.post("/contests/c1/entries/new", data=data)
    assert response.status_code == 302
    entry = db.session.scalar(sa.select(Entry).where(Entry.code == "A-010"))
    assert (entry.group.code, entry.field.name, entry.is_student_team, entry.email) == (
        "growth",
        "物联网",
        True,
        "team@example.com",
    )
    assert entry.status == EntryStatus.REGISTERED
    (event,) = _events("entry_add")
    assert event.contest_id == scored["contest"].id and event.entry_id == entry.id
    assert event.new["code"] == "A-010" and event.new["group"] == "成长组"
    assert _version(scored["contest"]) > version


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"code": "A-001"}, "Code", "already used"),
        ({"code": ""}, "Code", "required"),
        ({"code": "A 1"}, "Code", "no spaces"),
        ({"code": "x" * 33}, "Code", "32"),
        ({"title": ""}, "Title", "required"),
        ({"group": "999999"}, "Group", "Not a valid choice"),
        ({"group": "abc"}, "Group", "Not a valid choice"),
        ({"field": "999999"}, "Field", "Not a valid choice"),
        ({"email": "not an address"}, "Email", "email"),
        ({"summary": "长" * 10_001}, "Summary", "10000"),
    ],
)
def test_a_refused_entry_names_its_field_and_writes_nothing(
    organizer_client, scored, changes, field, message
):
    en(organizer_client)
    token = csrf_token(organizer_client, "/contests/c1/entries/new")
    data = _new_entry(group=str(scored["angel"].id), csrf_token=token)
    data.update(changes)
    before = database_state()
    response = organizer_client.post("/contests/c1/entries/new", data=data)
    assert response.status_code == 400
    errors = _errors(response)
    assert errors and errors[0].startswith(f"{field}:") and message in errors[0], errors
    assert database_state() == before


def test_a_group_or_field_of_another_contest_is_not_a_choice(organizer_client, scored):
    en(organizer_client)
    token = csrf_token(organizer_client, "/contests/c1/entries/new")
    other_group = scored["other"].group_id
    before = database_state()
    response = organizer_client.post(
        "/contests/c1/entries/new", data=_new_entry(group=str(other_group), csrf_token=token)
    )
    assert response.status_code == 400 and _errors(response)[0].startswith("Group:")
    assert database_state() == before


def test_an_entry_without_the_csrf_token_is_refused(organizer_client, scored):
    before = database_state()
    data = _new_entry(group=str(scored["angel"].id))
    assert organizer_client.post("/contests/c1/entries/new", data=data).status_code == 400
    assert database_state() == before


def test_nul_characters_never_reach_the_database(organizer_client, scored):
    token = csrf_token(organizer_client, "/contests/c1/entries/new")
    data = _new_entry(
        group=str(scored["angel"].id), title="海洋\x00牧场", summary="a\x00b", csrf_token=token
    )
    assert organizer_client.post("/contests/c1/entries/new", data=data).status_code == 302
    entry = db.session.scalar(sa.select(Entry).where(Entry.code == "A-010"))
    assert (entry.title, entry.summary) == ("海洋牧场", "ab")


def test_edit_an_entry(organizer_client, scored):
    entry = scored["entries"]["A-001"]
    page = organizer_client.get(f"/contests/c1/entries/{entry.id}/edit")
    assert page.status_code == 200 and 'value="A-001"' in page.get_data(as_text=True)
    version = _version(scored["contest"])
    token = csrf_token(organizer_client, f"/contests/c1/entries/{entry.id}/edit")
    data = _new_entry(
        code="A-001",
        title="新标题",
        group=str(scored["angel"].id),
        field=str(scored["iot"].id),
        organization="大连理工大学",
        leader="",
        is_student_team="",
        phone="",
        email="",
        summary="",
        csrf_token=token,
    )
    response = organizer_client.post(f"/contests/c1/entries/{entry.id}/edit", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Entry, entry.id).title == "新标题"
    (event,) = _events("entry_edit")
    assert event.old == {"title": "智能巡检机器人"} and event.new == {"title": "新标题"}
    assert _version(scored["contest"]) > version
    # Saving the same again records nothing.
    organizer_client.post(f"/contests/c1/entries/{entry.id}/edit", data=data)
    assert len(_events("entry_edit")) == 1


def test_an_entry_of_another_contest_is_not_found(organizer_client, scored):
    other = scored["other"]
    token = csrf_token(organizer_client, "/contests/c1/entries/new")
    before = database_state()
    for url in (f"/contests/c1/entries/{other.id}/edit", f"/contests/c1/entries/{other.id}/status"):
        assert organizer_client.get(url).status_code == 404
        data = {"status": "withdrawn", "code": "Q", "title": "t", "csrf_token": token}
        assert organizer_client.post(url, data=data).status_code == 404
    assert organizer_client.get("/contests/c1/entries/99999999999/edit").status_code == 404
    assert database_state() == before


def test_a_scored_entry_keeps_its_group_and_a_code_cannot_be_taken(organizer_client, scored):
    en(organizer_client)
    entry = scored["entries"]["A-001"]
    url = f"/contests/c1/entries/{entry.id}/edit"
    token = csrf_token(organizer_client, url)
    before = database_state()
    moved = _new_entry(code="A-001", group=str(scored["growth"].id), csrf_token=token)
    response = organizer_client.post(url, data=moved)
    assert response.status_code == 400
    assert _errors(response)[0].startswith("Group:") and "score sheets" in _errors(response)[0]
    taken = _new_entry(code="A-002", group=str(scored["angel"].id), csrf_token=token)
    response = organizer_client.post(url, data=taken)
    assert response.status_code == 400 and "A-002" in _errors(response)[0]
    assert database_state() == before


def _status(client, entry, status, reason=""):
    url = f"/contests/c1/entries/{entry.id}/status"
    return client.post(
        url, data={"status": status, "reason": reason, "csrf_token": csrf_token(client, url)}
    )


def _ranked(scored) -> list[tuple[str, int | None]]:
    db.session.expire_all()
    standings = group_standings(scored["stage"], scored["angel"])
    return [(row.code, row.rank) for row in standings.rows]


def test_a_withdrawn_entry_leaves_the_standings_and_comes_back_reinstated(organizer_client, scored):
    assert _ranked(scored) == [("A-001", 1), ("A-002", 2), ("A-003", 3)]
    entry = scored["entries"]["A-001"]
    page = organizer_client.get(f"/contests/c1/entries/{entry.id}/status?to=withdrawn")
    assert page.status_code == 200
    version = _version(scored["contest"])
    assert _status(organizer_client, entry, "withdrawn").status_code == 302
    assert _ranked(scored) == [("A-002", 1), ("A-003", 2)]
    assert _version(scored["contest"]) > version
    db.session.expire_all()
    kept = db.session.get(Entry, entry.id)
    assert kept.status == EntryStatus.WITHDRAWN and len(_events("entry_withdraw")) == 1
    with force_locale("zh_CN"):
        assert str(kept.status.title) == "已退赛"
    # Reinstating needs a reason, and brings it back.
    en(organizer_client)
    refused = _status(organizer_client, kept, "registered")
    assert refused.status_code == 400 and _errors(refused)[0].startswith("Reason:")
    assert _status(organizer_client, kept, "registered", "误操作").status_code == 302
    assert _ranked(scored)[0] == ("A-001", 1)
    (event,) = _events("entry_reinstate")
    assert event.reason == "误操作" and event.old["status"] == "withdrawn"


def test_a_disqualification_needs_a_reason_and_is_kept_with_it(organizer_client, scored):
    en(organizer_client)
    entry = scored["entries"]["A-002"]
    before = database_state()
    response = _status(organizer_client, entry, "disqualified", "  ")
    assert response.status_code == 400 and _errors(response)[0].startswith("Reason:")
    assert database_state() == before
    assert _status(organizer_client, entry, "disqualified", "抄袭").status_code == 302
    db.session.expire_all()
    entry = db.session.get(Entry, entry.id)
    assert (entry.status, entry.status_reason) == (EntryStatus.DISQUALIFIED, "抄袭")
    assert [code for code, _ in _ranked(scored)] == ["A-001", "A-003"]
    (event,) = _events("entry_disqualify")
    assert event.entry_id == entry.id and event.reason == "抄袭"
    html = organizer_client.get("/contests/c1/entries").get_data(as_text=True)
    row = re.search(r'data-code="A-002">(.*?)</tr>', html, re.S).group(1)
    assert "Disqualified" in row and "抄袭" in row


@pytest.mark.parametrize("status", ["", "gone", "registered"])
def test_a_bad_or_unchanged_status_is_refused(organizer_client, scored, status):
    en(organizer_client)
    before = database_state()
    response = _status(organizer_client, scored["entries"]["A-001"], status, "原因")
    assert response.status_code == 400
    assert _errors(response)[0].startswith("New status:")
    assert database_state() == before


def test_a_status_change_without_the_csrf_token_is_refused(organizer_client, scored):
    entry = scored["entries"]["A-001"]
    before = database_state()
    url = f"/contests/c1/entries/{entry.id}/status"
    assert organizer_client.post(url, data={"status": "withdrawn"}).status_code == 400
    assert database_state() == before


def test_an_entry_in_a_published_stage_keeps_its_status_and_code(organizer_client, scored):
    en(organizer_client)
    scored["stage"].state = StageState.PUBLISHED
    db.session.commit()
    entry = scored["entries"]["A-001"]
    before = database_state()
    response = _status(organizer_client, entry, "withdrawn")
    assert response.status_code == 400 and "published" in _errors(response)[0]
    url = f"/contests/c1/entries/{entry.id}/edit"
    token = csrf_token(organizer_client, url)
    response = organizer_client.post(
        url, data=_new_entry(code="A-100", group=str(scored["angel"].id), csrf_token=token)
    )
    assert response.status_code == 400 and _errors(response)[0].startswith("Code:")
    assert database_state() == before


def test_a_nul_in_the_slug_is_no_contest(organizer_client, scored):
    entry = scored["entries"]["A-001"]
    for url in (
        "/contests/c1%00/entries",
        f"/contests/c1%00/entries/{entry.id}/edit",
        "/contests/c1%00/judges/new",
    ):
        assert organizer_client.get(url).status_code == 404, url


def test_a_judge_no_longer_sees_a_withdrawn_entry_in_their_list(app, organizer_client, scored):
    from tests.conftest import create_assignment, sign_in_as

    stage, judge = scored["stage"], db.session.scalars(sa.select(Judge)).first()
    stage.state = StageState.OPEN
    for entry in scored["entries"].values():
        create_assignment(stage, judge, entry)
    db.session.commit()
    client = app.test_client()
    sign_in_as(client, judge.user)
    assert "A-001" in client.get("/judge/").get_data(as_text=True)
    _status(organizer_client, scored["entries"]["A-001"], "withdrawn")
    html = client.get("/judge/").get_data(as_text=True)
    assert "A-001" not in html and "A-002" in html
