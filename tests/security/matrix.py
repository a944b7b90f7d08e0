"""The cases of the access matrix, built from the route inventory.

A case is (route, role, ids, method) with the answer expected: ``ok`` (the page, 2xx/3xx;
for a state-changing method: not refused and no 5xx), ``404`` (refused or missing, the
same answer), ``sign-in`` (anonymous on a private route: the sign-in redirect), or
``scoped`` (an organizer on a contest that is not theirs: 404 once organizers are scoped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from werkzeug.exceptions import HTTPException

from tests.security.routes import (
    ANY_ORGANIZER,
    ASSIGNED,
    CONTEST_JUDGE,
    INT_KINDS,
    JUDGE,
    ORGANIZER,
    PUBLIC,
    SIGNED_IN,
    Route,
)

#: Ids out of every column's range, or of none: past int32 (PostgreSQL's integer), past
#: int64 (SQLite's), negative, zero.
OUT_OF_RANGE = (str(2**31), str(2**63), "-1", "0")
MISSING = {"int": "999999", "str": "nope"}
#: Kinds that are the same for every contest.
SHARED = frozenset({"organizer_id"})
JUDGES = frozenset({"judge", "other_judge", "conflicted_judge"})
ORGANIZERS = {"organizer": "alpha", "other_organizer": "beta"}
_ARG = re.compile(r"<(?:[a-z]+:)?(\w+)>")


@dataclass(frozen=True)
class Case:
    """One request of the matrix and the answer it must get."""

    route: Route
    role: str
    ids: str  # own / foreign / mixed / conflicted / missing <param> / <param>=<value>
    values: tuple[tuple[str, str], ...]
    method: str
    expect: str

    @property
    def url(self) -> str:
        values = dict(self.values)
        return _ARG.sub(lambda m: quote(values[m.group(1)], safe=""), self.route.rule)

    def __str__(self) -> str:
        return f"{self.role} {self.method} {self.url} ({self.ids}): expected {self.expect}"


def _resolve(route: Route, contest: dict[str, str], **override: str) -> dict[str, str]:
    values = {}
    for name, kind in route.params.items():
        values[name] = kind[1:] if kind.startswith("=") else contest[kind]
    values.update(override)
    return values


def id_sets(route: Route, world) -> list[tuple[str, dict[str, str]]]:
    """The parameter values a route is tried with: own, another contest's, mixed (own
    contest, another's objects), conflicted, and each parameter missing or out of range."""
    alpha, beta = world.values["alpha"], world.values["beta"]
    sets = [("own", _resolve(route, alpha))]
    scoped = [n for n, k in route.params.items() if not k.startswith("=") and k not in SHARED]
    if scoped:
        sets.append(("foreign", _resolve(route, beta)))
        # Codes (of stages, groups) repeat across contests; ids do not.
        ids = {n: beta[k] for n, k in route.params.items() if k in INT_KINDS and k not in SHARED}
        if "slug" in scoped and ids:
            sets.append(("mixed", _resolve(route, alpha, **ids)))
    for name, kind in route.params.items():
        if kind in world.conflicted:
            sets.append(("conflicted", _resolve(route, alpha, **{name: world.conflicted[kind]})))
    for name, kind in route.params.items():
        if kind.startswith("="):
            sets.append((f"missing {name}", _resolve(route, alpha, **{name: "nope"})))
            continue
        missing = MISSING["int" if kind in INT_KINDS else "str"]
        sets.append((f"missing {name}", _resolve(route, alpha, **{name: missing})))
        if kind in INT_KINDS:
            sets.extend((f"{name}={v}", _resolve(route, alpha, **{name: v})) for v in OUT_OF_RANGE)
    return sets


def expectation(route: Route, role: str, ids: str) -> str:
    """The answer a role must get on a route with these ids."""
    valid = ids in ("own", "foreign", "conflicted")
    if route.access == PUBLIC:
        return "ok" if ids in ("own", "foreign") else "404"
    if role == "anonymous":
        return "sign-in"
    if not valid:
        return "404"
    access = route.access
    if access == SIGNED_IN:
        return "ok"
    if access == JUDGE:
        return "ok" if role in JUDGES else "404"
    if access == ANY_ORGANIZER:
        return "ok" if role in ORGANIZERS else "404"
    if access == CONTEST_JUDGE:
        return "ok" if role in JUDGES and ids == "own" else "404"
    if access == ASSIGNED:
        return "ok" if role == "judge" and ids == "own" else "404"
    assert access == ORGANIZER, access
    if role not in ORGANIZERS:
        return "404"
    contest = "beta" if ids == "foreign" else "alpha"
    return "ok" if ORGANIZERS[role] == contest else "scoped"


def routes_to_a_view(app, url: str, method: str) -> bool:
    """Whether the url map sends the URL to a view at all (``<int:>`` takes no ``-1``)."""
    adapter = app.url_map.bind("localhost")
    try:
        adapter.match(url.split("?")[0], method=method)
    except HTTPException:
        return False
    return True


def cases(app, route: Route, world, roles) -> list[Case]:
    """Every case of one route: each role with each id set and each method."""
    out = []
    for ids, values in id_sets(route, world):
        for role in roles:
            expect = expectation(route, role, ids)
            for method in sorted(route.methods):
                case = Case(route, role, ids, tuple(values.items()), method, expect)
                if not routes_to_a_view(app, case.url, method):
                    case = Case(route, role, ids, case.values, method, "404")
                out.append(case)
    return out


#: The requests that end or replace the client's own session.
SESSION_ENDERS = frozenset({"auth.link_sign_in", "auth.sign_out"})


def allowed_order(case: Case) -> tuple[bool, bool, bool]:
    """The order in which allowed requests run on one world: pages, then the judges' own
    writes, then the organizers' (which may sign a judge out or reset a password), then
    whatever ends the client's own session."""
    return (
        case.method != "GET",
        case.route.endpoint in SESSION_ENDERS,
        case.route.access in (ORGANIZER, ANY_ORGANIZER),
    )
