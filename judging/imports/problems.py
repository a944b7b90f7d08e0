"""What can be wrong with an uploaded workbook, and where: one Problem per sheet/row/column.

A problem carries a machine ``code`` and the ``params`` of its message; the message is
rendered in the reader's language only when shown (``reason``), so the same problems
serve the upload page (Chinese or English) and the command line.
"""

from __future__ import annotations

from typing import NamedTuple

from flask_babel import gettext


def N_(message: str) -> str:  # noqa: N802 - Babel's marker for strings translated later
    """Mark a message for extraction; it is translated when shown."""
    return message


MESSAGES = {
    # the file as a whole
    "too_large": N_("The file is %(size)s MB: more than the limit of %(limit)s MB."),
    "xls": N_(
        "This is an old .xls workbook or a password-protected one. Save it in Excel as an "
        "Excel workbook (.xlsx) without a password and upload that."
    ),
    "csv": N_(
        "This is a text (CSV) file, not an Excel workbook. Open it in Excel and save it as .xlsx."
    ),
    "not_xlsx": N_("This is not an Excel workbook (.xlsx)."),
    "corrupt": N_("The file is damaged: it cannot be read as an Excel workbook."),
    "zip_bomb": N_(
        "The workbook unpacks to more than %(limit)s MB, or is compressed suspiciously well: "
        "refused."
    ),
    "too_many_parts": N_("The workbook contains more than %(limit)s parts: refused."),
    "xml_entities": N_("The workbook contains XML DTD or entity declarations: refused."),
    "too_many_strings": N_(
        "The workbook's shared strings table holds more than %(limit)s texts: refused."
    ),
    "strings_too_long": N_(
        "The workbook's shared strings table holds more than %(limit)s characters in all: refused."
    ),
    "too_many_rows": N_("More than %(limit)s rows (empty rows count too): refused."),
    "too_many_columns": N_("A value beyond column %(limit)s: at most %(limit)s columns are read."),
    "too_slow": N_(
        "Reading the workbook took longer than %(limit)s seconds: refused. Split it into "
        "smaller files, or delete its empty rows and columns."
    ),
    "no_sheets": N_("The workbook has no worksheets."),
    # sheets and columns
    "missing_sheet": N_("The sheet is missing."),
    "missing_columns": N_("No header row with the required columns: %(columns)s."),
    "duplicate_column": N_("Two columns mean the same thing (%(column)s)."),
    "unknown_column": N_("Unknown column: not a criterion of any stage of this contest."),
    "one_row": N_("This sheet takes exactly one row."),
    "example_row": N_(
        "This is an example row of the template: delete it, or replace it with real data, "
        "before importing. A row stays an example while this cell holds the mark, even when "
        "its other cells were changed: clear the mark of a row you filled in."
    ),
    # cells
    "required": N_("A value is required."),
    "formula": N_("A formula where a value is expected: type the value itself."),
    "cell_error": N_("An error value where a value is expected."),
    "not_integer": N_("Not a whole number."),
    "not_number": N_("Not a number."),
    "out_of_range": N_("Must be between %(min)s and %(max)s."),
    "too_long": N_("Longer than %(max)s characters."),
    "not_yes_no": N_("Not yes or no (是/否, yes/no, 1/0)."),
    "bad_choice": N_("Not one of: %(choices)s."),
    "bad_slug": N_("Use lowercase letters, digits and hyphens only."),
    "bad_username": N_("A username cannot contain spaces."),
    "slug_mismatch": N_("This workbook is for another contest: this one is %(slug)s."),
    "slug_taken": N_(
        "Another contest already has this address (slug): choose another one, or ask one "
        "of that contest's organizers to import the workbook."
    ),
    "bad_time": N_("Not a date and time (such as 2020-08-18 12:00)."),
    "bad_advance": N_("Give a number, or group:number pairs such as 天使组:12, 成长组:10."),
    "bad_step": N_("The step must be more than 0 and at most the maximum."),
    "bad_rule": N_("Unknown rule: use student_team_reached:<stage code>."),
    # references
    "unknown_group": N_("Unknown group."),
    "unknown_stage": N_("Unknown stage."),
    "unknown_field": N_("Unknown field."),
    "unknown_judge": N_("Unknown judge."),
    "unknown_entry": N_("Unknown entry."),
    "ambiguous_judge": N_("Several judges have this name: give the username."),
    "stage_mismatch": N_("This row is for another stage than the import (%(stage)s)."),
    # duplicates and the database
    "duplicate": N_("Duplicate: the same key as row %(first)s."),
    "duplicate_in_database": N_(
        "Already in the contest with different values (%(fields)s). Tick “update existing "
        "rows” to change them."
    ),
    "position_taken": N_("Order %(value)s is already used by %(other)s."),
    "organizer_username": N_("This username belongs to an organizer account."),
    "username_taken": N_("This username belongs to another judge of this contest."),
    "binding_conflict": N_("The judge has a binding conflict with this entry."),
    "rubric_locked": N_(
        "This stage already has score sheets for this group: its rubric cannot change."
    ),
    # points
    "not_in_rubric": N_("Not a criterion of this stage for the entry's group."),
    "no_rubric": N_("This stage has no rubric for the entry's group."),
    "points": N_("%(message)s"),
    "database": N_("The database refused the import (%(error)s); nothing was written."),
    "submitted_changed": N_(
        "The sheet was already submitted with other points: reopen it first (with a reason)."
    ),
    # the results workflow
    "stage_published": N_(
        "%(stage)s is published: its results are frozen. Withdraw the publication (with a "
        "reason) before importing into it."
    ),
    "state_by_workflow": N_(
        "A stage's state is changed on its page or with `flask stage` (which says what "
        "happens and asks for a reason going back), not by an import."
    ),
    "conflict_published": N_(
        "The judge has a submitted sheet for this entry in %(stage)s, which is published: "
        "withdraw its publication first."
    ),
    "entry_published": N_(
        "The entry takes part in %(stage)s, which is published: withdraw its publication "
        "before changing its group, status or stages."
    ),
}


class Problem(NamedTuple):
    """One thing wrong with a file, where it is, and why (``code`` with ``params``)."""

    sheet: str
    row: int | None
    column: str
    header: str
    value: str
    code: str
    params: tuple[tuple[str, object], ...] = ()

    @property
    def reason(self) -> str:
        """The message in the current language."""
        return gettext(MESSAGES[self.code], **dict(self.params))

    @property
    def place(self) -> str:
        """Column letter and header, e.g. "C 组别"."""
        return f"{self.column} {self.header}".strip()


def problem(
    code: str,
    *,
    sheet: str = "",
    row: int | None = None,
    column: str = "",
    header: str = "",
    value: object = None,
    **params,
) -> Problem:
    """Build a Problem; ``value`` is shown as text, cut to 100 characters."""
    if code not in MESSAGES:
        raise KeyError(code)
    text = "" if value is None else str(value)
    if len(text) > 100:
        text = text[:99] + "…"
    return Problem(sheet, row, column, header, text, code, tuple(sorted(params.items())))


class ImportRejected(Exception):
    """The file was rejected: nothing was written. ``problems`` says everything found."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems
