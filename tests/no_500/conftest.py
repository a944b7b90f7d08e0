"""A small contest with one of everything a route can name, and ways to send any bytes."""

from __future__ import annotations

import json
from types import SimpleNamespace
from urllib.parse import quote, urlencode

import pytest

from judging.common.enums import StageKind
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
    csrf_token,
)


@pytest.fixture
def world(app, organizer, judge_user):
    """Contest ``fuzz``: an open stage ``prelim`` (two criteria, the judge on two entries,
    one sheet submitted), a live roadshow ``final``, a tier, a conflict."""
    contest = create_contest("fuzz")
    group = create_group(contest)
    field = create_field(contest)
    prelim = create_stage(contest, "prelim")
    tech = create_criterion(prelim, group, "技术", max_points="40", step="0.5")
    team = create_criterion(prelim, group, "团队", max_points="30", step="1")
    entry = create_entry(contest, group, "A001")
    scored = create_entry(contest, group, "A002")
    apart = create_entry(contest, group, "A003")
    judge = create_judge(contest, judge_user)
    for each in (entry, scored):
        create_assignment(prelim, judge, each)
    sheet = create_sheet(prelim, judge, scored, {tech: "30", team: "20"})
    conflict = create_conflict(judge, apart)
    final = create_stage(contest, "final", kind=StageKind.ROADSHOW)
    tier = create_award_tier(prelim, group)
    db.session.commit()
    return SimpleNamespace(
        contest=contest,
        group=group,
        field=field,
        prelim=prelim,
        final=final,
        criteria=(tech, team),
        entry=entry,
        scored=scored,
        judge=judge,
        sheet=sheet,
        conflict=conflict,
        tier=tier,
    )


@pytest.fixture
def no_limits():
    """Sign-in attempts are not rate-limited while a test fuzzes them (429 is no 5xx, but
    it would stop the form from being read at all)."""
    limiter.enabled = False
    yield
    limiter.enabled = True


def raw(value: str) -> bytes:
    """A string as UTF-8 bytes, lone surrogates included (as a broken client sends them)."""
    return value.encode("utf-8", "surrogatepass")


def path_part(value: str) -> str:
    """A value as one percent-encoded path segment."""
    return quote(raw(value), safe="")


def post(client, url: str, fields: dict[str, str], *, token: str | None, mode: str = "form"):
    """POST ``fields`` as a form body (urlencoded, any bytes), as JSON (the CSRF token in
    its header), or as multipart with every value sent as a file."""
    headers = {"X-CSRFToken": token} if token else {}
    if mode == "json":
        body = json.dumps(fields)  # ASCII escapes: lone surrogates arrive as such
        return client.post(url, data=body, content_type="application/json", headers=headers)
    if mode == "files":
        import io

        data = {k: (io.BytesIO(raw(v)), "x.txt") for k, v in fields.items()}
        if token:
            data["csrf_token"] = token
        return client.post(url, data=data, content_type="multipart/form-data")
    pairs = [(k, raw(v)) for k, v in fields.items()]
    if token:
        pairs.append(("csrf_token", token.encode()))
    return client.post(url, data=urlencode(pairs), content_type="application/x-www-form-urlencoded")


def token_for(client, url: str) -> str:
    """The CSRF token of a page's forms."""
    return csrf_token(client, url)
