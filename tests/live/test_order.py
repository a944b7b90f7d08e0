"""The running order of a roadshow stage (issue 14, item 4): numbered or dragged by hand, drawn
by lot with a seed that reproduces it (抽签), printed; the live control and the big screen
follow it; only organizers, with CSRF; a refused form names its field and writes nothing."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from judging.common.audit import AuditEvent
from judging.common.enums import StageKind, StageState
from judging.contests.models import Contest, Group, Stage
from judging.entries.models import Entry
from judging.extensions import db
from judging.leaderboard.cache import cache
from judging.live.draw import draw_order, normalize_seed
from judging.live.models import RunningPosition
from judging.live.queries import stage_entries
from tests.conftest import (
    create_assignment,
    create_contest,
    create_entry,
    create_group,
    create_judge,
    create_stage,
    csrf_token,
    database_state,
)

ORDER = "/contests/lots/stages/final/order"
DRAW = f"{ORDER}/draw"
PRINT = f"{ORDER}/print"
CONTROL = "/contests/lots/live/final"
LIVE_API = "/api/v1/contests/lots/live"
ANGEL = ["A-001", "A-002", "A-003", "A-004", "A-005", "A-006"]
GROWTH = ["G-001", "G-002", "G-003"]


@dataclass
class Show:
    """The objects of these tests: a contest with a live roadshow final of two groups."""

    contest: Contest
    angel: Group
    growth: Group
    final: Stage
    entries: dict[str, Entry]


@pytest.fixture(autouse=True)
def _fresh_render_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def show(app) -> Show:
    contest = create_contest("lots", name="抽签测试赛")
    angel = create_group(contest, "angel", "天使组", position=1)
    growth = create_group(contest, "growth", "成长组", position=2)
    create_stage(contest, "semi", name="复赛", state=StageState.PUBLISHED)
    final = create_stage(
        contest, "final", name="决赛", state=StageState.OPEN, kind=StageKind.ROADSHOW
    )
    judge = create_judge(contest, name="评委甲")
    entries = {}
    # Created out of code order: the code order must come from sorting, not from ids.
    for code in [*reversed(ANGEL), *GROWTH]:
        group = angel if code.startswith("A") else growth
        entries[code] = create_entry(
            contest, group, code, title=f"项目{code}", organization=f"单位{code[-1]}"
        )
        create_assignment(final, judge, entries[code])
    db.session.commit()
    return Show(contest, angel, growth, final, entries)


def _codes() -> list[str]:
    db.session.expire_all()
    return [e.code for e in stage_entries(db.session.get(Stage, _stage_id()))]


def _stage_id() -> int:
    return db.session.scalar(sa.select(Stage.id).where(Stage.code == "final"))


def _save(client, numbers: dict[str, object], show: Show, **extra):
    data = {"csrf_token": csrf_token(client, ORDER), **extra}
    for code, number in numbers.items():
        data[f"p{show.entries[code].id}"] = number
    return client.post(ORDER, data=data)


def _draw(client, **data):
    data = {"csrf_token": csrf_token(client, ORDER), "group": "", "seed": "", **data}
    return client.post(DRAW, data=data)


def _events(action: str) -> list[AuditEvent]:
    return db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def _by_hand(show: Show, angel: list[str], growth: list[str] = GROWTH) -> dict[str, int]:
    """The form's numbers for the given orders."""
    numbers = {code: n for n, code in enumerate(angel, start=1)}
    numbers.update({code: n for n, code in enumerate(growth, start=1)})
    return numbers


# ---------------------------------------------------------------- no order saved


def test_without_a_saved_order_the_stage_runs_in_code_order(show, organizer_client):
    assert _codes() == ANGEL + GROWTH
    page = organizer_client.get(ORDER).get_data(as_text=True)
    assert re.findall(r"<strong>([AG]-\d+)</strong>", page) == ANGEL + GROWTH
    overview = organizer_client.get("/contests/lots").get_data(as_text=True)
    assert ORDER in overview, "linked from the final's row on the contest overview"
    assert "/stages/semi/order" not in overview, "an online stage has no running order"
    assert organizer_client.get("/contests/lots/stages/semi/order").status_code == 404


# ---------------------------------------------------------------- by hand


