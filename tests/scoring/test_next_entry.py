"""After a submission, the judge's next entry (issue 15 item 2): the entry on stage or the
running order during a live roadshow, the list's order otherwise; the list when none is left."""

import re

import pytest

from judging.common.enums import StageKind, StageState
from judging.common.language import LANG_COOKIE
from judging.extensions import db
from judging.live.models import LiveState, RunningPosition
from judging.scoring.queries import entries_left, next_to_score
from tests.conftest import (
    create_assignment,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
    csrf_token,
)
from tests.scoring.test_views import post_sheet, text, url

# ------------------------------------------------------------------ the rule


@pytest.mark.parametrize(
    "order, left, current, on_stage, expected",
    [
        ([1, 2, 3, 4], [1, 2, 3, 4], 1, None, 2),  # the next one
        ([1, 2, 3, 4], [1, 3, 4], 1, None, 3),  # 2 is submitted: skipped
        ([1, 2, 3, 4], [1, 2, 4], 4, None, 1),  # past the end: round to one skipped
        ([1, 2, 3, 4], [3], 3, None, None),  # nothing but itself left
        ([1, 2, 3, 4], [], 3, None, None),
        ([3, 1, 4, 2], [1, 2, 3, 4], 3, None, 1),  # the running order, not the codes
        ([3, 1, 4, 2], [1, 2, 3, 4], 3, 2, 2),  # the entry on stage first
        ([3, 1, 4, 2], [1, 2, 3, 4], 3, 3, 1),  # on stage is the one just submitted
        ([3, 1, 4, 2], [1, 3, 4], 1, 2, 4),  # on stage is scored already: the order
        ([1, 2], [1, 2, 9], 2, None, 9),  # left but not in the order: after it
    ],
)
def test_next_to_score(order, left, current, on_stage, expected):
    assert next_to_score(order, left, current, on_stage) == expected


# ------------------------------------------------------------------ the list's order


def location(response):
    return response.headers["Location"]


def lands(client, response) -> tuple[str, str]:
    """Where a submission's redirects end (through ``scoring.next_sheet``): the path
    (without the query, which carries the submission's message) and the page's text."""
    assert response.status_code == 302
    for _hop in range(3):
        target = location(response)
        response = client.get(target)
        if response.status_code != 302:
            break
    assert response.status_code == 200, target
    return target.split("?")[0], text(response)


def test_submit_goes_to_the_next_unscored_entry_then_back_to_the_list(judge_client, arena):
    response = post_sheet(judge_client, arena, points=["30", "30", "20"], action="submit")
    next_url = f"/judge/stages/{arena.stage.id}/next?submitted={arena.entry.id}"
    assert location(response).endswith(next_url), "a plain form post: still a 302"
    landed, page = lands(judge_client, response)
    assert landed == url(arena.stage, arena.growth_entry)
    assert "已提交。" in page and "A-001" in page, "the flash of the submission comes along"
    assert "HTPO 弹性体" in page

    growth = arena.stage.criteria
    criteria = [c for c in growth if c.group_id == arena.growth_entry.group_id]
    sheet_url = url(arena.stage, arena.growth_entry)
    data = {
        "csrf_token": csrf_token(judge_client, sheet_url),
        "version": "0",
        "action": "submit",
        **{f"c{c.id}": "40" for c in criteria},
    }
    judge_client.set_cookie(LANG_COOKIE, "en")
    landed, page = lands(judge_client, judge_client.post(sheet_url, data=data))
    assert landed == "/judge/"
    assert "All done: every sheet of 决赛 is submitted." in page
    assert "Submitted. Your sheet for G-001 is locked." in page, "the last one's message too"


def test_a_submission_leaves_the_session_cookie_alone(judge_client, arena):
    """The submission's message rides in the addresses (next page, next sheet), not in the
    session: no hop on the way rewrites the cookie, not even the page that shows it."""
    response = post_sheet(judge_client, arena, points=["30", "30", "20"], action="submit")
    assert "Set-Cookie" not in response.headers
    following = judge_client.get(location(response))
    assert "Set-Cookie" not in following.headers
    assert location(following) == url(arena.stage, arena.growth_entry) + (
        f"?submitted={arena.entry.id}"
    )
    page = judge_client.get(location(following))
    assert "Set-Cookie" not in page.headers
    assert "已提交。您对 A-001 的评分表已锁定。" in text(page)


def test_the_message_in_an_address_is_shown_only_for_a_submitted_sheet(judge_client, arena):
    sheet_page = url(arena.stage, arena.growth_entry)
    # Nothing submitted yet: an address saying otherwise shows no message.
    assert "已提交。" not in text(judge_client.get(f"{sheet_page}?submitted={arena.entry.id}"))
    post_sheet(judge_client, arena, points=["30", "", ""])  # a draft
    assert "已提交。" not in text(judge_client.get(f"{sheet_page}?submitted={arena.entry.id}"))
    answer = post_sheet(
        judge_client, arena, points=["30", "30", "20"], action="submit", version="1"
    )
    assert answer.status_code == 302
    assert "已提交。" in text(judge_client.get(f"{sheet_page}?submitted={arena.entry.id}"))
    # A sheet not submitted, or an id that is no sheet at all: no message, no error.
    for bogus in ("999999", "x", "-1", "1e9", arena.growth_entry.id):
        answer = judge_client.get(f"{sheet_page}?submitted={bogus}")
        assert answer.status_code == 200 and "已提交。" not in text(answer)


