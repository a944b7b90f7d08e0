"""Building an .xlsx from plain rows: pure code (no Flask, no database), returns bytes.

Every sheet gets a bold header row frozen in place and repeated on every printed page,
column widths fitted to the header and the first rows, a CJK font throughout (等线, the
Chinese Office default, with the GB2312 charset so Excel picks a Chinese face when it is
missing), ``0.00`` on points, ``#,##0.00`` on money, and landscape A4 fitted to the page
width when it is wide. Any text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is stored as text with Excel's quote prefix, never as a formula (CSV/
formula injection), so a title like ``=HYPERLINK("http://x","y")`` stays that text.

Rows stream through openpyxl's write-only mode, one reused cell per style, so 100,000 rows
cost little more memory or time than openpyxl's own bare write-only loop (bench/excel.py).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.worksheet.properties import PageSetupProperties

FONT_NAME = "等线"
FONT = Font(name=FONT_NAME, sz=11, family=2, charset=134)
POINTS = "0.00"
MONEY = "#,##0.00"
INTEGER = "0"
#: A text cell beginning with one of these would be read as a formula (or DDE) by a
#: spreadsheet: it is stored as quoted text.
RISKY = frozenset("=+-@\t\r")
MAX_WIDTH = 60
MIN_WIDTH = 6
_SAMPLE = 300  # rows looked at to fit the column widths
_BATCH = 2_000
_ILLEGAL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32)])


@dataclass(frozen=True, slots=True)
class Styled:
    """A value with a look: ``total`` (bold), ``dropped`` (struck through, grey: a score the
    rule dropped), ``note`` (italic grey) or ``title``."""

    value: object
    style: str


@dataclass
class Sheet:
    """One worksheet: a header, rows of plain values, and how to show them.

    ``rows`` may be sequences or, for wide sparse sheets, dicts of {0-based column: value}.
    ``formats`` gives a number format per 0-based column. ``title_lines`` go above the
    header (merged across it), ``footer_lines`` below the rows after a blank row.
    """

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence | Mapping[int, object]]
    formats: Mapping[int, str] = field(default_factory=dict)
    widths: Mapping[int, float] = field(default_factory=dict)
    title_lines: Sequence[str] = ()
    footer_lines: Sequence[str] = ()
    landscape: bool | None = None
    gridlines: bool = False


def safe_text(value: str) -> str:
    """Text with the characters XML cannot hold removed."""
    return value.translate(_ILLEGAL)


def sheet_title(text: str, taken: set[str]) -> str:
    """A valid, unique sheet name: no []:*?/\\, at most 31 characters."""
    name = "".join("-" if ch in "[]:*?/\\" else ch for ch in text).strip("'") or "Sheet"
    name = name[:31]
    candidate, n = name, 2
    while candidate.casefold() in taken:
        suffix = f" ({n})"
        candidate = name[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(candidate.casefold())
    return candidate


def display_width(value) -> int:
    """Roughly how many character cells a value needs (a CJK character takes two)."""
    if value is None:
        return 0
    if isinstance(value, Styled):
        value = value.value
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}")
    text = value if isinstance(value, str) else str(value)
    if "\n" in text:
        return max(display_width(line) for line in text.split("\n"))
    return len(text) + (len(text.encode()) - len(text)) // 2


class _FixedCell(Cell):
    """A reused cell whose style never changes, so its style id is looked up once (openpyxl
    would hash the style again for every cell written)."""

    __slots__ = ("_fixed_id",)

    @property
    def style_id(self) -> int:
        return self._fixed_id


class _Styles:
    """Reusable cells per (number format, look, quoted), created on first use."""

    def __init__(self, ws):
        self.ws = ws
        self.cells: dict[tuple[str | None, str | None, bool], Cell] = {}

    def cell(self, number_format: str | None, look: str | None, quoted: bool) -> Cell:
        """The reusable cell of this style."""
        key = (number_format, look, quoted)
        cell = self.cells.get(key)
        if cell is None:
            cell = _FixedCell(self.ws)
            if number_format:
                cell.number_format = number_format
            if look == "header":
                cell.font = Font(name=FONT_NAME, sz=11, family=2, charset=134, b=True)
                cell.fill = PatternFill("solid", fgColor="FFEFEFEF")
                cell.border = Border(bottom=Side(style="thin", color="FF808080"))
                cell.alignment = Alignment(vertical="center", wrap_text=True)
            elif look == "title":
                cell.font = Font(name=FONT_NAME, sz=14, family=2, charset=134, b=True)
            elif look == "total":
                cell.font = Font(name=FONT_NAME, sz=11, family=2, charset=134, b=True)
            elif look == "dropped":
                cell.font = Font(
                    name=FONT_NAME, sz=11, family=2, charset=134, strike=True, color="FF808080"
                )
            elif look == "note":
                cell.font = Font(
                    name=FONT_NAME, sz=11, family=2, charset=134, i=True, color="FF606060"
                )
            elif look == "wrap":
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            if quoted:
                cell.quotePrefix = True
            cell._fixed_id = self.ws.parent._cell_styles.add(cell._style) if cell.has_style else 0
            self.cells[key] = cell
        return cell


def _start_rows(ws):
    """Stream rows of prepared cells into a write-only sheet.

    openpyxl's ``append`` turns every styled cell into an exception and a new cell object;
    this is its own row generator (``WriteOnlyWorksheet._write_rows``) taking cells
    directly, so one cell per style is reused and styled rows cost what plain ones do.
    ``ws.close()`` ends it as it ends openpyxl's own.
    """

    def rows():
        ws._get_writer()
        writer = ws._writer
        xf = writer.xf.send(True)
        with xf.element("sheetData"):
            try:
                while True:
                    row_idx, cells = yield
                    writer.write_row(xf, cells, row_idx)
            except GeneratorExit:
                pass
        writer.xf.send(None)

    stream = rows()
    next(stream)
    ws._rows = stream
    return stream


def _write_sheet(wb: Workbook, sheet: Sheet, taken: set[str]) -> None:
    ws = wb.create_sheet(sheet_title(sheet.title, taken))
    width = max(len(sheet.header), 1)
    rows = iter(sheet.rows)
    sample = list(islice(rows, _SAMPLE))
    fitted = [display_width(h) for h in sheet.header]
    for row in sample:
        items = row.items() if isinstance(row, Mapping) else enumerate(row)
        for c, value in items:
            if c < len(fitted):
                fitted[c] = max(fitted[c], display_width(value))
    for c, w in enumerate(fitted):
        w = sheet.widths.get(c, min(max(w + 2, MIN_WIDTH), MAX_WIDTH))
        ws.column_dimensions[get_column_letter(c + 1)].width = w
    header_row = len(sheet.title_lines) + 1
    if sheet.title_lines and width > 1:
        for n in range(1, header_row):
            ws.merged_cells.add(f"A{n}:{get_column_letter(width)}{n}")
    ws.freeze_panes = f"A{header_row + 1}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    landscape = sheet.landscape if sheet.landscape is not None else width > 6
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.gridLines = sheet.gridlines
    if sheet.header:
        ws.auto_filter.ref = f"A{header_row}:{get_column_letter(width)}{header_row}"

    styles = _Styles(ws)
    stream = _start_rows(ws)
    formats = [sheet.formats.get(c) for c in range(width)]
    plain_cells = [styles.cell(f, None, False) for f in formats]
    number = 1
    for line in sheet.title_lines:
        stream.send((number, _cells(number, [Styled(line, "title")], [None], styles, plain_cells)))
        number += 1
    header = [Styled(h, "header") for h in sheet.header]
    stream.send((number, _cells(number, header, formats, styles, plain_cells)))
    # Rows are drawn in batches, then written: producing a few thousand rows in a tight loop
    # and then writing them costs less than alternating row by row (the producer's data and
    # the writer's buffers stop evicting each other), and memory stays bounded by a batch.
    for batch in chain([sample], iter(lambda: list(islice(rows, _BATCH)), [])):
        for row in batch:
            number += 1
            stream.send((number, _cells(number, row, formats, styles, plain_cells)))
    if sheet.footer_lines:
        number += 1
        for line in sheet.footer_lines:
            number += 1
            stream.send((number, _cells(number, [line], [None], styles, plain_cells)))
    ws.close()


def _cells(
    number: int, row, formats: list, styles: _Styles, plain_cells: list[Cell]
) -> Iterator[Cell]:
    """The cells of one row, ready for the writer (reused cells: each is written before the
    next is set).

    The hot loop of every export: one type switch per value, and the cell's value and type
    set directly for text and numbers (what ``Cell.value`` would set, without its chain of
    isinstance checks); anything else goes through ``Cell.value``.
    """
    items = row.items() if type(row) is dict or isinstance(row, Mapping) else enumerate(row)
    width = len(plain_cells)
    illegal = ILLEGAL_CHARACTERS_RE.search
    for c, value in items:
        if value is None:
            continue
        kind = type(value)
        look = None
        if kind is Styled:
            look = value.style
            value = value.value
            kind = type(value)
            if value is None:
                continue
        quoted = False
        if kind is str:
            if not value:
                continue
            if len(value) > 32_767 or illegal(value):
                value = safe_text(value)[:32_767]
            quoted = value[0] in RISKY
            data_type = "s"  # text, never a formula
        elif kind is Decimal or kind is int or kind is float:
            data_type = "n"
        elif kind is datetime or kind is date:
            value = value.isoformat(sep=" ") if kind is datetime else value.isoformat()
            data_type = "s"
        else:
            data_type = None
        if look is None and not quoted:
            cell = plain_cells[c] if c < width else styles.cell(None, None, False)
        else:
            cell = styles.cell(formats[c] if c < width else None, look, quoted)
        if data_type is None:
            cell.value = value  # bools and anything unusual: openpyxl's own conversion
        else:
            cell._value = value
            cell.data_type = data_type
        cell.row = number
        cell.column = c + 1
        yield cell


def build_workbook(sheets: Iterable[Sheet], *, title: str = "", creator: str = "") -> bytes:
    """Write the sheets into one workbook and return the .xlsx file's bytes."""
    wb = Workbook(write_only=True)
    # The default font (style 0) of every cell: a CJK face instead of Calibri.
    wb._fonts = IndexedList([FONT])
    wb.properties.title = title or None
    wb.properties.creator = creator or "评审系统"
    taken: set[str] = set()
    count = 0
    for sheet in sheets:
        _write_sheet(wb, sheet, taken)
        count += 1
    if count == 0:
        _write_sheet(wb, Sheet("Sheet", [], []), taken)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


__all__ = [
    "INTEGER",
    "MONEY",
    "POINTS",
    "Sheet",
    "Styled",
    "build_workbook",
    "display_width",
    "safe_text",
    "sheet_title",
]
