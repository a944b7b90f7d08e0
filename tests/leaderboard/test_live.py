"""The live final: the organizer's control, Rule 8's reveal, the big screen, judges' phones."""

from datetime import timedelta

import sqlalchemy as sa

from judging.awards import workflow
from judging.awards.workflow import change_state
from judging.common.audit import AuditEvent
from judging.common.enums import Role, StageState
from judging.common.models import utcnow
from judging.contests.versions import data_version
from judging.extensions import db
from judging.leaderboard import queries
from judging.live.models import LivePhase, LiveState, Reveal
from judging.scoring import services as scoring
from judging.scoring.models import ScoreSheet
from judging.scoring.rubric import rubric_specs
from tests.conftest import create_user, csrf_token, sign_in_as
from tests.leaderboard.helpers import submit, text

CONTROL = "/contests/dalian-2020/live/final"
SCREEN = "/screen/dalian-2020"
LIVE_API = "/api/v1/contests/dalian-2020/live"


def _post(client, action: str, **data):
    data["csrf_token"] = csrf_token(client, CONTROL)
    return client.post(f"{CONTROL}/{action}", data=data)


def _version():
    db.session.expire_all()
    return data_version(queries.contest_by_slug("dalian-2020").id)


def _all_submit(board, code="A-001", totals=(91, 85, 88, 70, 99)):
    for judge, total in zip(board.judges, totals, strict=False):
        submit(board.final, judge, board.entries[code], total)


def test_the_organizer_puts_an_entry_on_stage_and_runs_the_timers(organizer_client, board, client):
    entry = board.entries["A-001"]
    version = _version()
    response = _post(organizer_client, "on-stage", entry=entry.id)
    assert response.status_code == 302 and _version() != version
    live = client.get(LIVE_API).get_json()
    assert live["on_stage"]["entry"]["code"] == "A-001"
    assert live["on_stage"]["phase"] == "idle" and live["on_stage"]["started_at"] is None
    assert live["on_stage"]["judges"] == {"assigned": 5, "submitted": 0}

    etag = client.get(LIVE_API).headers["ETag"]
    assert client.get(LIVE_API, headers={"If-None-Match": etag}).status_code == 304
    before = utcnow()
    _post(organizer_client, "timer", phase="pitch")
    response = client.get(LIVE_API, headers={"If-None-Match": etag})
    assert response.status_code == 200, "a live change renews the ETag"
    assert float(response.headers["X-Server-Time"]) > 0
    on = response.get_json()["on_stage"]
    assert on["phase"] == "pitch" and on["seconds"] == 8 * 60
    state = db.session.scalar(sa.select(LiveState))
    assert before - timedelta(seconds=1) <= state.phase_started_at <= utcnow()
    assert state.ends_at == state.phase_started_at + timedelta(minutes=8)

    board.final.qa_minutes = 6
    db.session.commit()
    _post(organizer_client, "timer", phase="qa")
    on = client.get(LIVE_API).get_json()["on_stage"]
    assert on["phase"] == "qa" and on["seconds"] == 6 * 60
    screen = client.get(SCREEN).get_data(as_text=True)
    assert 'data-seconds="360"' in screen and "06:00" in screen
    assert "started" in screen or "开始" in screen, "without JavaScript: a static start/end text"

    _post(organizer_client, "timer", phase="idle")
    assert client.get(LIVE_API).get_json()["on_stage"]["phase"] == "idle"
    assert _post(organizer_client, "timer", phase="lunch").status_code == 400


def test_next_walks_the_running_order(organizer_client, board, client):
    seen = []
    for _ in range(3):
        assert _post(organizer_client, "next").status_code == 302
        seen.append(client.get(LIVE_API).get_json()["on_stage"]["entry"]["code"])
    assert seen == ["A-001", "A-002", "G-001"], "group by group, by code"
    response = _post(organizer_client, "next")
    assert response.status_code == 400
    assert "G-001" in client.get(LIVE_API).get_json()["on_stage"]["entry"]["code"]
    _post(organizer_client, "on-stage", entry="")
    assert client.get(LIVE_API).get_json()["on_stage"] is None