def test_the_organizer_numbers_the_order_and_the_audit_keeps_old_and_new(show, organizer_client):
    angel = ["A-004", "A-001", "A-006", "A-002", "A-005", "A-003"]
    answer = _save(organizer_client, _by_hand(show, angel, ["G-003", "G-001", "G-002"]), show)
    assert answer.status_code == 302
    assert _codes() == angel + ["G-003", "G-001", "G-002"]
    (event,) = _events("running_order_save")
    assert event.old["order"]["angel"] == ANGEL
    assert event.new["order"] == {"angel": angel, "growth": ["G-003", "G-001", "G-002"]}
    assert "seed" not in event.new
    page = organizer_client.get(ORDER).get_data(as_text=True)
    assert re.findall(r"<strong>([AG]-\d+)</strong>", page)[:6] == angel
    # Saving the same numbers again writes nothing and records nothing.
    version = database_state()
    _save(organizer_client, _by_hand(show, angel, ["G-003", "G-001", "G-002"]), show)
    assert database_state() == version


def test_full_width_digits_and_spaces_are_numbers(show, organizer_client):
    numbers = _by_hand(show, list(reversed(ANGEL)))
    numbers["A-006"] = " １ "
    assert _save(organizer_client, numbers, show).status_code == 302
    assert _codes()[:6] == list(reversed(ANGEL))


def _numbers_twice(numbers, show):
    numbers["A-002"] = numbers["A-005"]
    return numbers, ["A-002", "A-005"]


def _number_missing(numbers, show):
    del numbers["A-003"]
    return numbers, ["A-003"]


def _not_a_number(numbers, show):
    numbers["A-004"] = "second"
    return numbers, ["A-004"]


def _out_of_range(numbers, show):
    numbers["G-002"] = 4  # the growth group has 3 entries
    numbers["A-001"] = 0
    return numbers, ["G-002", "A-001"]


def _empty(numbers, show):
    numbers["A-006"] = ""
    return numbers, ["A-006"]


@pytest.mark.parametrize(
    "spoil", [_numbers_twice, _number_missing, _not_a_number, _out_of_range, _empty]
)
def test_a_bad_form_names_the_field_and_changes_nothing(show, organizer_client, spoil):
    numbers, named = spoil(_by_hand(show, list(reversed(ANGEL))), show)
    before = database_state()
    answer = _save(organizer_client, numbers, show)
    assert answer.status_code == 400
    assert database_state() == before, "a refused form writes nothing, not even an event"
    page = answer.get_data(as_text=True)
    summary = re.search(r'data-testid="problems">(.*?)</div>', page, re.S).group(1)
    for code in named:
        entry = show.entries[code]
        assert re.search(rf"{code} {entry.title}[:：]", summary), f"the summary names {code}"
        field = re.search(rf'<input[^>]*name="p{entry.id}"[^>]*>', page).group(0)
        assert 'aria-invalid="true"' in field, f"{code}'s field is marked"
    marked = re.findall(r'<input[^>]*aria-invalid="true"[^>]*name="p(\d+)"', page)
    marked += re.findall(r'<input[^>]*name="p(\d+)"[^>]*aria-invalid="true"', page)
    assert {int(i) for i in marked} == {show.entries[c].id for c in named}, "only those"
    assert _codes() == ANGEL + GROWTH


def test_a_form_shown_before_an_entry_joined_is_refused_naming_it(show, organizer_client):
    token = csrf_token(organizer_client, ORDER)
    data = {"csrf_token": token}
    data.update({f"p{show.entries[c].id}": n for c, n in _by_hand(show, ANGEL).items()})
    late = create_entry(show.contest, show.angel, "A-007", title="后来者")
    create_assignment(show.final, show.contest.judges[0], late)
    db.session.commit()
    before = database_state()
    answer = organizer_client.post(ORDER, data=data)
    assert answer.status_code == 400 and database_state() == before
    summary = re.search(r'data-testid="problems">(.*?)</div>', answer.get_data(as_text=True), re.S)
    assert re.search("A-007 后来者[:：]", summary.group(1))


# ---------------------------------------------------------------- by lot


def test_the_seed_reproduces_the_order(show, organizer_client):
    assert _draw(organizer_client, seed="20201020").status_code == 302
    drawn = _codes()
    expected = []
    for group, codes in (("angel", ANGEL), ("growth", GROWTH)):
        by_hand = sorted(codes)  # what the page's explanation tells anyone to run
        random.Random(f"20201020:{group}").shuffle(by_hand)
        expected += by_hand
        assert draw_order("20201020", group, list(reversed(codes))) == by_hand
    assert drawn == expected
    assert drawn[:6] != ANGEL, "this seed does shuffle the angel group"
    # Reorder by hand, then draw again with the same seed: the same order comes back.
    _save(organizer_client, _by_hand(show, ANGEL), show)
    assert _codes() == ANGEL + GROWTH
    _draw(organizer_client, seed="２０２０１０２０ ")  # full width and a space: the same seed
    assert _codes() == drawn
    # Another seed gives another order.
    assert draw_order("20201021", "angel", ANGEL) != drawn[:6]