def test_a_draft_still_leads_to_itself(judge_client, arena):
    response = post_sheet(judge_client, arena, points=["30", "", ""])
    assert location(response).endswith(url(arena.stage, arena.entry))


def test_a_refused_submission_stays_on_its_page(judge_client, arena):
    response = post_sheet(judge_client, arena, points=["30", "", ""], action="submit")
    assert response.status_code == 400


def test_the_next_page_is_only_for_the_stages_judges(judge_client, organizer_client, arena):
    assert organizer_client.get(f"/judge/stages/{arena.stage.id}/next").status_code == 404
    assert judge_client.get("/judge/stages/999999/next").status_code == 404
    # Without "after": the first entry left, and no "all done" message.
    response = judge_client.get(f"/judge/stages/{arena.stage.id}/next")
    assert location(response).endswith(url(arena.stage, arena.entry))


def test_entries_already_submitted_are_skipped(judge_client, arena):
    growth = [c for c in arena.stage.criteria if c.group_id == arena.growth_entry.group_id]
    create_sheet(arena.stage, arena.judge, arena.growth_entry, {c: "40" for c in growth})
    db.session.commit()
    response = post_sheet(judge_client, arena, points=["30", "30", "20"], action="submit")
    assert lands(judge_client, response)[0] == "/judge/", "the only other entry is submitted"


def test_entries_left_of_a_closed_stage_are_only_the_reopened_drafts(arena):
    closed = arena.closed
    assert entries_left(arena.judge.id, closed.id, stage_state=StageState.CLOSED) == []
    sheet = create_sheet(closed, arena.judge, arena.entry, {}, submitted=False)
    assert entries_left(arena.judge.id, closed.id, stage_state=StageState.CLOSED) == []
    sheet.reopened_at = sheet.created_at
    db.session.flush()
    assert entries_left(arena.judge.id, closed.id, stage_state=StageState.CLOSED) == [
        arena.entry.id
    ]
    left = entries_left(arena.judge.id, arena.stage.id, stage_state=StageState.OPEN)
    assert left == [arena.entry.id, arena.growth_entry.id], "by code, never a conflicted one"


def test_the_list_shows_what_is_left_first(judge_client, arena):
    create_sheet(
        arena.stage,
        arena.judge,
        arena.entry,
        dict(zip(arena.criteria, ["30", "30", "20"], strict=True)),
    )
    db.session.commit()
    page = judge_client.get("/judge/").get_data(as_text=True)
    assert page.index("G-001") < page.index("A-001"), "G-001 is left, A-001 is done"


# ------------------------------------------------------------------ a live roadshow


@pytest.fixture
def roadshow(app, judge_user):
    """A live roadshow: four entries, run in the order A-003, A-001, A-004, A-002."""
    contest = create_contest("roadshow-2020")
    angel = create_group(contest, "angel", "天使组")
    stage = create_stage(contest, "final", name="决赛", kind=StageKind.ROADSHOW)
    criterion = create_criterion(stage, angel, "路演", max_points="100", step="1")
    judge = create_judge(contest, judge_user, name="王评委")
    entries = {}
    for code in ("A-001", "A-002", "A-003", "A-004"):
        entries[code] = create_entry(contest, angel, code, title=f"项目 {code}")
        create_assignment(stage, judge, entries[code])
    for position, code in enumerate(("A-003", "A-001", "A-004", "A-002"), start=1):
        db.session.add(
            RunningPosition(
                stage_id=stage.id, group_id=angel.id, entry_id=entries[code].id, position=position
            )
        )
    db.session.commit()
    return stage, criterion, judge, entries


def submit(client, stage, criterion, entry):
    sheet_url = url(stage, entry)
    return client.post(
        sheet_url,
        data={
            "csrf_token": csrf_token(client, sheet_url),
            "version": "0",
            "action": "submit",
            f"c{criterion.id}": "80",
        },
    )


def test_a_roadshow_follows_its_running_order(judge_client, roadshow):
    stage, criterion, _judge, entries = roadshow
    response = submit(judge_client, stage, criterion, entries["A-003"])
    assert lands(judge_client, response)[0] == url(stage, entries["A-001"])
    response = submit(judge_client, stage, criterion, entries["A-001"])
    assert lands(judge_client, response)[0] == url(stage, entries["A-004"])


def test_a_roadshow_goes_to_the_entry_on_stage_first(judge_client, roadshow):
    stage, criterion, _judge, entries = roadshow
    db.session.add(LiveState(stage_id=stage.id, entry_id=entries["A-002"].id))
    db.session.commit()
    response = submit(judge_client, stage, criterion, entries["A-003"])
    assert lands(judge_client, response)[0] == url(stage, entries["A-002"]), "A-002 is on stage"
    # On stage and scored: on along the running order, after the one just submitted.
    response = submit(judge_client, stage, criterion, entries["A-002"])
    assert lands(judge_client, response)[0] == url(stage, entries["A-001"]), "round to A-001"


def test_the_list_of_a_live_roadshow_is_in_running_order_left_first(judge_client, roadshow):
    stage, criterion, _judge, entries = roadshow
    submit(judge_client, stage, criterion, entries["A-001"])
    page = judge_client.get("/judge/").get_data(as_text=True)
    codes = re.findall(r'<span class="code">(A-00\d)</span>', page)
    assert codes == ["A-003", "A-004", "A-002", "A-001"]
