"""Exports: what the workbook holds and how it looks, formula-looking text kept as text,
contact data only for organizers, the prize list, the matrix, and the templates."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from judging.common.enums import StageState
from judging.contests.models import Contest
from judging.exports import files
from judging.exports.workbook import FONT_NAME, Sheet, Styled, build_workbook
from judging.extensions import db
from judging.imports.service import import_workbook
from tests.conftest import (
    create_assignment,
    create_contest,
    create_criterion,
    create_entry,
    create_group,
    create_judge,
    create_sheet,
    create_stage,
)
from tests.exports.conftest import counts, read, to_bytes, xlsx

TZ = "Asia/Shanghai"
INJECTION = '=HYPERLINK("http://x","y")'


def _rows(ws) -> list[list]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def _find(ws, code: str):
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == code:
                return row
    raise AssertionError(f"{code} not on {ws.title}")


def test_a_formula_looking_title_comes_back_as_text(base):
    group = base.group("angel")
    create_entry(base, group, "A-003", title=INJECTION, phone="+86 138 0000 0003")
    import_workbook(
        data=xlsx(
            {"评分": [["赛段", "评委", "编号", "技术", "团队"], ["prelim", "zhang", "A-003", 1, 2]]}
        ),
        kind="scores",
        contest=base,
    )
    db.session.commit()
    data = files.contest_workbook(base, lang="en", tz=TZ)
    wb = read(data)
    for sheet in ("entries", "Standings 初赛 天使组"):
        cells = {c.value: c for c in _find(wb[sheet], "A-003")}
        title = cells[INJECTION]
        assert title.data_type == "s" and title.quotePrefix, sheet
    phone = {c.value: c for c in _find(wb["entries"], "A-003")}["+86 138 0000 0003"]
    assert phone.data_type == "s" and phone.quotePrefix
    # No formula anywhere in the workbook.
    assert all(c.data_type != "f" for ws in wb for row in ws.iter_rows() for c in row)
    # And it imports back as the same text.
    before = counts()
    assert not import_workbook(data=data, kind="contest").changed
    assert counts() == before


def test_the_builder_never_writes_a_formula():
    risky = [INJECTION, "+1+2", "-3+4", "@SUM(A1)", "\t=1", "\r=1", "=", "plain"]
    wb = read(build_workbook([Sheet("s", ["t"], [[v] for v in risky])]))
    cells = [row[0] for row in wb["s"].iter_rows(min_row=2)]
    # (An XML parser reads a carriage return back as a line feed.)
    assert [c.value for c in cells] == [v.replace("\r", "\n") for v in risky]
    assert all(c.data_type == "s" for c in cells)
    assert [c.quotePrefix for c in cells] == [True] * 7 + [False]


def test_layout_bold_frozen_header_formats_font_print_titles(base):
    wb = read(files.contest_workbook(base, lang="en", tz=TZ))
    assert wb.sheetnames[:3] == ["Summary", "Prize list", "Standings 初赛 天使组"]
    assert wb.sheetnames[-12:] == [
        "contest",
        "groups",
        "fields",
        "stages",
        "criteria",
        "awards",
        "special_awards",
        "entries",
        "judges",
        "conflicts",
        "assignments",
        "scores",
    ]
    ws = wb["Standings 初赛 天使组"]
    header = next(r for r in ws.iter_rows() if r[0].value == "Rank")
    assert all(c.font.b for c in header if c.value)
    assert ws.freeze_panes == f"A{header[0].row + 1}"
    assert ws.print_title_rows == f"${header[0].row}:${header[0].row}"
    assert ws.page_setup.orientation == "landscape"
    score = {c.value: c for c in header}["Score"].column
    first = ws.cell(header[0].row + 1, score)
    assert first.value == Decimal("39.25") or first.value == 39.25
    assert first.number_format == "0.00"
    assert first.font.name == FONT_NAME
    assert ws.column_dimensions["C"].width >= 10


def test_contact_data_only_in_organizer_exports(base):
    prelim = base.stage("prelim")
    prelim.state = StageState.PUBLISHED
    db.session.commit()
    organizer = files.contest_workbook(base, lang="en", tz=TZ)
    public = files.public_stage_workbook(prelim, tz=TZ)

    def text(data):
        return "\n".join(
            str(c.value) for ws in read(data) for row in ws.iter_rows() for c in row if c.value
        )

    assert "13800000001" in text(organizer)
    everything = text(public)
    assert "13800000001" not in everything and "@" not in everything
    assert "张文博" not in everything  # no judges either
    assert "A-001" in everything and "智能巡检机器人" in everything


def test_prize_list_with_totals_and_a_signature_line(base):
    import_workbook(
        data=xlsx(
            {
                "评分": [
                    ["赛段", "评委", "编号", "路演"],
                    ["final", "zhang", "A-001", 90],
                    ["final", "zhang", "A-002", 80],
                ]
            }
        ),
        kind="scores",
        contest=base,
    )
    db.session.commit()
    ws = read(files.contest_workbook(base, lang="en", tz=TZ))["Prize list"]
    rows = _rows(ws)
    assert rows[0][0] == "测试大赛"
    header = rows[2]
    assert header == [
        "Group",
        "Award",
        "Rank",
        "Code",
        "Title",
        "Organization",
        "Leader",
        "Prize (yuan)",
        "Notes",
    ]
    award = next(r for r in rows if r[3] == "A-001")
    assert award[:3] + award[7:8] == ["天使组", "一等奖", 1, 10000]
    assert ws.cell(4, 8).number_format == "#,##0.00"
    assert not any(r[3] == "A-002" for r in rows)  # second in the final: no tier left
    totals = [r for r in rows if r[0] and str(r[0]).startswith(("Subtotal", "Total"))]
    assert [(r[7], r[8]) for r in totals] == [(10000, "1 awards"), (10000, "1 awards")]
    total = next(c for c in ws[len(rows) - 3] if c.value is not None)
    assert total.value.startswith("Total") and total.font.b
    assert "signature" in rows[-2][0] and rows[-3] == [None] * 9
    # The final's own export lists the same prize list, with its own total.
    stage_rows = _rows(
        read(files.stage_workbook(base.stage("final"), lang="en", tz=TZ))["Prize list"]
    )
    assert [r[7] for r in stage_rows if r[0] and str(r[0]).startswith("Total")] == [10000]
    assert (
        "Prize list"
        not in read(files.stage_workbook(base.stage("prelim"), lang="en", tz=TZ)).sheetnames
    )


def test_the_matrix_strikes_the_dropped_totals(app, english):
    contest = create_contest("matrix")
    group = create_group(contest)
    stage = create_stage(contest, "prelim", state=StageState.CLOSED)
    criterion = create_criterion(stage, group, "技术", 100, 1)
    entry = create_entry(contest, group, "A-001")
    for n, points in enumerate([70, 80, 85, 90, 99], 1):
        judge = create_judge(contest, name=f"评委{n}")
        create_assignment(stage, judge, entry)
        create_sheet(stage, judge, entry, {criterion: points})
    late = create_judge(contest, name="评委6")
    create_assignment(stage, late, entry)
    db.session.commit()
    wb = read(files.stage_workbook(stage, lang="en", tz=TZ))
    ws = wb["Matrix prelim"]
    header = next(r for r in ws.iter_rows() if r[0].value == "Group")
    row = [c for c in ws[header[0].row + 1]]
    by_judge = {h.value: c for h, c in zip(header, row, strict=True)}
    assert by_judge["Score"].value == 85  # (80 + 85 + 90) / 3
    struck = {name for name, c in by_judge.items() if c.font.strike}
    assert struck == {"评委1", "评委5"}
    assert by_judge["评委6"].value == "not submitted"


def test_a_stage_export_carries_its_score_sheets_importable_again(base):
    prelim = base.stage("prelim")
    data = files.stage_workbook(prelim, lang="en", tz=TZ)
    wb = read(data)
    assert "scores" in wb.sheetnames and "Summary" in wb.sheetnames
    before = counts()
    result = import_workbook(data=data, kind="scores", contest=base)
    assert not result.changed and result.unchanged == {"sheets": 3}
    assert counts() == before


def test_templates_have_instructions_a_header_and_an_example(app, english):
    for kind, sheet, first in (
        ("entries", "项目", "编号"),
        ("judges", "评委", "姓名"),
        ("scores", "评分", "赛段"),
    ):
        ws = read(files.template_workbook(kind, lang="zh_CN"))[sheet]
        rows = _rows(ws)
        assert len(rows) >= 3, kind
        assert "示例行" in rows[0][0]
        assert rows[1][:2] == ["示例行", first] and rows[2][0] == "示例" and rows[2][1]
        assert ws.cell(3, 2).font.i  # the example row looks like one, and says so in column A
        assert ws.cell(2, 1).font.b
    # The contest template's examples make a valid contest once their marks are cleared.
    wb = read(files.template_workbook("contest", lang="en"))
    assert wb.sheetnames[:2] == ["Guide", "contest"]
    for ws in wb.worksheets[1:]:
        assert ws["A2"].value == "example row"
        for cell in ws["A"][2:]:
            assert cell.value == "EXAMPLE"
            cell.value = None
    result = import_workbook(data=to_bytes(wb), kind="contest")
    db.session.commit()
    assert result.created["stages"] == 2 and result.created["entries"] == 1
    assert db.session.scalar(sa.select(Contest.slug)) == "demo-2024"


def test_a_stage_scores_template_has_its_criteria(base):
    ws = read(files.template_workbook("scores", lang="zh_CN", stage=base.stage("prelim")))["评分"]
    assert [c.value for c in ws[2]][1:8] == ["赛段", "评委", "编号", "技术", "团队", "市场", "备注"]


def test_text_xml_cannot_hold_is_cleaned_and_overlong_text_cut():
    ws = read(build_workbook([Sheet("s", ["t"], [["响\x07铃"], ["长" * 40_000]])]))["s"]
    assert ws["A2"].value == "响铃"
    assert len(ws["A3"].value) == 32_767


def test_styled_values_and_sparse_rows():
    data = build_workbook(
        [Sheet("s", ["a", "b", "c"], [{2: Decimal("1.5")}, [Styled("合计", "total"), None, 3]])]
    )
    ws = read(data)["s"]
    assert ws["C2"].value == 1.5 and ws["A2"].value is None
    assert ws["A3"].font.b and ws["C3"].value == 3
