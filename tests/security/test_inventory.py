"""The route inventory and the url map agree: every route is in the security tests."""

from __future__ import annotations

import re

from tests.security.routes import INT_KINDS, NOT_IN_MATRIX, ROUTES


def _url_map(app) -> dict[str, tuple[str, frozenset[str], set[str], set[str]]]:
    """Each rule: its endpoint, methods, arguments, and the arguments typed ``int``."""
    rules = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_IN_MATRIX:
            continue
        ints = set(re.findall(r"<int:(\w+)>", rule.rule))
        methods = frozenset(rule.methods - {"HEAD", "OPTIONS"})
        rules[rule.rule] = (rule.endpoint, methods, set(rule.arguments), ints)
    return rules


def test_every_route_of_the_app_is_in_the_inventory_and_no_other(app):
    rules = _url_map(app)
    listed = {r.rule for r in ROUTES}
    missing = sorted(set(rules) - listed)
    gone = sorted(listed - set(rules))
    assert not missing, f"routes with no row in tests/security/routes.py: {missing}"
    assert not gone, f"rows in tests/security/routes.py for routes that no longer exist: {gone}"
    assert len(listed) == len(ROUTES), "a rule is listed twice"


def test_each_row_says_the_routes_endpoint_methods_and_what_every_parameter_names(app):
    rules = _url_map(app)
    for route in ROUTES:
        endpoint, methods, arguments, ints = rules[route.rule]
        assert route.endpoint == endpoint, route.rule
        assert route.methods == methods, f"{route.rule}: {sorted(methods)}"
        assert set(route.params) == arguments, f"{route.rule}: parameters {sorted(arguments)}"
        typed = {name for name, kind in route.params.items() if kind in INT_KINDS}
        assert typed == ints, f"{route.rule}: the ids are {sorted(ints)}"
