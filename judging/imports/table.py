"""From a sheet's rows to a table: find the header, normalize text, convert cells.

The header is the first of the sheet's first 30 rows that names every required column
(title rows, blank rows and merged title cells above it are skipped). Text is
normalized the way people's spreadsheets need: full-width letters and digits become
ASCII, non-breaking and ideographic spaces become spaces, zero-width characters go, and
stray spaces at either end are dropped; codes and names that are looked up get full
NFKC. Numbers stored as text and codes stored as numbers are both understood.

A column headed 示例行 / example row (a template's first column) marks example rows: a row
with anything in it is set apart as a problem, never read as data.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from openpyxl.utils import get_column_letter

from judging.imports.problems import Problem, problem
from judging.imports.reader import Book, CellError, Formula
from judging.imports.spec import (
    NO,
    YES,
    Choices,
    SheetSpec,
    header_key,
    header_keys,
    is_example_header,
)

HEADER_SCAN = 30

_ODD_SPACES = dict.fromkeys(map(ord, "\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"), " ")
_ODD_SPACES.update(dict.fromkeys(map(ord, "\u200a\u202f\u205f\u3000"), " "))
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_FULL_WIDTH = {
    code: code - 0xFEE0
    for code in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]
}
_TEXT = str.maketrans({**_ODD_SPACES, **_ZERO_WIDTH, **_FULL_WIDTH})
_SPACES = re.compile(r"[ \t]+")


def as_text(value) -> str:
    """A cell value as text: numbers without exponent or a trailing ".0", text as is."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and value.adjusted() < 28:
            value = value.quantize(Decimal(1))  # a code typed as 7 but stored as 7.0
        return format(value, "f")
    return str(value)


def clean_text(value, *, multiline: bool = False) -> str:
    """Free text: full-width letters and digits to ASCII, odd spaces to spaces, zero-width
    characters out, ends stripped; runs of spaces (and, unless multiline, line breaks) become
    one space."""
    text = as_text(value).translate(_TEXT)
    if multiline:
        lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
        return "\n".join(lines).strip()
    return " ".join(text.split())


def clean_key(value) -> str:
    """A code, username or name that is looked up: NFKC (all full-width forms), spaces tidied."""
    return " ".join(unicodedata.normalize("NFKC", as_text(value).translate(_TEXT)).split())


def split_list(value: str) -> list[str]:
    """Items separated by 、 , ; or spaces (full-width or not)."""
    text = clean_key(value)
    for sep in (",", ";", " ", "，", "；"):
        text = text.replace(sep, "、")
    return [part.strip() for part in text.split("、") if part.strip()]


@dataclass
class Table:
    """One sheet found and split: header row, where each known column is, the data rows;
    ``examples`` holds a problem for each row marked as a template's example (left out of
    ``rows``)."""

    spec: SheetSpec
    sheet: str
    header_row: int
    columns: dict[str, int]
    headers: dict[int, str]
    extra: dict[int, str]
    rows: list[tuple[int, dict[int, object]]]
    examples: list[Problem] = field(default_factory=list)

    def has(self, key: str) -> bool:
        """Whether the file has this column."""
        return key in self.columns

    def where(self, key: str) -> tuple[str, str]:
        """(column letter, header as written) of a known column."""
        col = self.columns[key]
        return get_column_letter(col), self.headers[col]


def find_sheet(book: Book, spec: SheetSpec, *, fallback_first: bool = False) -> str | None:
    """The workbook's sheet for spec (by its Chinese or English name), or the first sheet."""
    names = spec.names()
    for name in book.sheet_names:
        if header_key(name) in names:
            return name
    return book.sheet_names[0] if fallback_first and book.sheet_names else None