def test_a_reveal_before_every_judge_has_submitted_is_refused(organizer_client, board, client):
    entry = board.entries["A-001"]
    _post(organizer_client, "on-stage", entry=entry.id)
    _all_submit(board, totals=(91, 85, 88, 70))  # four of the five
    version = _version()
    response = _post(organizer_client, "reveal", entry=entry.id)
    assert response.status_code == 409
    assert "4 / 5" in text(response) or "4 of 5" in text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reveal)) == 0
    assert _version() == version, "nothing written"
    token = csrf_token(organizer_client, CONTROL)
    as_json = organizer_client.post(
        f"{CONTROL}/reveal",
        data={"csrf_token": token, "entry": entry.id},
        headers={"Accept": "application/json"},
    )
    assert as_json.status_code == 409 and "error" in as_json.get_json()
    assert client.get(LIVE_API).get_json()["on_stage"]["reveal"] is None
    assert 'data-testid="reveal"' not in client.get(SCREEN).get_data(as_text=True)


def test_the_reveal_shows_totals_with_the_dropped_ones_struck_and_the_score(
    organizer_client, board, client
):
    entry = board.entries["A-001"]
    _post(organizer_client, "on-stage", entry=entry.id)
    _all_submit(board)  # the sixth judge has a binding conflict: not waited for
    body = client.get(f"{SCREEN}/body")
    etag = body.headers["ETag"]
    assert "5 / 5" in text(body)
    response = _post(organizer_client, "reveal", entry=entry.id)
    assert response.status_code == 302

    reveal = db.session.scalar(sa.select(Reveal))
    assert str(reveal.score) == "88.00" and reveal.cut == 1  # (85 + 88 + 91) / 3
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "live_reveal"))
    assert audit.new["score"] == "88.00" and audit.entry_id == entry.id
    assert [t["total"] for t in reveal.totals] == ["70.00", "85.00", "88.00", "91.00", "99.00"]
    body = client.get(f"{SCREEN}/body", headers={"If-None-Match": etag})
    assert body.status_code == 200, "the screen's poll gets the new score"
    html = body.get_data(as_text=True)
    assert "<s" in html and ">70.00</s>" in html and ">99.00</s>" in html
    assert "88.00" in html and 'data-testid="score"' in html
    for name in ("评委1", "评委2", "评委6"):
        assert name not in html, "the public never learns who gave what"
    live = client.get(LIVE_API).get_json()
    assert live["on_stage"]["reveal"] == {
        "score": "88.00",
        "cut": 1,
        "totals": [
            {"total": "70.00", "dropped": "low"},
            {"total": "85.00", "dropped": None},
            {"total": "88.00", "dropped": None},
            {"total": "91.00", "dropped": None},
            {"total": "99.00", "dropped": "high"},
        ],
    }
    assert live["standings"]["angel"] == [
        {
            "rank": 1,
            "code": "A-001",
            "title": "中科海洋",
            "organization": "中国科学院海洋研究所",
            "score": "88.00",
            "tiebreak": None,
        }
    ]
    assert "judge_id" not in body.get_data(as_text=True) + str(live)