def test_the_audit_event_holds_the_seed_and_the_page_shows_it(show, organizer_client):
    answer = _draw(organizer_client)  # blank: a random seed
    assert answer.status_code == 302
    (event,) = _events("running_order_draw")
    seed = event.new["seed"]
    assert re.fullmatch(r"\d{6}", seed)
    assert event.new["order"]["angel"] == draw_order(seed, "angel", ANGEL)
    assert event.old["order"]["angel"] == ANGEL
    page = organizer_client.get(ORDER).get_data(as_text=True)
    assert seed in page, "the seed is shown (flash and per group)"
    assert seed in organizer_client.get(PRINT).get_data(as_text=True)
    assert db.session.scalars(sa.select(RunningPosition.seed).distinct()).all() == [seed]
    # The same seed again: nothing changes, no event.
    before = database_state()
    _draw(organizer_client, seed=seed)
    assert database_state() == before


def test_one_group_can_be_drawn_alone(show, organizer_client):
    _draw(organizer_client, group="growth", seed="7")
    assert _codes() == ANGEL + draw_order("7", "growth", GROWTH)
    (event,) = _events("running_order_draw")
    assert set(event.new["order"]) == {"growth"}


def test_a_bad_draw_form_names_the_field_and_changes_nothing(show, organizer_client):
    before = database_state()
    answer = _draw(organizer_client, seed="x" * 33)
    assert answer.status_code == 400 and database_state() == before
    assert 'name="seed"' in answer.get_data(as_text=True)
    field = re.search(r'<input[^>]*name="seed"[^>]*>', answer.get_data(as_text=True)).group(0)
    assert 'aria-invalid="true"' in field
    numbers = re.search(rf'<input[^>]*name="p{show.entries["A-001"].id}"[^>]*>', answer.text)
    assert 'value="1"' in numbers.group(0), "the order form beside it shows the saved numbers"
    answer = _draw(organizer_client, group="nobody")
    assert answer.status_code == 400 and database_state() == before
    field = re.search(r'<select[^>]*name="group"[^>]*>', answer.get_data(as_text=True)).group(0)
    assert 'aria-invalid="true"' in field


# ---------------------------------------------------------------- who may


def test_only_organizers(show, client, judge_client):
    for url in (ORDER, PRINT):
        answer = client.get(url)
        assert answer.status_code == 302 and "/sign-in" in answer.location
        assert judge_client.get(url).status_code == 404
    before = database_state()
    token = csrf_token(judge_client, "/judge/")
    for url in (ORDER, DRAW):
        answer = judge_client.post(url, data={"csrf_token": token, "seed": "1", "group": ""})
        assert answer.status_code == 404
        answer = client.post(url, data={"csrf_token": csrf_token(client), "seed": "1"})
        assert answer.status_code == 302 and "/sign-in" in answer.location
    assert database_state() == before


def test_csrf_is_required(show, organizer_client):
    before = database_state()
    numbers = {f"p{show.entries[c].id}": n for c, n in _by_hand(show, ANGEL).items()}
    assert organizer_client.post(ORDER, data=numbers).status_code == 400
    assert organizer_client.post(DRAW, data={"seed": "1", "group": ""}).status_code == 400
    assert (
        organizer_client.post(DRAW, data={"csrf_token": "forged", "seed": "1"}).status_code == 400
    )
    assert database_state() == before


# ---------------------------------------------------------------- the live final follows it


def _control_codes(client) -> list[str]:
    page = client.get(CONTROL).get_data(as_text=True)
    rows = re.findall(r'data-testid="order-row">(.*?)</tr>', page, re.S)
    return [re.search(r"<strong>([AG]-\d+)</strong>", row).group(1) for row in rows]


def _next(client):
    return client.post(f"{CONTROL}/next", data={"csrf_token": csrf_token(client, CONTROL)})


def test_the_live_control_and_the_big_screen_follow_the_stored_order(
    show, organizer_client, client
):
    _draw(organizer_client, seed="482915")
    drawn = _codes()
    assert _control_codes(organizer_client) == drawn
    live = client.get(LIVE_API).get_json()
    assert live["on_stage"] is None and live["up_next"]["code"] == drawn[0]
    seen = []
    for _ in range(len(drawn)):
        assert _next(organizer_client).status_code == 302
        live = client.get(LIVE_API).get_json()
        seen.append(live["on_stage"]["entry"]["code"])
        following = drawn[len(seen)] if len(seen) < len(drawn) else None
        assert (live["up_next"] or {}).get("code") == following
    assert seen == drawn
    screen = client.get("/screen/lots").get_data(as_text=True)
    assert drawn[-1] in screen and 'data-testid="up-next"' not in screen, "the last: none next"