def read_table(
    book: Book,
    sheet: str,
    spec: SheetSpec,
    problems: list[Problem],
    *,
    required: set[str] | None = None,
) -> Table | None:
    """Find the header and read every data row; None (with a problem) when it has no header."""
    required = {c.key for c in spec.required} if required is None else required
    rows = book.rows(sheet)
    best: tuple[int, int, set[str]] = (0, 0, set())
    scanned = 0
    for row_number, values in rows:
        scanned += 1
        found: dict[str, int] = {}
        duplicates: list[tuple[int, str]] = []
        for col, value in sorted(values.items()):
            if not isinstance(value, str) or isinstance(value, Formula | CellError):
                continue
            key = next((spec.lookup[k] for k in header_keys(value) if k in spec.lookup), None)
            if key is None:
                continue
            if key in found:
                duplicates.append((col, key))
            else:
                found[key] = col
        if required <= set(found):
            for col, key in duplicates:
                problems.append(
                    problem(
                        "duplicate_column",
                        sheet=sheet,
                        row=row_number,
                        column=get_column_letter(col),
                        header=as_text(values[col]),
                        value=values[col],
                        column_name=spec.column(key).zh,
                    )
                )
            headers = {col: clean_text(v) for col, v in values.items()}
            used = set(found.values())
            marker = next(
                (c for c, h in sorted(headers.items()) if c not in used and is_example_header(h)),
                None,
            )
            if marker is not None:
                used.add(marker)
            extra = {col: h for col, h in headers.items() if col not in used and h}
            table = Table(spec, sheet, row_number, found, headers, extra, [])
            if marker is None:
                table.rows = list(rows)
                return table
            for data_row in rows:
                if _blank(data_row[1].get(marker)):
                    table.rows.append(data_row)
                else:
                    table.examples.append(_example_row(table, data_row, marker))
            return table
        if len(found) > best[1]:
            best = (row_number, len(found), set(found))
        if scanned >= HEADER_SCAN:
            break
    missing = [spec.column(k) for k in sorted(required - best[2], key=_order(spec))]
    problems.append(
        problem(
            "missing_columns",
            sheet=sheet,
            row=best[0] or None,
            columns="、".join(f"{c.zh}/{c.en}" for c in missing),
        )
    )
    return None


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not clean_text(value))


def _example_row(table: Table, data_row: tuple[int, dict[int, object]], marker: int) -> Problem:
    """The problem of a row still marked as the template's example: whatever its other cells
    now hold, the mark says it came from the template, so it is refused rather than guessed."""
    row, values = data_row
    return problem(
        "example_row",
        sheet=table.sheet,
        row=row,
        column=get_column_letter(marker),
        header=table.headers[marker],
        value=values[marker],
    )


def _order(spec: SheetSpec):
    keys = [c.key for c in spec.columns]
    return keys.index


_MISSING = object()