def test_a_reopened_sheet_takes_its_revealed_score_off_the_screen(organizer_client, board, client):
    _all_submit(board, "A-001")
    _all_submit(board, "A-002", totals=(60, 61, 62, 63, 64))
    _post(organizer_client, "reveal", entry=board.entries["A-001"].id)
    live = client.get(LIVE_API).get_json()
    assert [r["code"] for r in live["standings"]["angel"]] == ["A-001"]
    assert "62.00" not in client.get(f"{SCREEN}/body").get_data(as_text=True)

    # The organizer reopens one of A-001's sheets: the score the room saw is withdrawn (the
    # sheet behind it is open again), and no partial score (four sheets) reaches the screen.
    sheet = db.session.scalar(
        sa.select(ScoreSheet).where(
            ScoreSheet.stage_id == board.final.id,
            ScoreSheet.entry_id == board.entries["A-001"].id,
            ScoreSheet.judge_id == board.judges[0].id,
        )
    )
    workflow.reopen_sheet(sheet=sheet, reason="笔误")
    db.session.commit()
    live = client.get(LIVE_API).get_json()
    assert live["standings"]["angel"] == [] and live["revealed"] == 0
    screen = client.get(f"{SCREEN}/body").get_data(as_text=True)
    assert "85.50" not in screen and "88.00" not in screen  # (85 + 88 + 70 + 99) / 4 is partial
    withdrawn = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "reveal_withdraw")
    )
    assert withdrawn.old["score"] == "88.00" and withdrawn.reason == "笔误"
    # Submitted again, revealed again: back on the screen with the new score.
    rubric = rubric_specs(board.final.id, board.angel.id)
    scoring.save_sheet(
        judge=board.judges[0],
        entry=board.entries["A-001"],
        stage=board.final,
        points={rubric[0].id: "94"},
        comment="",
        expected_version=db.session.get(ScoreSheet, sheet.id, populate_existing=True).version,
        submit=True,
        rubric=rubric,
    )
    db.session.commit()
    _post(organizer_client, "reveal", entry=board.entries["A-001"].id)
    live = client.get(LIVE_API).get_json()
    assert (
        live["standings"]["angel"][0]["score"] == "89.00"
    )  # (85 + 88 + 94) / 3, 70 and 99 dropped


def test_the_big_screen_counts_submissions_without_names(organizer_client, board, client):
    _post(organizer_client, "on-stage", entry=board.entries["A-002"].id)
    submit(board.final, board.judges[0], board.entries["A-002"], 80)
    submit(board.final, board.judges[1], board.entries["A-002"], 81)
    html = client.get(SCREEN).get_data(as_text=True)
    assert "2 / 5" in text(client.get(SCREEN))
    assert html.count('class="done"') == 2
    assert not any(f"评委{i}" in html for i in range(1, 7)) and "81" not in html
    control = text(organizer_client.get(CONTROL))
    assert "✓ 评委1" in control and "… 评委3" in control, "names on the organizer's page only"


def test_the_control_is_for_organizers_only_and_needs_csrf(app, board, client, judge_client):
    assert client.get(CONTROL).status_code == 302  # to sign-in
    assert judge_client.get(CONTROL).status_code == 404
    assert judge_client.get(f"{CONTROL}/panel").status_code == 404
    token = csrf_token(judge_client, "/judge/")
    response = judge_client.post(
        f"{CONTROL}/on-stage", data={"csrf_token": token, "entry": board.entries["A-001"].id}
    )
    assert response.status_code == 404
    assert client.post(f"{CONTROL}/next").status_code in (302, 400)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LiveState)) == 0
    boss = create_user("boss2", role=Role.ORGANIZER)
    db.session.commit()
    organizer = app.test_client()
    sign_in_as(organizer, boss)
    assert organizer.post(f"{CONTROL}/next").status_code == 400, "no CSRF token"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LiveState)) == 0


def test_only_a_live_roadshow_stage_has_a_control_and_a_screen(organizer_client, board, client):
    assert organizer_client.get("/contests/dalian-2020/live").headers["Location"].endswith(CONTROL)
    for code in ("prelim", "semi", "extra", "nope"):
        assert organizer_client.get(f"/contests/dalian-2020/live/{code}").status_code == 404
    outsider = board.entries["A-003"]  # takes no part in the final
    assert _post(organizer_client, "on-stage", entry=outsider.id).status_code == 400
    change_state(stage=board.final, target=StageState.DRAFT, reason="postponed")
    db.session.commit()
    assert client.get(LIVE_API).status_code == 404
    assert "决赛" not in client.get(SCREEN).get_data(as_text=True)
    assert organizer_client.get(CONTROL).status_code == 404
    assert organizer_client.get("/contests/dalian-2020/live").status_code == 200


