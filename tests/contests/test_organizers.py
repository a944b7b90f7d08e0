"""Issue 16, item 7: an organizer runs only the contests they were given.

The organizer of contest A gets 404 on every organizer route of contest B — every GET and
every POST, the inventory built from ``app.url_map`` with B's real ids in the path — and
nothing is written; B's own organizer reaches the same addresses. Contests are given and
taken on the setup page and from the command line, each change audited; the migration
gives every existing organizer every existing contest.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from judging import TestingConfig, create_app
from judging.common.audit import AuditEvent
from judging.common.enums import Role, StageKind
from judging.contests.models import Contest, ContestOrganizer, SpecialAward
from judging.contests.organizers import (
    OrganizerError,
    contests_for,
    grant,
    may_manage,
    revoke,
)
from judging.extensions import db
from judging.judges.models import Judge
from tests.conftest import (
    create_assignment,
    create_award_tier,
    create_conflict,
    create_contest,
    create_criterion,
    create_entry,
    create_field,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
    create_user,
    csrf_token,
    database_state,
    sign_in_as,
)

#: Organizer routes that name no contest: open to every organizer (creating a contest
#: gives it to its creator; templates are blank; the organizer accounts page lists every
#: account, administering only the ones that share a contest). A new organizer route
#: without a contest must be added here knowingly.
GLOBAL = {
    "contests.new_contest",
    "exports.new_contest",
    "exports.template",
    "organizers.index",
    "organizers.invite",
}

#: Path values that are not ids, per endpoint (the first valid choice of each).
KINDS = {"exports.upload": "entries", "awards.confirm": "advancement"}


def _organizer_endpoints(app) -> list[tuple[str, str, str]]:
    """(endpoint, rule, method) of every organizer-only route, GET and POST."""
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "required_roles", None) != {Role.ORGANIZER}:
            continue
        for method in sorted(rule.methods & {"GET", "POST"}):
            found.append((rule.endpoint, rule.rule, method))
    return sorted(found)


_APP = create_app(TestingConfig())
ROUTES = _organizer_endpoints(_APP)
SCOPED = [r for r in ROUTES if r[0] not in GLOBAL]


def test_the_inventory_sees_every_organizer_route():
    endpoints = {e for e, _, _ in ROUTES}
    assert endpoints >= GLOBAL
    assert len(SCOPED) > 60
    # every other organizer route names a contest, or an account (organizers.*)
    for _endpoint, rule, _method in SCOPED:
        assert "<slug>" in rule or rule.startswith("/organizers/<int:user_id>"), rule


@pytest.fixture
def two(app):
    """Contest ``b-contest`` (run by bob) with one of everything a route can name; contest
    ``a-contest`` run by alice; a judge account in B."""
    alice = create_user("alice", role=Role.ORGANIZER, contests=[])
    bob = create_user("bob", role=Role.ORGANIZER, contests=[])
    a = create_contest("a-contest", run_by=[alice])
    b = create_contest("b-contest", run_by=[bob])
    create_group(a)
    group = create_group(b)
    field = create_field(b)
    prelim = create_stage(b, "prelim")
    tech = create_criterion(prelim, group, "技术")
    entry = create_entry(b, group, "B001")
    other = create_entry(b, group, "B002")
    judge = create_judge(b, create_user("judge-b"))
    create_assignment(prelim, judge, entry)
    sheet = create_sheet(prelim, judge, entry, {tech: "20"})
    conflict = create_conflict(judge, other)
    final = create_stage(b, "final", kind=StageKind.ROADSHOW)
    tier = create_award_tier(prelim, group)
    special = SpecialAward(
        contest=b, name="最佳人气", rule="student_team_reached:prelim", prize=Decimal("1000")
    )
    db.session.add(special)
    db.session.commit()
    return SimpleNamespace(
        alice=alice,
        bob=bob,
        a=a,
        b=b,
        values={
            "slug": b.slug,
            "group": group.code,
            "target": "closed",
            "judge_id": judge.id,
            "entry_id": entry.id,
            "conflict_id": conflict.id,
            "sheet_id": sheet.id,
            "group_id": group.id,
            "field_id": field.id,
            "tier_id": tier.id,
            "award_id": special.id,
            "user_id": bob.id,
        },
        prelim=prelim,
        final=final,
    )


def _url(two, endpoint: str, rule: str) -> str:
    values = dict(two.values)
    live = endpoint.startswith("live.")  # the live final and running order: a roadshow
    values["code"] = (two.final if live else two.prelim).code
    values["kind"] = KINDS.get(endpoint, "")
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule)


def _client(app, user):
    client = app.test_client()
    sign_in_as(client, user)
    return client


@pytest.mark.parametrize(("endpoint", "rule", "method"), SCOPED, ids=lambda v: str(v))
def test_another_contests_organizer_gets_404_and_writes_nothing(app, two, endpoint, rule, method):
    url = _url(two, endpoint, rule)
    alice = _client(app, two.alice)
    token = csrf_token(alice, "/")  # a valid token of alice's own session
    before = database_state()
    if method == "GET":
        response = alice.get(url)
    else:
        response = alice.post(url, data={"csrf_token": token, "reason": "x", "username": "alice"})
    assert response.status_code == 404, (method, url)
    db.session.rollback()
    assert database_state() == before, (method, url)


@pytest.mark.parametrize(("endpoint", "rule", "method"), SCOPED, ids=lambda v: str(v))
def test_the_contests_own_organizer_reaches_the_same_addresses(app, two, endpoint, rule, method):
    """The control: the 404 above is the scope's, not a wrong address."""
    url = _url(two, endpoint, rule)
    bob = _client(app, two.bob)
    if endpoint.startswith("organizers."):
        newbie = create_user("newbie", role=Role.ORGANIZER, contests=[], must_change_password=True)
        two.values["user_id"] = newbie.id
        db.session.commit()
        url = _url(two, endpoint, rule)
    if method == "GET":
        response = bob.get(url)
    else:
        response = bob.post(url, data={"csrf_token": csrf_token(bob, "/")})
    assert response.status_code not in (404, 500), (method, url, response.status_code)


def test_the_home_page_lists_only_the_organizers_contests(app, two):
    alice, bob = _client(app, two.alice), _client(app, two.bob)
    page_a, page_b = alice.get("/").get_data(as_text=True), bob.get("/").get_data(as_text=True)
    assert "/contests/a-contest" in page_a and "/contests/b-contest" not in page_a
    assert "/contests/b-contest" in page_b and "/contests/a-contest" not in page_b
    assert [c.slug for c in contests_for(two.alice)] == ["a-contest"]
    assert not may_manage(two.alice, two.b) and may_manage(two.bob, two.b)


def _actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_an_organizer_gives_the_contest_to_another_and_takes_it_back(app, two):
    bob = _client(app, two.bob)
    setup = "/contests/b-contest/setup"
    page = bob.get(setup).get_data(as_text=True)
    assert 'id="organizers"' in page and 'data-username="bob"' in page
    token = csrf_token(bob, setup)
    response = bob.post(
        "/contests/b-contest/organizers", data={"csrf_token": token, "username": "alice"}
    )
    assert response.status_code == 302 and response.location.endswith("/setup#organizers")
    assert may_manage(two.alice, two.b)
    assert _client(app, two.alice).get("/contests/b-contest").status_code == 200
    assert 'data-username="alice"' in bob.get(setup).get_data(as_text=True)
    given = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "organizer_grant"))
    assert given.contest_id == two.b.id and given.user_id == two.bob.id
    assert given.new["username"] == "alice"

    remove = f"/contests/b-contest/organizers/{two.alice.id}/remove"
    response = bob.post(remove, data={"csrf_token": csrf_token(bob, setup)})
    assert response.status_code == 302
    assert not may_manage(two.alice, two.b)
    assert _client(app, two.alice).get("/contests/b-contest").status_code == 404
    taken = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "organizer_revoke"))
    assert taken.old["username"] == "alice" and taken.user_id == two.bob.id


