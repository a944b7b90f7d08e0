"""The organizer's progress page of a stage (issue 14, item 5): per judge, per entry, what
is missing, refreshed numbers, the export and the reminder list."""

from __future__ import annotations

import io
import re

import openpyxl
import sqlalchemy as sa

from judging.common.audit import AuditEvent
from judging.common.enums import ConflictStatus, StageState
from judging.extensions import db
from judging.standings.stage_progress import stage_progress
from tests.conftest import (
    create_assignment,
    create_conflict,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
)

URL = "/contests/cx/stages/prelim"


def _contest():
    """Two judges on three entries: 甲 submitted A-1 and has a draft of A-2; 乙 has a binding
    conflict with A-3 (not needed) and has written nothing."""
    contest = create_contest("cx")
    angel = create_group(contest, "angel", "天使组")
    stage = create_stage(contest, "prelim", name="初赛", state=StageState.OPEN)
    c = create_criterion(stage, angel, "综合", max_points="100")
    a1, a2, a3 = (create_entry(contest, angel, f"A-{i}", title=f"项目{i}") for i in (1, 2, 3))
    jia, yi = create_judge(contest, name="评委甲"), create_judge(contest, name="评委乙")
    for judge in (jia, yi):
        for entry in (a1, a2, a3):
            create_assignment(stage, judge, entry)
    create_conflict(yi, a3, status=ConflictStatus.BINDING)
    create_sheet(stage, jia, a1, {c: "80"})
    create_sheet(stage, jia, a2, {c: "70"}, submitted=False)
    db.session.commit()
    return stage


def test_counts_per_judge_and_entry(app):
    stage = _contest()
    progress = stage_progress(stage)
    assert {j.name: (j.assigned, j.drafts, j.submitted) for j in progress.judges} == {
        "评委甲": (3, 1, 1),
        "评委乙": (2, 0, 0),
    }
    assert [(e.code, e.needed, e.drafts, e.submitted) for e in progress.entries] == [
        ("A-1", 2, 0, 1),
        ("A-2", 2, 1, 0),
        ("A-3", 1, 0, 0),
    ]
    assert (progress.needed, progress.submitted, progress.drafts) == (5, 1, 1)
    assert sorted((m.judge, m.entry) for m in progress.missing) == [
        ("评委乙", "A-1"),
        ("评委乙", "A-2"),
        ("评委甲", "A-2"),
        ("评委甲", "A-3"),
    ]


def test_the_page_its_numbers_and_its_export(organizer_client):
    _contest()
    page = organizer_client.get(URL + "/progress").get_data(as_text=True)
    assert (
        "评委甲" in page
        and "缺交评分表 (4)" in page
        and 'data-url="/contests/cx/stages/prelim/progress.json"' in page
    )
    numbers = organizer_client.get(URL + "/progress.json").get_json()
    assert (numbers["needed"], numbers["submitted"], numbers["drafts"]) == (5, 1, 1)
    book = openpyxl.load_workbook(io.BytesIO(organizer_client.get(URL + "/progress.xlsx").data))
    missing = [row for row in book.worksheets[2].iter_rows(values_only=True)]
    assert ("评委甲", "A-3", "未开始") in missing and ("评委甲", "A-2", "草稿") in missing


def test_the_reminder_list_names_judges_with_missing_sheets_and_gives_links(organizer_client):
    _contest()
    page = organizer_client.get(URL + "/progress").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert organizer_client.post(URL + "/reminders").status_code == 400
    text = organizer_client.post(URL + "/reminders", data={"csrf_token": token}).get_data(
        as_text=True
    )
    assert "评委甲：初赛还有 2 份评分表未提交（A-2、A-3）" in text
    assert "评委乙：初赛还有 2 份评分表未提交（A-1、A-2）" in text
    assert text.count("/login/") == 2
    issued = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "judge_links_issued")
    )
    assert sorted(issued.new["judges"]) == ["评委乙", "评委甲"]


def test_progress_is_for_organizers(judge_client, app):
    _contest()
    assert judge_client.get(URL + "/progress").status_code == 404
    assert judge_client.get(URL + "/progress.json").status_code == 404
    assert judge_client.get(URL + "/progress.xlsx").status_code == 404
