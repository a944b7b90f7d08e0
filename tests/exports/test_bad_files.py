"""Every bad fixture file is refused, the problem names the right sheet/row/column, and
nothing of it is written (issue 5, points 2 and 3)."""

from __future__ import annotations

import time

import pytest

from judging.extensions import db
from judging.imports.problems import ImportRejected
from judging.imports.service import import_workbook
from tests.exports.conftest import counts
from tests.fixtures.excel.make_bad_files import CASES, CONTENT, HOSTILE


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_file_is_refused_where_it_is_wrong_and_writes_nothing(organizer, base, bad_files, case):
    before = counts()
    started = time.perf_counter()
    with pytest.raises(ImportRejected) as caught:
        import_workbook(
            data=bad_files[case.name].read_bytes(),
            kind=case.kind,
            contest=None if case.kind == "contest" else base,
        )
    elapsed = time.perf_counter() - started
    db.session.rollback()
    found = [p for p in caught.value.problems if p.code == case.code]
    assert found, [(p.code, p.sheet, p.row, p.column) for p in caught.value.problems]
    problem = found[0]
    if case.sheet is not None:
        assert problem.sheet == case.sheet
    if case.row is not None:
        assert problem.row == case.row
    if case.column is not None:
        assert problem.column == case.column
    assert problem.reason  # the message renders
    assert counts() == before
    assert elapsed < 5, f"{case.name} took {elapsed:.1f} s to refuse"


def test_every_hostile_file_is_refused_before_any_row_is_validated(organizer, base, bad_files):
    for case in HOSTILE:
        with pytest.raises(ImportRejected) as caught:
            import_workbook(data=bad_files[case.name].read_bytes(), kind="entries", contest=base)
        # A refusal of the file as a whole: one problem, no cell blamed.
        assert [p.code for p in caught.value.problems] == [case.code], case.name
        assert caught.value.problems[0].column == ""


def test_content_cases_cover_each_kind_of_import():
    assert {c.kind for c in CONTENT} == {"contest", "entries", "judges", "scores"}