@pytest.mark.parametrize(
    ("username", "error"),
    [
        ("nobody", "No organizer account has this username."),
        ("judge-b", "No organizer account has this username."),
        ("", "This field is required."),
        ("a\x01b", "Control characters are not allowed."),
        ("a\x00b", "Remove the characters that are not allowed here"),
    ],
)
def test_adding_a_username_that_is_no_organizer_is_refused(app, two, username, error):
    bob = _client(app, two.bob)
    bob.set_cookie("lang", "en")
    token = csrf_token(bob, "/contests/b-contest/setup")
    before = database_state()
    response = bob.post(
        "/contests/b-contest/organizers", data={"csrf_token": token, "username": username}
    )
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    db.session.rollback()
    assert database_state() == before


def test_the_last_organizer_cannot_be_removed(app, two):
    bob = _client(app, two.bob)
    bob.set_cookie("lang", "en")
    setup = "/contests/b-contest/setup"
    assert "/organizers/" not in bob.get(setup).get_data(as_text=True)  # no Remove button
    before = database_state()
    remove = f"/contests/b-contest/organizers/{two.bob.id}/remove"
    response = bob.post(remove, data={"csrf_token": csrf_token(bob, setup)}, follow_redirects=True)
    assert "at least one active organizer" in response.get_data(as_text=True)
    db.session.rollback()
    assert database_state() == before and may_manage(two.bob, two.b)
    # a deactivated second organizer does not count: the active one stays
    carol = create_user("carol", role=Role.ORGANIZER, contests=[two.b], is_enabled=False)
    db.session.commit()
    with pytest.raises(OrganizerError):
        revoke(contest=two.b, user=two.bob, by=two.bob)
    db.session.rollback()
    # with another active organizer, one may leave a contest oneself
    grant(contest=two.b, user=two.alice, by=two.bob)
    db.session.commit()
    response = bob.post(remove, data={"csrf_token": csrf_token(bob, setup)})
    assert response.status_code == 302 and response.location.endswith("/")
    assert not may_manage(two.bob, two.b) and may_manage(two.alice, two.b)
    kept = sa.select(ContestOrganizer.user_id).where(ContestOrganizer.contest_id == two.b.id)
    assert set(db.session.scalars(kept)) == {two.alice.id, carol.id}


def test_removing_needs_the_csrf_token_and_an_account_of_the_contest(app, two):
    bob = _client(app, two.bob)
    before = database_state()
    assert bob.post(f"/contests/b-contest/organizers/{two.bob.id}/remove").status_code == 400
    token = csrf_token(bob, "/contests/b-contest/setup")
    for user_id in (two.alice.id, 2**31, 999999):
        url = f"/contests/b-contest/organizers/{user_id}/remove"
        assert bob.post(url, data={"csrf_token": token}).status_code == 404
    db.session.rollback()
    assert database_state() == before


def test_a_judge_account_cannot_be_given_a_contest(app, two):
    with pytest.raises(OrganizerError):
        grant(contest=two.b, user=create_user("judge-x"), by=two.bob)