def test_the_control_panel_answers_304_until_something_changes(organizer_client, board):
    _post(organizer_client, "on-stage", entry=board.entries["A-001"].id)
    page = organizer_client.get(CONTROL)
    assert page.status_code == 200
    panel = organizer_client.get(f"{CONTROL}/panel")
    etag = panel.headers["ETag"]
    assert f"&#34;{etag.strip(chr(34))}&#34;" in page.get_data(as_text=True)
    same = organizer_client.get(f"{CONTROL}/panel", headers={"If-None-Match": etag})
    assert same.status_code == 304
    submit(board.final, board.judges[0], board.entries["A-001"], 80)
    again = organizer_client.get(f"{CONTROL}/panel", headers={"If-None-Match": etag})
    assert again.status_code == 200 and "1 / 5" in text(again)


def test_judges_phones_show_the_entry_on_stage(organizer_client, board, app, judge_user):
    from judging.judges.models import Judge

    judge = db.session.get(Judge, board.judges[0].id)
    judge.user_id = judge_user.id
    db.session.commit()
    phone = app.test_client()
    sign_in_as(phone, judge_user)
    home = phone.get("/judge/").get_data(as_text=True)
    assert "data-live-banner" in home
    assert 'data-live-url="/api/v1/contests/dalian-2020/live"' in home

    _post(organizer_client, "on-stage", entry=board.entries["A-002"].id)
    home = phone.get("/judge/").get_data(as_text=True)
    assert "A-002 爬壁机器人" in home
    sheet_a2 = f"/judge/stages/{board.final.id}/entries/{board.entries['A-002'].id}"
    assert f'href="{sheet_a2}"' in home
    sheet_page = phone.get(f"/judge/stages/{board.final.id}/entries/{board.entries['A-001'].id}")
    html = sheet_page.get_data(as_text=True)
    assert sheet_page.status_code == 200 and f'href="{sheet_a2}"' in html
    assert "live-banner.js" in html and "data-leave-warning" in html
    on_a2 = phone.get(sheet_a2).get_data(as_text=True)
    assert "data-live-link" in on_a2 and 'href="#" hidden' in on_a2, "no link to the page itself"


def test_a_stage_state_row_is_created_once(organizer_client, board):
    for _ in range(2):
        _post(organizer_client, "on-stage", entry=board.entries["A-001"].id)
    rows = db.session.scalars(sa.select(LiveState)).all()
    assert len(rows) == 1 and rows[0].phase == LivePhase.IDLE


def test_the_big_screen_counts_the_revealed_of_its_own_group(organizer_client, board, client):
    # The final has A-001 and A-002 (天使组) and G-001 (成长组); one of each is revealed.
    _all_submit(board, "A-001")
    _all_submit(board, "G-001", totals=(60, 61, 62, 63, 64))
    _post(organizer_client, "reveal", entry=board.entries["G-001"].id)
    _post(organizer_client, "reveal", entry=board.entries["A-001"].id)
    _post(organizer_client, "on-stage", entry=board.entries["A-002"].id)
    live = client.get(LIVE_API).get_json()
    assert (live["revealed"], live["entries"]) == (2, 3), "the stage's counts stay"
    assert live["groups"] == {
        "angel": {"revealed": 1, "entries": 2},
        "growth": {"revealed": 1, "entries": 1},
    }
    assert live["focus_group"]["code"] == "angel"
    board_text = text(client.get(SCREEN))
    assert "天使组 · 已亮分" in board_text
    assert "已亮分 1 / 2 个项目" in board_text and "2 / 3" not in board_text

    # The growth group's entry on stage: the board shows that group and its own count.
    _post(organizer_client, "on-stage", entry=board.entries["G-001"].id)
    board_text = text(client.get(SCREEN))
    assert "成长组" in board_text and "已亮分 1 / 1 个项目" in board_text
