"""Reading what people's spreadsheets really look like: title rows, merged titles, blank
rows, headers in either language and any order, full-width characters, odd spaces, numbers
stored as text and codes stored as numbers; and the hard limits."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from judging.entries.models import Entry
from judging.extensions import db
from judging.imports.problems import ImportRejected
from judging.imports.reader import Book, ExcelRefused, Formula, Limits, number
from judging.imports.service import import_workbook
from judging.imports.spec import ENTRIES, header_key
from judging.imports.table import clean_key, clean_text, parse_number, read_table, split_list
from tests.exports.conftest import blank_workbook, counts, to_bytes, xlsx
from tests.fixtures.excel.make_bad_files import BASE


def test_numbers_come_back_exactly_as_typed():
    assert number("27.5") == Decimal("27.5")
    assert number("0.30000000000000004") == Decimal("0.3")  # a float's noise, trimmed
    assert number("13800006499") == Decimal("13800006499")
    assert number("1E+2") == Decimal("100")


def test_text_is_normalized_the_way_spreadsheets_need():
    assert clean_text("\u00a0 智能巡检\u3000机器人 \u200b") == "智能巡检 机器人"
    assert clean_text("ＨＴＰＯ弹性体１２３") == "HTPO弹性体123"
    # Full-width punctuation in free text stays (only letters and digits are folded).
    assert clean_text("中科海洋——构筑（第一道）防线，") == "中科海洋——构筑（第一道）防线，"
    assert clean_text("第一行\r\n 第二行 ", multiline=True) == "第一行\n第二行"
    assert clean_key("Ａ－００７ ") == "A-007"
    assert clean_key(Decimal("7")) == "7"
    assert clean_key(Decimal("7.0")) == "7"
    assert clean_key(Decimal("13800006499")) == "13800006499"
    assert split_list("物联网、大数据，新材料; 生物技术  海洋科技") == [
        "物联网",
        "大数据",
        "新材料",
        "生物技术",
        "海洋科技",
    ]
    assert parse_number("２７．５") == Decimal("27.5")
    assert parse_number(" 30% ") == Decimal("0.3")
    assert parse_number("abc") is None


def test_headers_match_in_either_language_with_notes_and_odd_spacing():
    lookup = ENTRIES.lookup
    assert lookup[header_key("学生团队（是/否）")] == "student_team"
    assert lookup[header_key("Student Team")] == "student_team"
    assert lookup[header_key(" 编 号 *")] == "code"
    assert lookup[header_key("E-mail")] == "email"


def test_title_rows_merged_title_and_blank_rows_above_an_english_header_in_any_order():
    wb = blank_workbook()
    ws = wb.create_sheet("报名表")
    ws.append(["2024年大赛报名汇总表"])
    ws.merge_cells("A1:E1")
    ws.append([])
    ws.append(["(截至 6 月 30 日)"])
    ws.append(["Group", "Title", "Code", "Student team", "Phone"])
    ws.append(["天使组", "智能巡检", 7, "Y", 13800000000])
    ws.append([])
    ws.append(["成长组 ", "\u00a0弹性体 ", "G-１", "0", "138 0000 0001"])
    book = Book(to_bytes(wb))
    problems = []
    table = read_table(book, "报名表", ENTRIES, problems)
    assert problems == []
    assert table.header_row == 4
    assert table.columns == {"group": 1, "title": 2, "code": 3, "student_team": 4, "phone": 5}
    assert [row for row, _ in table.rows] == [5, 7]


def test_a_file_with_these_quirks_imports_normalized(base):
    data = xlsx(
        {
            "Sheet1": [
                ["新报名项目"],
                [],
                ["title", "group", "code", "student_team", "phone", "organization"],
                ["\u00a0微塑料检测仪 ", "天使组", 7, "是", 13800006499, "ＤＬＵＴ　大学"],
                ["复合材料", "growth", "G-００２", "no", "13800000002", None],
            ]
        }
    )
    result = import_workbook(data=data, kind="entries", contest=base)
    db.session.commit()
    assert result.created["entries"] == 2
    seven = db.session.scalar(sa.select(Entry).where(Entry.code == "7"))
    assert (seven.title, seven.group.code, seven.is_student_team) == ("微塑料检测仪", "angel", True)
    assert seven.phone == "13800006499"
    assert seven.organization == "DLUT 大学"
    assert db.session.scalar(sa.select(Entry.title).where(Entry.code == "G-002")) == "复合材料"


def test_rows_marked_in_the_example_column_are_set_apart_wherever_the_column_is():
    wb = blank_workbook()
    ws = wb.create_sheet("entries")
    ws.append(["code", "title", "group", "示例行 / Example Row"])
    ws.append(["A-001", "示例项目", "天使组", "EXAMPLE"])
    ws.append(["A-002", "真实项目", "天使组", None])
    ws.append(["A-003", "改过的示例", "天使组", " 示例 "])
    ws.append(["A-004", "清空了标记", "天使组", "\u3000"])
    problems = []
    table = read_table(Book(to_bytes(wb)), "entries", ENTRIES, problems)
    assert problems == [] and table.extra == {}  # the mark's column is no unknown column
    assert [row for row, _ in table.rows] == [3, 5]
    assert [(p.code, p.row, p.place, p.value) for p in table.examples] == [
        ("example_row", 2, "D 示例行 / Example Row", "EXAMPLE"),
        ("example_row", 4, "D 示例行 / Example Row", " 示例 "),
    ]


def test_a_marked_row_refuses_the_file_even_when_edited_and_a_cleared_one_imports(base):
    header = ["示例行", *BASE["项目"][0]]
    edited = ["示例", "A-030", "真实的项目", "天使组", None, None, "否", None]
    real = [None, "A-031", "另一个项目", "成长组", None, None, "否", None]
    before = counts()
    for dry_run in (False, True):
        with pytest.raises(ImportRejected) as caught:
            import_workbook(
                data=xlsx({"项目": [header, edited, real]}),
                kind="entries",
                contest=base,
                dry_run=dry_run,
            )
        [problem] = caught.value.problems
        assert (problem.code, problem.sheet, problem.row, problem.place) == (
            "example_row",
            "项目",
            2,
            "A 示例行",
        )
        assert "even when its other cells were changed" in problem.reason
        db.session.rollback()
        assert counts() == before
    edited[0] = None
    result = import_workbook(
        data=xlsx({"项目": [header, edited, real]}), kind="entries", contest=base
    )
    db.session.commit()
    assert result.created == {"entries": 2}


def test_formula_cells_are_read_as_formulas_not_their_cached_values():
    data = xlsx({"项目": [["编号"], ["=1+1"]]})
    rows = list(Book(data).rows("项目"))
    assert isinstance(rows[1][1][1], Formula)


def test_row_limit_comes_from_the_config_and_ignores_the_declared_size(app, base):
    app.config["EXCEL_MAX_ROWS"] = 5
    rows = [["编号", "项目名称", "组别"]] + [[f"A-1{n:02d}", "x", "angel"] for n in range(6)]
    with pytest.raises(ImportRejected) as caught:
        import_workbook(data=xlsx({"项目": rows}), kind="entries", contest=base)
    [problem] = caught.value.problems
    assert (problem.code, problem.sheet, problem.row) == ("too_many_rows", "项目", 6)


def test_limits_are_read_with_our_own_bounds():
    wide = xlsx({"项目": [["编号"] + [None] * 10 + ["x"]]})
    with pytest.raises(ExcelRefused) as caught:
        list(Book(wide, Limits(max_columns=10)).rows("项目"))
    assert caught.value.code == "too_many_columns"
    assert list(Book(wide, Limits(max_columns=12)).rows("项目"))  # within the limit: fine
    with pytest.raises(ExcelRefused) as caught:
        Book(wide, Limits(max_bytes=100))
    assert caught.value.code == "too_large"
