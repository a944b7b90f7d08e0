"""Shared fixtures: the app on a fresh database, clients per role, and model factories.

The suite runs on SQLite (in memory) by default and on PostgreSQL when
TEST_DATABASE_URL is set; there the schema is built once per run and every
table is emptied after each test.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import g, has_app_context
from flask.testing import FlaskClient

from judging import TestingConfig, create_app
from judging.auth.models import User
from judging.auth.passwords import hash_password
from judging.common.enums import ConflictSource, ConflictStatus, Role, SheetState, StageState
from judging.common.models import utcnow
from judging.common.sessions import stamp
from judging.contests.models import (
    AwardTier,
    Contest,
    ContestOrganizer,
    Criterion,
    Field,
    Group,
    Stage,
)
from judging.entries.models import Entry
from judging.extensions import db, limiter
from judging.judges.models import Assignment, Conflict, Judge
from judging.leaderboard.cache import cache as render_cache
from judging.scoring.models import Score, ScoreSheet
from judging.scoring.queries import sheets_with_wrong_totals
from judging.standings.groups import clear_cache

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "sqlite://")
IN_MEMORY = TEST_DATABASE_URL in ("sqlite://", "sqlite:///:memory:")
PASSWORD = "correct horse battery"
_hash_cache: dict[str, str] = {}
_counter = itertools.count(1)


def _password_hash(plain: str) -> str:
    # Argon2 is slow on purpose; tests reuse one hash per password.
    if plain not in _hash_cache:
        _hash_cache[plain] = hash_password(plain)
    return _hash_cache[plain]


@pytest.fixture(scope="session")
def _schema():
    """On a server database, build the schema once for the whole run."""
    if IN_MEMORY:
        yield
        return
    app = create_app(TestingConfig())
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def _empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(t.name for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


class FreshContextClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``.

    Tests hold an app context open (to use the factories), and Flask reuses it for
    requests; in production each request has its own, so ``g`` (the CSRF token,
    Flask-Login's current user) must not carry over from one request to the next.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def app(_schema):
    """The application on an empty database, inside an app context."""
    app = create_app(TestingConfig())
    app.test_client_class = FreshContextClient
    with app.app_context():
        if IN_MEMORY:
            db.create_all()
        limiter.reset()
        clear_cache()
        render_cache.clear()
        yield app
        try:  # every writer keeps the stored sheet totals equal to the points
            wrong = sheets_with_wrong_totals()
        except sa.exc.SQLAlchemyError:  # the test left the transaction unusable
            wrong = []
        db.session.rollback()
        if not IN_MEMORY:
            _empty_tables()
        db.session.remove()
        db.engine.dispose()
        assert not wrong, f"sheets whose stored total differs from their points: {wrong}"


@pytest.fixture
def client(app):
    """A test client with no one signed in."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for the `flask` commands."""
    return app.test_cli_runner()


def sign_in_as(client, user: User) -> None:
    """Mark the client's session as signed in as user (as Flask-Login and the sign-in's
    stamps do: judging.common.sessions)."""
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
        stamp(session, user.session_epoch)


def csrf_token(client, url: str = "/sign-in") -> str:
    """Fetch a page and return the CSRF token its forms carry."""
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def database_state() -> dict[str, str]:
    """Every table's rows (the data version and the audit log too), hashed per table: the
    same before and after means a refused request changed nothing at all."""
    state = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows = db.session.execute(sa.select(table).order_by(*order)).all()
        state[table.name] = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
    return state


def confirm_form(client, url: str) -> dict[str, str]:
    """The hidden fields of a results confirmation page (CSRF token, the fingerprint of
    what it showed), to post back as the organizer's confirmation does."""
    html = client.get(url).get_data(as_text=True)
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([0-9a-f]*)"', html)
    assert fingerprint, f"no confirmation form on {url}"
    return {"csrf_token": csrf_token(client, url), "fingerprint": fingerprint.group(1)}


# ---------------------------------------------------------------- factories


def create_user(
    username: str | None = None,
    *,
    role: Role = Role.JUDGE,
    password: str = PASSWORD,
    contests: list[Contest] | None = None,
    **kw,
) -> User:
    """Add a user with a (cached) Argon2 hash of password.

    An organizer runs ``contests``; left out, every contest there is (as an upgrade from
    before contest organizers gives them) — pass ``contests=[]`` for an organizer of none.
    """
    username = username or f"user{next(_counter)}"
    kw.setdefault("display_name", username)
    user = User(username=username, role=role, password_hash=_password_hash(password), **kw)
    db.session.add(user)
    db.session.flush()
    if role == Role.ORGANIZER:
        if contests is None:
            contests = list(db.session.scalars(sa.select(Contest)))
        _give(contests, [user])
    return user


def give_every_organizer(slug: str) -> Contest:
    """Let every organizer account run the contest ``slug`` (one loaded by ``load_demo``
    after the test's organizer was made), as the factories' contests are; returns it."""
    contest = db.session.scalar(sa.select(Contest).where(Contest.slug == slug))
    _give([contest], db.session.scalars(sa.select(User).where(User.role == Role.ORGANIZER)))
    db.session.commit()
    return contest


def _give(contests, users) -> None:
    """Rows of ContestOrganizer without audit events (the factories write no audit log)."""
    for contest in contests:
        for user in users:
            exists = db.session.scalar(
                sa.select(ContestOrganizer.id).where(
                    ContestOrganizer.contest_id == contest.id, ContestOrganizer.user_id == user.id
                )
            )
            if exists is None:
                db.session.add(ContestOrganizer(contest_id=contest.id, user_id=user.id))
    db.session.flush()


