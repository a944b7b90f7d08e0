"""Templates (issue 11, deliverable 7): every example row is marked in the cells themselves,
an untouched template is refused row by row and writes nothing, a template filled in with
its examples deleted imports, and exports never carry the mark."""

from __future__ import annotations

import io
from copy import copy

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from judging.contests.models import Contest
from judging.entries.models import Entry
from judging.exports import files
from judging.extensions import db
from judging.imports.problems import ImportRejected
from judging.imports.service import import_workbook
from judging.imports.spec import CONTEST_WORKBOOK, is_example_header
from judging.scoring.models import ScoreSheet
from tests.exports.conftest import blank_workbook, counts, read, to_bytes

MARKS = {"zh_CN": "示例", "en": "EXAMPLE"}


def marked_rows(data: bytes) -> set[tuple[str, int]]:
    """(sheet, row) of every row whose first cell holds a template's example mark."""
    return {
        (ws.title, row[0].row)
        for ws in read(data)
        for row in ws.iter_rows(min_row=3)
        if row[0].value in MARKS.values()
    }


def refused(data: bytes, **kwargs) -> list:
    """The problems of an import that must be refused, after checking it wrote nothing."""
    before = counts()
    with pytest.raises(ImportRejected) as caught:
        import_workbook(data=data, **kwargs)
    db.session.rollback()
    assert counts() == before
    return caught.value.problems


def fill_in(data: bytes, rows: dict[str, list[list]], *, keep_examples: bool = False) -> bytes:
    """The template as an organizer fills it in: the example rows deleted (unless kept),
    these rows typed below the header with the example column left blank."""
    wb = load_workbook(io.BytesIO(data))
    for ws in wb:
        if ws.cell(2, 1).value not in ("示例行", "example row"):
            continue  # the guide
        if not keep_examples:
            marked = [c.row for c in ws["A"][2:] if c.value in MARKS.values()]
            for row in reversed(marked):
                ws.delete_rows(row)
        # Typed below the last row (openpyxl's append would leave a gap where rows went).
        for n, values in enumerate(rows.get(ws.title, []), ws.max_row + 1):
            for col, value in enumerate(values, 2):
                ws.cell(n, col, value)
    return to_bytes(wb)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("dry_run", [False, True])
def test_an_untouched_contest_template_is_refused_for_each_example_row(app, english, lang, dry_run):
    data = files.template_workbook("contest", lang=lang)
    expected = marked_rows(data)
    # Every sheet of the contest workbook has its examples, and each is marked.
    assert {sheet for sheet, _ in expected} == {spec.label(lang) for spec in CONTEST_WORKBOOK}
    problems = refused(data, kind="contest", dry_run=dry_run)
    assert {(p.sheet, p.row) for p in problems} == expected
    assert {p.code for p in problems} == {"example_row"}
    assert {(p.column, p.value) for p in problems} == {("A", MARKS[lang])}
    assert problems[0].reason.startswith("This is an example row of the template")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contest)) == 0


@pytest.mark.parametrize(
    ("kind", "stage"), [("entries", None), ("judges", None), ("scores", None), ("scores", "prelim")]
)
@pytest.mark.parametrize("dry_run", [False, True])
def test_each_untouched_single_sheet_template_is_refused(base, kind, stage, dry_run):
    target = base.stage(stage) if stage else None
    data = files.template_workbook(kind, lang="zh_CN", contest=base, stage=target)
    expected = marked_rows(data)
    assert expected
    problems = refused(data, kind=kind, contest=base, dry_run=dry_run)
    assert {(p.sheet, p.row) for p in problems} == expected
    assert {p.code for p in problems} == {"example_row"}


