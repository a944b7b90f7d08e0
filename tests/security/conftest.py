"""Two small contests with one of everything a route can name, and a client per role.

Contest ``alpha`` is the matrix's own contest, ``beta`` another one built the same way.
Each has a published stage ``pub``, an open online stage ``prelim`` and an open roadshow
``final``; a group, a field, a tier, a special award, three entries, judges with
assignments, a submitted sheet and binding conflicts. The roles:

- ``anonymous``;
- ``judge``: alpha's judge, assigned to entry E1 and E2 in ``prelim``; a binding conflict
  with E3 (the "conflicted" ids);
- ``other_judge``: alpha's judge, assigned to E2 only;
- ``conflicted_judge``: alpha's judge with a binding conflict with E1;
- ``other_organizer``: an organizer of beta only (once organizers are scoped);
- ``organizer``: alpha's organizer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

import judging.contests.models
from judging.auth.services import issue_login_token
from judging.awards.workflow import publish_as_loaded
from judging.common.enums import Role, StageKind, StageState
from judging.contests.models import SpecialAward
from judging.extensions import db, limiter
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
    sign_in_as,
)

#: Whether organizers are scoped to the contests they were given (helper h-scope).
SCOPED = hasattr(judging.contests.models, "ContestOrganizer")

ROLES = ("anonymous", "judge", "other_judge", "conflicted_judge", "other_organizer", "organizer")


@dataclass
class World:
    """What the routes' parameters resolve to: per contest, the value of each kind."""

    values: dict[str, dict[str, str]]  # "alpha" / "beta" -> kind -> value in a URL
    conflicted: dict[str, str]  # the ids on which the judge has a binding conflict
    users: dict[str, object] = field(default_factory=dict)


def _contest(slug: str, organizer, judges: list, *, spare_organizer) -> dict[str, str]:
    # Nobody runs it but the organizer granted below (scoped organizers).
    contest = create_contest(slug, run_by=[]) if SCOPED else create_contest(slug)
    group = create_group(contest)
    fld = create_field(contest)
    pub = create_stage(contest, "pub", state=StageState.OPEN)
    prelim = create_stage(contest, "prelim")
    final = create_stage(contest, "final", kind=StageKind.ROADSHOW)
    crit = {s: create_criterion(s, group, "综合", max_points="100") for s in (pub, prelim, final)}
    e1, e2, e3 = (create_entry(contest, group, f"{slug[0].upper()}-00{i}") for i in (1, 2, 3))
    judge, other, conflicted = (create_judge(contest, user) for user in judges)
    for j in (judge, other):
        create_assignment(pub, j, e1)
        create_sheet(pub, j, e1, {crit[pub]: "80"})
        create_assignment(final, j, e1)
    create_assignment(prelim, judge, e1)
    create_assignment(prelim, judge, e2)
    create_assignment(prelim, other, e2)
    sheet = create_sheet(prelim, judge, e2, {crit[prelim]: "70"})
    conflict = create_conflict(judge, e3)
    create_conflict(conflicted, e1)
    tier = create_award_tier(pub, group)
    special = SpecialAward(
        contest_id=contest.id, name="学生团队优秀奖", rule="student_team_reached:pub"
    )
    db.session.add(special)
    db.session.flush()
    pub.state = StageState.PUBLISHED
    publish_as_loaded(pub, user=None)
    if SCOPED:
        from judging.contests.organizers import grant

        grant(contest=contest, user=organizer)
        # a colleague the contest's organizer may remove (contests.remove_organizer)
        grant(contest=contest, user=spare_organizer)
    db.session.flush()
    return {
        "contest": slug,
        "stage.open": "prelim",
        "stage.published": "pub",
        "stage.live": "final",
        "stage_id": str(prelim.id),
        "group": group.code,
        "group_id": str(group.id),
        "field_id": str(fld.id),
        "tier_id": str(tier.id),
        "special_id": str(special.id),
        "entry_id": str(e1.id),
        "judge_id": str(judge.id),
        "sheet_id": str(sheet.id),
        "conflict_id": str(conflict.id),
        "organizer_id": str(spare_organizer.id),
        "login_token": issue_login_token(user=judge.user, contest_id=contest.id),
        "_e3": str(e3.id),
    }


@pytest.fixture
def world(app) -> World:
    """Both contests, committed, and the users of the roles."""
    users = {
        "organizer": create_user("boss", role=Role.ORGANIZER),
        "other_organizer": create_user("boss-b", role=Role.ORGANIZER),
        "judge": create_user("judge-a", role=Role.JUDGE),
        "other_judge": create_user("judge-a2", role=Role.JUDGE),
        "conflicted_judge": create_user("judge-a3", role=Role.JUDGE),
    }
    # An invited organizer who never signed in: the one a new invitation link is for.
    spare = create_user("boss-c", role=Role.ORGANIZER, must_change_password=True)
    alpha = _contest(
        "alpha",
        users["organizer"],
        [users["judge"], users["other_judge"], users["conflicted_judge"]],
        spare_organizer=spare,
    )
    beta_judges = [create_user(f"judge-b{i}", role=Role.JUDGE) for i in (1, 2, 3)]
    beta = _contest("beta", users["other_organizer"], beta_judges, spare_organizer=spare)
    db.session.commit()
    conflicted = {"entry_id": alpha.pop("_e3")}
    beta.pop("_e3")
    return World({"alpha": alpha, "beta": beta}, conflicted, users)


@pytest.fixture
def clients(app, world) -> dict:
    """A test client per role, signed in as that role's user."""
    out = {}
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            sign_in_as(client, world.users[role])
        out[role] = client
    return out


_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def token_of(client, signed_in: bool) -> str:
    """The CSRF token of the client's session, read from a page with a form."""
    response = client.get("/account/password" if signed_in else "/sign-in")
    match = _TOKEN.search(response.get_data(as_text=True))
    assert match, f"no CSRF token: {response.status_code} {response.headers.get('Location')}"
    return match.group(1)


@pytest.fixture
def no_limits():
    """No rate limit while a test sends many requests (429 is no answer to check)."""
    limiter.enabled = False
    yield
    limiter.enabled = True