def test_numbers_restart_per_group_on_the_control(show, organizer_client):
    page = organizer_client.get(CONTROL).get_data(as_text=True)
    rows = re.findall(r'data-testid="order-row">\s*<td class="num">(\d+)</td>', page)
    assert rows == ["1", "2", "3", "4", "5", "6", "1", "2", "3"]


def test_once_the_show_has_begun_a_change_needs_a_reason(show, organizer_client):
    _next(organizer_client)  # A-001 on stage
    before = database_state()
    angel = ["A-002", "A-001", *ANGEL[2:]]
    answer = _save(organizer_client, _by_hand(show, angel), show)
    assert answer.status_code == 400 and database_state() == before
    page = answer.get_data(as_text=True)
    field = re.search(r'<input[^>]*name="reason"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in field, "the reason field is shown and named"
    assert _draw(organizer_client, seed="1").status_code == 400
    assert database_state() == before
    answer = _save(organizer_client, _by_hand(show, angel), show, reason="A-002 的路演人员迟到")
    assert answer.status_code == 302 and _codes()[:6] == angel
    (event,) = _events("running_order_save")
    assert event.reason == "A-002 的路演人员迟到"
    _draw(organizer_client, seed="1", reason="重新公开抽签")
    assert _events("running_order_draw")[0].reason == "重新公开抽签"


def test_a_published_stage_keeps_its_order(show, organizer_client):
    show.final.state = StageState.PUBLISHED
    db.session.commit()
    before = database_state()
    page = organizer_client.get(ORDER).get_data(as_text=True)
    assert 'data-testid="save-order"' not in page and 'data-testid="draw"' not in page
    assert _save(organizer_client, _by_hand(show, list(reversed(ANGEL))), show).status_code == 400
    assert _draw(organizer_client, seed="1").status_code == 400
    assert database_state() == before


def test_an_entry_that_joins_after_the_draw_runs_last_in_its_group(show, organizer_client):
    _draw(organizer_client, seed="99")
    drawn = _codes()
    late = create_entry(show.contest, show.angel, "A-000", title="后来者")
    judge = show.contest.judges[0]
    create_assignment(show.final, judge, late)
    db.session.commit()
    assert _codes() == drawn[:6] + ["A-000"] + drawn[6:]
    page = organizer_client.get(ORDER).get_data(as_text=True)
    assert "A-000" in re.search(r'class="flash flash-warning">([^<]*)<', page).group(1)
    # Saving places it; the group then has no draw seed any more (the order is by hand).
    numbers = _by_hand(show, [*drawn[:6], "A-000"], drawn[6:])
    numbers["A-000"] = 7
    data = {"csrf_token": csrf_token(organizer_client, ORDER)}
    data.update(
        {
            f"p{db.session.scalar(sa.select(Entry.id).where(Entry.code == c))}": n
            for c, n in numbers.items()
        }
    )
    assert organizer_client.post(ORDER, data=data).status_code == 302
    assert _codes() == drawn[:6] + ["A-000"] + drawn[6:]


def test_a_withdrawn_entry_leaves_the_order_without_a_gap(show, organizer_client):
    _draw(organizer_client, seed="5")
    drawn = _codes()
    from judging.common.enums import EntryStatus

    db.session.get(Entry, show.entries[drawn[1]].id).status = EntryStatus.WITHDRAWN
    db.session.commit()
    assert _codes() == [drawn[0], *drawn[2:]]
    page = organizer_client.get(PRINT).get_data(as_text=True)
    rows = re.findall(
        r'data-testid="print-row">\s*<td class="num">(\d+)</td>\s*<td>([AG]-\d+)', page
    )
    assert [n for n, _ in rows] == ["1", "2", "3", "4", "5", "1", "2", "3"]


# ---------------------------------------------------------------- print


def test_the_print_view_lists_each_group_in_order_with_the_minutes(show, organizer_client):
    _draw(organizer_client, seed="482915")
    drawn = _codes()
    answer = organizer_client.get(PRINT)
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    rows = re.findall(
        r'data-testid="print-row">\s*<td class="num">(\d+)</td>\s*<td>([AG]-\d+)</td>\s*'
        r"<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*<td class=\"num\">(\d+) / (\d+)</td>",
        page,
    )
    assert [r[1] for r in rows] == drawn
    first = show.entries[drawn[0]]
    assert rows[0] == ("1", first.code, first.title, first.organization, "8", "7")
    assert "抽签测试赛" in page and "决赛" in page and "天使组" in page and "成长组" in page
    assert "csrf_token" not in page.split("<main", 1)[1], "no form on paper"


def test_normalize_seed():
    assert normalize_seed(" ４８２９１５ ") == "482915"
    assert normalize_seed("") == ""