def test_the_organizer_accounts_page_administers_only_shared_accounts(app, two):
    alice = _client(app, two.alice)
    page = alice.get("/organizers").get_data(as_text=True)
    assert 'data-username="bob"' in page  # listed: contests are given by username
    assert f"/organizers/{two.bob.id}/deactivate" not in page
    before = database_state()
    token = csrf_token(alice, "/organizers")
    for action in ("deactivate", "reactivate", "link"):
        url = f"/organizers/{two.bob.id}/{action}"
        assert alice.post(url, data={"csrf_token": token}).status_code == 404
    db.session.rollback()
    assert database_state() == before
    # an account that runs no contest yet (a fresh invitation) is anyone's to manage
    newbie = create_user("newbie", role=Role.ORGANIZER, contests=[])
    db.session.commit()
    response = alice.post(f"/organizers/{newbie.id}/deactivate", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.refresh(newbie)
    assert not newbie.is_enabled


def test_creating_a_contest_on_the_web_gives_it_to_its_creator(app, two):
    alice = _client(app, two.alice)
    token = csrf_token(alice, "/contests/new")
    response = alice.post(
        "/contests/new",
        data={"csrf_token": token, "slug": "c-new", "name": "新赛事", "year": "2026"},
    )
    assert response.status_code == 302
    contest = db.session.scalar(sa.select(Contest).where(Contest.slug == "c-new"))
    assert may_manage(two.alice, contest) and not may_manage(two.bob, contest)


def test_a_workbook_cannot_change_another_organizers_contest(app, two):
    """Uploading a contest workbook whose slug is B's is refused as a taken address."""
    from tests.fixtures.excel import make_bad_files

    bob_slug = make_bad_files.SLUG
    from judging.imports.service import import_workbook

    import_workbook(data=make_bad_files.base_contest(), kind="contest", give_to=[two.bob])
    db.session.commit()
    theirs = db.session.scalar(sa.select(Contest).where(Contest.slug == bob_slug))
    assert may_manage(two.bob, theirs) and not may_manage(two.alice, theirs)
    alice = _client(app, two.alice)
    alice.set_cookie("lang", "en")
    before = database_state()
    token = csrf_token(alice, "/excel/import")
    import io

    response = alice.post(
        "/excel/import",
        data={
            "csrf_token": token,
            "contest-file": (io.BytesIO(make_bad_files.base_contest()), "c.xlsx"),
            "contest-update": "y",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Another contest already has this address" in response.get_data(as_text=True)
    db.session.rollback()
    assert database_state() == before
    # bob, who runs it, may bring it up to date; a new contest goes to its uploader
    bob = _client(app, two.bob)
    response = bob.post(
        "/excel/import",
        data={
            "csrf_token": csrf_token(bob, "/excel/import"),
            "contest-file": (io.BytesIO(make_bad_files.base_contest()), "c.xlsx"),
            "contest-update": "y",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302


def test_an_uploaded_new_contest_is_given_to_the_uploader(app, two):
    import io

    from tests.fixtures.excel import make_bad_files

    alice = _client(app, two.alice)
    response = alice.post(
        "/excel/import",
        data={
            "csrf_token": csrf_token(alice, "/excel/import"),
            "contest-file": (io.BytesIO(make_bad_files.base_contest()), "c.xlsx"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    contest = db.session.scalar(sa.select(Contest).where(Contest.slug == make_bad_files.SLUG))
    assert may_manage(two.alice, contest) and not may_manage(two.bob, contest)


# ------------------------------------------------------------------ the command line


def test_grant_organizer_and_create_organizer_with_contests(app, two, runner):
    result = runner.invoke(args=["grant-organizer", "alice", "b-contest"])
    assert result.exit_code == 0, result.output
    assert "alice now runs b-contest" in result.output
    db.session.expire_all()
    assert may_manage(two.alice, two.b)
    again = runner.invoke(args=["grant-organizer", "alice", "b-contest"])
    assert again.exit_code == 0 and "already runs" in again.output
    for args in (
        ["grant-organizer", "judge-b", "b-contest"],
        ["grant-organizer", "x", "b-contest"],
    ):
        assert runner.invoke(args=args).exit_code == 1
    assert runner.invoke(args=["grant-organizer", "alice", "no-such"]).exit_code == 1
    assert _actions().count("organizer_grant") == 1

    result = runner.invoke(
        args=[
            "create-organizer",
            "dora",
            "--password-stdin",
            "--contest",
            "a-contest",
            "--contest",
            "b-contest",
        ],
        input="a long enough passphrase 42\n",
    )
    assert result.exit_code == 0, result.output
    from judging.auth.models import User

    dora = db.session.scalar(sa.select(User).where(User.username == "dora"))
    assert sorted(c.slug for c in contests_for(dora)) == ["a-contest", "b-contest"]
    # an unknown contest: no account is created
    result = runner.invoke(
        args=["create-organizer", "eve", "--password-stdin", "--contest", "nope"],
        input="a long enough passphrase 42\n",
    )
    assert result.exit_code == 1
    assert db.session.scalar(sa.select(User).where(User.username == "eve")) is None


def test_import_contest_gives_the_new_contest_to_the_named_organizers(app, two, runner, tmp_path):
    from tests.fixtures.excel import make_bad_files

    path = tmp_path / "contest.xlsx"
    path.write_bytes(make_bad_files.base_contest())
    result = runner.invoke(args=["import-contest", str(path), "--organizer", "nobody"])
    assert result.exit_code == 1 and "nobody" in result.output
    result = runner.invoke(args=["import-contest", str(path), "--organizer", "alice"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    contest = db.session.scalar(sa.select(Contest).where(Contest.slug == make_bad_files.SLUG))
    assert may_manage(two.alice, contest) and not may_manage(two.bob, contest)


def test_import_contest_without_organizer_gives_it_to_every_organizer(app, two, runner, tmp_path):
    from tests.fixtures.excel import make_bad_files

    path = tmp_path / "contest.xlsx"
    path.write_bytes(make_bad_files.base_contest())
    result = runner.invoke(args=["import-contest", str(path)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    contest = db.session.scalar(sa.select(Contest).where(Contest.slug == make_bad_files.SLUG))
    assert may_manage(two.alice, contest) and may_manage(two.bob, contest)


# ------------------------------------------------------------------ the migration


def test_the_migration_gives_every_organizer_every_contest(tmp_path):
    from tests.conftest import TEST_DATABASE_URL
    from tests.fresh_database import recreate

    if TEST_DATABASE_URL.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'backfill.sqlite'}"
    else:
        import uuid

        made = sa.make_url(TEST_DATABASE_URL).set(database=f"judging_bf_{uuid.uuid4().hex[:8]}")
        url = made.render_as_string(hide_password=False)
        recreate(url)
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI = url
    app = create_app(config)
    at = sa.bindparam("at", type_=sa.DateTime(timezone=True))
    with app.app_context():
        upgrade(revision="0014")
        now = datetime.now(UTC)
        for username, role in (("o1", "organizer"), ("o2", "organizer"), ("j1", "judge")):
            db.session.execute(
                sa.text(
                    "INSERT INTO users (username, display_name, role, is_enabled, created_at, "
                    "must_change_password, session_epoch) "
                    "VALUES (:u, :u, :role, true, :at, false, 0)"
                ).bindparams(at),
                {"u": username, "role": role, "at": now},
            )
        for slug in ("one", "two", "three"):
            db.session.execute(
                sa.text(
                    "INSERT INTO contests (slug, name, year, organizers, status, data_version, "
                    "created_at, status_by_hand, is_public) "
                    "VALUES (:slug, :slug, 2020, '', 'setup', 1, :at, false, true)"
                ).bindparams(at),
                {"slug": slug, "at": now},
            )
        db.session.commit()
        db.session.remove()
        upgrade()
        pairs = db.session.execute(
            sa.select(Contest.slug, ContestOrganizer.user_id)
            .join(ContestOrganizer, ContestOrganizer.contest_id == Contest.id)
            .order_by(Contest.slug, ContestOrganizer.user_id)
        ).all()
        assert len(pairs) == 6  # two organizers × three contests, no judge
        from judging.auth.models import User

        o1 = db.session.scalar(sa.select(User).where(User.username == "o1"))
        assert [c.slug for c in contests_for(o1)] == ["one", "two", "three"]
        db.session.remove()
        downgrade(revision="0014")
        assert "contest_organizers" not in sa.inspect(db.engine).get_table_names()
        downgrade(revision="base")
        db.engine.dispose()
    if not url.startswith("sqlite"):
        made = sa.make_url(url)
        admin = sa.create_engine(made.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{made.database}" WITH (FORCE)'))
        admin.dispose()


def test_a_shared_judge_account_names_only_the_contests_one_runs(app, two):
    """A judge account on A and B: B's organizer learns it judges elsewhere (deactivating
    it reaches there too) but not A's name."""
    judge_b = db.session.scalar(sa.select(Judge).where(Judge.contest_id == two.b.id))
    create_judge(two.a, judge_b.user)
    db.session.commit()
    bob = _client(app, two.bob)
    bob.set_cookie("lang", "en")
    page = bob.get(f"/contests/b-contest/judges/{judge_b.id}").get_data(as_text=True)
    assert "also judges in: 1 contest you do not run." in page
    assert two.a.name not in page
    grant(contest=two.a, user=two.bob, by=two.alice)
    db.session.commit()
    page = bob.get(f"/contests/b-contest/judges/{judge_b.id}").get_data(as_text=True)
    assert f"also judges in: {two.a.name}." in page
