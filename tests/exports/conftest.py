"""Fixtures for the Excel tests: the bad files, the base contest, helpers to read workbooks."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook

from judging.auth.models import User
from judging.common.enums import Role
from judging.contests.models import Contest
from judging.contests.queries import get_contest
from judging.extensions import db
from judging.imports.service import import_workbook
from tests.fixtures.excel import make_bad_files


@pytest.fixture(scope="session")
def bad_files(tmp_path_factory):
    """Every fixture file, written once per run: name -> path."""
    return make_bad_files.write_all(tmp_path_factory.mktemp("excel"))


@pytest.fixture
def english(app):
    """Messages in English for the test's duration (services outside a request)."""
    with force_locale("en"):
        yield


@pytest.fixture
def base(app, english) -> Contest:
    """The base contest of the fixtures (tests/fixtures/excel/make_bad_files.py BASE)."""
    # run by every organizer account there is (as a contest imported from the command line)
    organizers = db.session.scalars(sa.select(User).where(User.role == Role.ORGANIZER)).all()
    import_workbook(data=make_bad_files.base_contest(), kind="contest", give_to=organizers)
    db.session.commit()
    return get_contest(make_bad_files.SLUG)


def counts() -> dict[str, int]:
    """Rows per table, to show an import wrote nothing."""
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    """A workbook with these sheets and rows."""
    return make_bad_files.workbook(sheets)


def read(data: bytes):
    """Open a workbook's bytes with openpyxl (full mode: styles readable)."""
    return load_workbook(io.BytesIO(data))


def blank_workbook() -> Workbook:
    """A workbook without its default sheet."""
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def to_bytes(wb: Workbook) -> bytes:
    """Save a workbook to bytes."""
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