def create_contest(slug: str | None = None, *, run_by: list[User] | None = None, **kw) -> Contest:
    """Add a contest, run by the organizer accounts ``run_by``; left out, by every
    organizer account there is (``[]``: by nobody)."""
    n = next(_counter)
    contest = Contest(
        slug=slug or f"contest-{n}",
        name=kw.pop("name", f"Contest {n}"),
        year=kw.pop("year", 2020),
        **kw,
    )
    db.session.add(contest)
    db.session.flush()
    if run_by is None:
        run_by = list(db.session.scalars(sa.select(User).where(User.role == Role.ORGANIZER)))
    _give([contest], run_by)
    return contest


def create_group(contest: Contest, code: str = "angel", name: str = "天使组", **kw) -> Group:
    """Add a group to a contest."""
    group = Group(contest=contest, code=code, name=name, position=kw.pop("position", 0), **kw)
    db.session.add(group)
    db.session.flush()
    return group


def create_field(contest: Contest, name: str = "物联网") -> Field:
    """Add a field to a contest."""
    field = Field(contest=contest, name=name)
    db.session.add(field)
    db.session.flush()
    return field


def create_stage(
    contest: Contest, code: str = "prelim", *, state: StageState = StageState.OPEN, **kw
) -> Stage:
    """Add a stage, after the contest's existing ones."""
    position = kw.pop("position", len(contest.stages) + 1)
    stage = Stage(
        contest=contest, code=code, name=kw.pop("name", code), position=position, state=state, **kw
    )
    db.session.add(stage)
    db.session.flush()
    return stage


def create_criterion(
    stage: Stage, group: Group, name: str = "技术与产品", max_points="30", step="0.5", **kw
) -> Criterion:
    """Add a rubric line for (stage, group)."""
    position = kw.pop("position", len(stage.rubric(group)) + 1)
    criterion = Criterion(
        stage=stage,
        group=group,
        name=name,
        position=position,
        max_points=Decimal(str(max_points)),
        step=Decimal(str(step)),
        **kw,
    )
    db.session.add(criterion)
    db.session.flush()
    return criterion


def create_entry(contest: Contest, group: Group, code: str | None = None, **kw) -> Entry:
    """Add an entry to a contest and group."""
    entry = Entry(
        contest=contest,
        group=group,
        code=code or f"E-{next(_counter):03d}",
        title=kw.pop("title", "智能巡检机器人"),
        **kw,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def create_judge(contest: Contest, user: User | None = None, **kw) -> Judge:
    """Add a judge to a contest, with a judge account if none is given."""
    user = user or create_user(role=Role.JUDGE)
    judge = Judge(contest=contest, user=user, name=kw.pop("name", user.username), **kw)
    db.session.add(judge)
    db.session.flush()
    return judge


def create_assignment(stage: Stage, judge: Judge, entry: Entry) -> Assignment:
    """Assign a judge to an entry in a stage."""
    assignment = Assignment(stage=stage, judge=judge, entry=entry)
    db.session.add(assignment)
    db.session.flush()
    return assignment


def create_conflict(judge: Judge, entry: Entry, *, status=ConflictStatus.BINDING, **kw) -> Conflict:
    """Record a conflict between a judge and an entry."""
    conflict = Conflict(
        judge=judge,
        entry=entry,
        status=status,
        source=kw.pop("source", ConflictSource.ORGANIZER),
        reason=kw.pop("reason", "同单位"),
        **kw,
    )
    db.session.add(conflict)
    db.session.flush()
    return conflict


def create_sheet(
    stage: Stage,
    judge: Judge,
    entry: Entry,
    points: dict[Criterion, str] | None = None,
    *,
    submitted: bool = True,
    **kw,
) -> ScoreSheet:
    """Add a score sheet with the given points per criterion."""
    sheet = ScoreSheet(
        stage=stage,
        judge=judge,
        entry=entry,
        state=SheetState.SUBMITTED if submitted else SheetState.DRAFT,
        submitted_at=utcnow() if submitted else None,
        **kw,
    )
    for criterion, value in (points or {}).items():
        sheet.scores.append(Score(criterion=criterion, points=Decimal(str(value))))
    sheet.recount()
    db.session.add(sheet)
    db.session.flush()
    return sheet


def create_award_tier(stage: Stage, group: Group, name="一等奖", quota=1, prize="10000", **kw):
    """Add an award tier for (stage, group)."""
    tier = AwardTier(
        contest_id=stage.contest_id,
        stage=stage,
        group=group,
        name=name,
        quota=quota,
        prize=Decimal(str(prize)),
        position=kw.pop("position", 1),
        **kw,
    )
    db.session.add(tier)
    db.session.flush()
    return tier


# ------------------------------------------------------- signed-in clients


@pytest.fixture
def organizer(app) -> User:
    """An organizer account."""
    user = create_user("boss", role=Role.ORGANIZER, display_name="组委会")
    db.session.commit()
    return user


@pytest.fixture
def judge_user(app) -> User:
    """A judge account."""
    user = create_user("judge-a", role=Role.JUDGE, display_name="王评委")
    db.session.commit()
    return user


@pytest.fixture
def organizer_client(app, organizer):
    """A client signed in as the organizer."""
    client = app.test_client()
    sign_in_as(client, organizer)
    return client


@pytest.fixture
def judge_client(app, judge_user):
    """A client signed in as a judge."""
    client = app.test_client()
    sign_in_as(client, judge_user)
    return client