class Cells:
    """One data row of a table; each conversion records a problem against its cell."""

    __slots__ = ("table", "row", "values", "problems", "ok")

    def __init__(self, table: Table, row: int, values: dict[int, object], problems: list[Problem]):
        self.table = table
        self.row = row
        self.values = values
        self.problems = problems
        self.ok = True

    def raw(self, key: str):
        """The cell's value as read, or None (also when the file has no such column)."""
        col = self.table.columns.get(key)
        return None if col is None else self.values.get(col)

    def bad(self, key: str, code: str, value=_MISSING, **params) -> None:
        """Record a problem at this row's cell of column key."""
        self.ok = False
        column = header = ""
        if key in self.table.columns:
            column, header = self.table.where(key)
        elif key in self.table.spec.lookup.values():
            header = self.table.spec.column(key).zh
        self.problems.append(
            problem(
                code,
                sheet=self.table.sheet,
                row=self.row,
                column=column,
                header=header,
                value=self.raw(key) if value is _MISSING else value,
                **params,
            )
        )

    def bad_at(self, col: int, code: str, **params) -> None:
        """Record a problem at a column given by number (criterion columns)."""
        self.ok = False
        self.problems.append(
            problem(
                code,
                sheet=self.table.sheet,
                row=self.row,
                column=get_column_letter(col),
                header=self.table.headers.get(col, ""),
                value=self.values.get(col),
                **params,
            )
        )

    def value(self, key: str, *, required: bool = False):
        """The raw value, or None after a problem for a formula, an error value or a blank
        required cell."""
        value = self.raw(key)
        if isinstance(value, Formula):
            self.bad(key, "formula")
            return None
        if isinstance(value, CellError):
            self.bad(key, "cell_error")
            return None
        if isinstance(value, str) and not value.strip(" \u00a0\u3000\t\r\n\u200b"):
            value = None
        if value is None and required:
            self.bad(key, "required")
        return value

    def text(
        self, key: str, *, required: bool = False, max_len: int = 255, multiline: bool = False
    ) -> str:
        """Free text (normalized), "" when blank."""
        value = self.value(key, required=required)
        if value is None:
            return ""
        text = clean_text(value, multiline=multiline)
        if required and not text:
            self.bad(key, "required")
        if len(text) > max_len:
            self.bad(key, "too_long", max=max_len)
            return text[:max_len]
        return text

    def key(self, key: str, *, required: bool = False, max_len: int = 255) -> str:
        """A code or name to look up (NFKC-normalized), "" when blank."""
        value = self.value(key, required=required)
        if value is None:
            return ""
        text = clean_key(value)
        if len(text) > max_len:
            self.bad(key, "too_long", max=max_len)
        return text

    def decimal(
        self,
        key: str,
        *,
        default: Decimal | None = None,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        required: bool = False,
    ) -> Decimal | None:
        """A number (text or number cell; full-width digits fine), within the bounds."""
        value = self.value(key, required=required)
        if value is None:
            return default
        number = parse_number(value)
        if number is None:
            self.bad(key, "not_number")
            return default
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            self.bad(key, "out_of_range", min=_show(minimum), max=_show(maximum))
            return default
        return number

    def integer(
        self,
        key: str,
        *,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        required: bool = False,
    ) -> int | None:
        """A whole number, within the bounds."""
        value = self.value(key, required=required)
        if value is None:
            return default
        number = parse_number(value)
        if number is None or number != number.to_integral_value():
            self.bad(key, "not_integer")
            return default
        whole = int(number)
        if (minimum is not None and whole < minimum) or (maximum is not None and whole > maximum):
            self.bad(key, "out_of_range", min=_show(minimum), max=_show(maximum))
            return default
        return whole

    def flag(self, key: str, *, default: bool = False) -> bool:
        """Yes or no: 是/否, yes/no, y/n, true/false, 1/0."""
        value = self.value(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = clean_key(value).casefold()
        if text in YES:
            return True
        if text in NO:
            return False
        self.bad(key, "not_yes_no")
        return default

    def choice(self, key: str, choices: Choices, *, default):
        """One of an enumeration's members, by value or by a Chinese word."""
        value = self.value(key)
        if value is None:
            return default
        member = choices.parse(clean_key(value))
        if member is None:
            self.bad(key, "bad_choice", choices=choices.spellings())
            return default
        return member

    def moment(self, key: str, *, tz: str = "Asia/Shanghai") -> datetime | None:
        """A date and time (ISO text, or "2020-08-18 12:00" in the contest's time zone)."""
        value = self.value(key)
        if value is None:
            return None
        if isinstance(value, Decimal):  # an Excel serial date typed into a number cell
            try:
                moment = datetime(1899, 12, 30) + timedelta(days=float(value))
            except (OverflowError, ValueError):
                self.bad(key, "bad_time")
                return None
            return moment.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)
        text = clean_key(value).replace("/", "-")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.bad(key, "bad_time")
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(tz))
        return moment.astimezone(UTC)


def parse_number(value) -> Decimal | None:
    """A number from a number cell or from text ("２７.５", " 30 ", "30%"), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if _bounded(value) else None
    text = clean_key(value).replace(",", "").replace(" ", "")
    percent = text.endswith("%")
    try:
        number = Decimal(text.rstrip("%"))
    except InvalidOperation:
        return None
    if not _bounded(number):
        return None
    return number / 100 if percent else number


def _bounded(number: Decimal) -> bool:
    """A finite number of sane magnitude: "1E+999999999" would take minutes to turn into
    an int, "1e-999999999" would round to 0 (judging.common.numbers holds typed numbers
    to the same bounds)."""
    return number.is_finite() and number.adjusted() <= 30 and number.as_tuple().exponent >= -30


def _show(value) -> str:
    if value is None:
        return "…"
    return format(value, "f") if isinstance(value, Decimal) else str(value)


__all__ = [
    "Cells",
    "Table",
    "as_text",
    "clean_key",
    "clean_text",
    "find_sheet",
    "parse_number",
    "read_table",
    "split_list",
]