def test_a_contest_template_filled_in_with_its_examples_deleted_imports(app, english):
    template = files.template_workbook("contest", lang="zh_CN")
    data = fill_in(
        template,
        {
            "赛事": [["2025年创新创业大赛", 2025, "real-2025"]],
            "组别": [["angel", "天使组"]],
            "赛段": [[1, "prelim", "初赛", "网评", 3]],
            # The rubric keeps the template's criterion names: they are the 评分 sheet's columns.
            "评分项": [
                ["prelim", "angel", n, name, top]
                for n, (name, top) in enumerate(
                    [("技术与产品", 40), ("商业模式", 20), ("行业与市场", 20), ("团队", 20)], 1
                )
            ],
            "项目": [["A-101", "智能巡检", "天使组"], ["A-102", "微塑料检测", "angel"]],
            "评委": [["张文博", "zhang"]],
            "评分": [["prelim", "zhang", "A-101", 35, 15, 18.5, 20]],
        },
    )
    assert marked_rows(data) == set()
    result = import_workbook(data=data, kind="contest")
    db.session.commit()
    assert result.slug == "real-2025"
    assert result.created["entries"] == 2 and result.created["sheets"] == 1
    assert db.session.scalar(sa.select(Contest.slug)) == "real-2025"
    # The same rows typed below examples left in place: refused, nothing written.
    problems = refused(
        fill_in(template, {"项目": [["A-103", "新项目", "天使组"]]}, keep_examples=True),
        kind="contest",
    )
    assert {p.code for p in problems} == {"example_row"}


def test_single_sheet_templates_filled_in_with_their_examples_deleted_import(base):
    entries = fill_in(
        files.template_workbook("entries", lang="zh_CN"),
        {"项目": [["A-101", "智能巡检", "天使组", "物联网"], ["G-101", "新材料", "growth"]]},
    )
    assert import_workbook(data=entries, kind="entries", contest=base).created == {"entries": 2}
    judges = fill_in(files.template_workbook("judges", lang="en"), {"judges": [["王磊", "wang"]]})
    assert import_workbook(data=judges, kind="judges", contest=base).created["judges"] == 1
    prelim = base.stage("prelim")
    scores = fill_in(
        files.template_workbook("scores", lang="zh_CN", contest=base, stage=prelim),
        {"评分": [["prelim", "li", "A-002", 20, 15]]},  # 技术, 团队
    )
    result = import_workbook(data=scores, kind="scores", contest=base, stage_code="prelim")
    db.session.commit()
    assert result.created["sheets"] == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Entry)) == 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScoreSheet)) == 4


def test_the_mark_is_in_the_values_so_styles_neither_make_nor_hide_an_example(base):
    template = files.template_workbook("entries", lang="zh_CN")
    # Saved by a spreadsheet that keeps values only (LibreOffice may drop named styles):
    # the examples are still refused.
    plain = blank_workbook()
    for ws in load_workbook(io.BytesIO(template)):
        sheet = plain.create_sheet(ws.title)
        for row in ws.iter_rows(values_only=True):
            sheet.append(row)
    assert len(refused(to_bytes(plain), kind="entries", contest=base)) == 1
    # The example's grey italics copied onto a real row (format painter) change nothing.
    wb = load_workbook(io.BytesIO(fill_in(template, {"项目": [["A-101", "智能巡检", "天使组"]]})))
    ws = wb["项目"]
    assert ws.cell(3, 2).value == "A-101"
    for col in range(1, 5):
        example = load_workbook(io.BytesIO(template))["项目"].cell(3, col)
        ws.cell(3, col).font = copy(example.font)
    assert ws.cell(3, 2).font.i
    result = import_workbook(data=to_bytes(wb), kind="entries", contest=base)
    assert result.created == {"entries": 1}


def test_exports_never_carry_the_example_column(base):
    for data in (
        files.contest_workbook(base, lang="zh_CN", tz="Asia/Shanghai"),
        files.contest_workbook(base, lang="en", tz="Asia/Shanghai"),
        files.stage_workbook(base.stage("prelim"), lang="zh_CN", tz="Asia/Shanghai"),
    ):
        cells = [v for ws in read(data) for row in ws.iter_rows(values_only=True) for v in row]
        assert not [v for v in cells if isinstance(v, str) and is_example_header(v)]
        assert not [v for v in cells if v in MARKS.values()]
