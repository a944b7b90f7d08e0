"""The bench's own parts that a wrong number would come from: wrk's script and report,
and the points the bench's judges type (bench/contest_day.py)."""

from decimal import Decimal

import pytest

from bench.common import lua_rotation, parse_wrk
from bench.contest_data import demo_passwords
from bench.crowd import sheet_points

WRK_REPORT = """Running 10s test @ http://127.0.0.1:40000/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.12ms    2.01ms  45.00ms   90.00%
    Req/Sec     3.10k   200.00     3.50k    70.00%
  Latency Distribution
     50%    4.80ms
     75%    5.90ms
     90%    7.20ms
     99%    1.20s
  61234 requests in 10.01s, 12.50MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   6117.38
Transfer/sec:      1.25MB
"""


def test_wrk_report_is_read_with_units_and_every_error():
    result = parse_wrk(WRK_REPORT)
    assert result["requests_per_s"] == 6117.38
    assert result["requests"] == 61234
    assert result["p50_ms"] == 4.8
    assert result["p99_ms"] == 1200.0
    assert result["errors"] == 12
    assert result["error_kinds"] == {"read": 3, "timeout": 2, "non_2xx_3xx": 7}
    assert result["bytes_per_answer"] == pytest.approx(12.5 * 2**20 / 61234)


def test_lua_script_keeps_quotes_and_never_opens_a_long_string_by_accident():
    script = lua_rotation([("/t", {"If-None-Match": '"ab"', "Cookie": "session=x.y"}), ("/h", {})])
    assert '[ [==[If-None-Match]==] ] = [==["ab"]==]' in script
    assert "[[" not in script
    with pytest.raises(AssertionError):
        lua_rotation([("/t", {"Cookie": "a]==]b"})])


def test_bench_judges_type_points_on_the_step_within_the_maximum():
    plan = {"entry_groups": {7: 1}, "criteria": {1: [(3, "30", "0.5"), (4, "10", "1")]}}
    for judge_id in range(1, 30):
        points = sheet_points(plan, judge_id, 7)
        assert set(points) == {"c3", "c4"}
        for field, top, step in (("c3", 30, "0.5"), ("c4", 10, "1")):
            value = Decimal(points[field])
            assert 0 < value <= top
            assert value % Decimal(step) == 0


# -- bench/soak.py: the points it sends, the state it reads, what makes it fail -----------

SOAK_PLAN = {"criteria": {9: [(3, "30", "0.5"), (4, "25", "1")]}}


def test_soak_judges_send_the_same_valid_points_on_every_try():
    from bench.soak import points_for

    for judge_id in range(1, 60):
        points = points_for(SOAK_PLAN, judge_id, 9)
        assert points == points_for(SOAK_PLAN, judge_id, 9)
        for field, top, step in (("c3", 30, "0.5"), ("c4", 25, "1")):
            value = Decimal(points[field])
            assert 0 < value <= top and value % Decimal(step) == 0


def test_soak_reads_the_sheet_state_the_page_gives_its_script():
    from bench.soak import server_state

    page = """<form data-server='{&#34;state&#34;: &#34;submitted&#34;, &#34;version&#34;: 2}'>"""
    assert server_state(page) == "submitted"
    assert server_state("<p>no sheet here</p>") is None


def _soak_result(**changes):
    result = {
        "lost_count": 0,
        "lost": [],
        "wrong_count": 0,
        "wrong_points": [],
        "duplicated": 0,
        "corrupt": [],
        "chains": {"contest": {"broken": None}, "global": {"broken": None}},
        "acknowledged": 10,
        "present": 11,
        "submit_audit_events": 11,
        "errors": {},
        "idle_at_the_end": False,
        "events": [{"kind": "kill worker"}, {"kind": "kill worker"}],
    }
    return {**result, **changes}


def test_soak_fails_on_a_lost_duplicated_or_corrupt_sheet_and_a_missed_disruption():
    from bench.soak import failures

    assert failures(_soak_result(), "sqlite") == []
    assert failures(_soak_result(), "postgresql") == ["2 disruptions of 3"]
    for bad in (
        {"lost_count": 1, "lost": [("acknowledged", (1, 2), None)]},
        {"wrong_count": 1, "wrong_points": [("acknowledged", (1, 2), {}, {"c1": "3"})]},
        {"duplicated": 1},
        {"corrupt": ["row 3 missing from index"]},
        {"chains": {"contest": {"broken": "event #4 edited"}, "global": {"broken": None}}},
        {"submit_audit_events": 10},
        {"acknowledged": 0},
        {"idle_at_the_end": True},
    ):
        assert len(failures(_soak_result(**bad), "sqlite")) == 1, bad


def test_the_contest_day_bench_signs_in_with_the_demo_passwords():
    """bench/contest_day.py signs its judges and organizer in with the demo's passwords
    (it broke when the demo's sign-ins grew a column)."""
    passwords = demo_passwords()
    assert set(passwords) == {"organizer", "judge"}
    assert all(isinstance(p, str) and p for p in passwords.values())
