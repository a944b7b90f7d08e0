"""Reading an .xlsx file safely: size, package and XML checks, then rows with our own bounds.

An .xlsx file is a zip of XML parts. Before any row is read the file must be:

- no larger than ``Limits.max_bytes`` (10 MB);
- a zip at all (an old .xls, a password-protected workbook, a CSV or anything else is
  refused by its first bytes, whatever its name says);
- a sound zip of at most ``max_parts`` parts, each stored or deflated (no other
  compression), whose declared uncompressed sizes sum to at most ``max_uncompressed`` and
  whose compression ratio stays under ``max_ratio`` (a zip bomb is refused before anything
  is inflated). Python's zip reader never inflates a part past its declared size, and a
  part that lies about it fails its CRC check: that is refused as a corrupt file;
- XML without a DTD or entity declarations (``defusedxml``; billion laughs and external
  entities are refused).

The shared strings table is streamed too, and refused as soon as it holds more than
``max_strings`` strings or ``max_string_chars`` characters in all (a table that declares
more is refused before its first string).

Rows are then streamed from the sheet's XML part one ``<row>`` at a time; the
``<dimension>`` the file declares is ignored. A value beyond ``max_columns``, or more than
``max_rows`` rows in a sheet (empty rows count: each costs time to read), refuses the file
as soon as it is met, so a hostile sheet costs neither memory nor time. Whatever is left
(a sheet of wide empty rows, say) meets ``max_seconds``: reading a workbook, from its
package to its last row, stops with a refusal once it has taken that long.

openpyxl's own read-only reader is not used for rows: it builds a whole ``<row>`` and
pads it to its farthest cell before handing it over, which a hostile row can make
arbitrarily large.

Values come back as ``str`` (text), ``Decimal`` (numbers, exactly as written in the file,
never through float), ``bool``, ``Formula`` (a formula cell, whatever its cached value) or
``CellError`` (``#N/A`` and friends).
"""

from __future__ import annotations

import io
import posixpath
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring, iterparse

MiB = 1024 * 1024
#: Excel's own limit: a row never has more cells than this.
EXCEL_MAX_COLUMNS = 16_384
_SIGNIFICANT = 15  # Excel keeps 15 significant digits; anything after is float noise

_REL_OFFICE = "/officeDocument"
_REL_SHEET = "/worksheet"
_REL_STRINGS = "/sharedStrings"
_XML_PART_LIMIT = 8 * MiB  # workbook.xml and the relationship parts are small
#: XML events between two looks at the clock (``Book.tick``).
_TICK_EVERY = 4096
#: The clock of the wall-clock bound (a module attribute, so tests can move it).
clock = time.monotonic


@dataclass(frozen=True)
class Limits:
    """Hard limits on an uploaded workbook."""

    max_bytes: int = 10 * MiB
    max_rows: int = 100_000
    max_columns: int = 100
    max_uncompressed: int = 256 * MiB
    max_ratio: int = 100
    max_parts: int = 1_000
    max_strings: int = 200_000
    max_string_chars: int = 20_000_000
    max_seconds: float = 20.0

    @classmethod
    def from_config(cls, config) -> Limits:
        """The limits from the app's config (EXCEL_MAX_ROWS, …), defaults where unset."""
        d = cls()

        def get(key, default, kind=int):
            value = config.get(key)
            return default if value is None else kind(value)

        return cls(
            max_bytes=get("EXCEL_MAX_BYTES", d.max_bytes),
            max_rows=get("EXCEL_MAX_ROWS", d.max_rows),
            max_columns=get("EXCEL_MAX_COLUMNS", d.max_columns),
            max_uncompressed=get("EXCEL_MAX_UNCOMPRESSED_MB", d.max_uncompressed // MiB) * MiB,
            max_ratio=get("EXCEL_MAX_RATIO", d.max_ratio),
            max_parts=get("EXCEL_MAX_PARTS", d.max_parts),
            max_strings=get("EXCEL_MAX_STRINGS", d.max_strings),
            max_string_chars=get("EXCEL_MAX_STRING_CHARS", d.max_string_chars),
            max_seconds=get("EXCEL_MAX_SECONDS", d.max_seconds, float),
        )


class ExcelRefused(Exception):
    """The file is refused as a whole before its rows are read (or while streaming them).

    ``code`` says why (``too_large``, ``xls``, ``csv``, ``not_xlsx``, ``corrupt``,
    ``zip_bomb``, ``too_many_parts``, ``xml_entities``, ``too_many_strings``,
    ``strings_too_long``, ``too_many_rows``, ``too_many_columns``, ``too_slow``,
    ``no_sheets``);
    ``params`` fill the message; ``sheet`` and ``row`` say where, when a row was to blame.
    """

    def __init__(self, code: str, sheet: str = "", row: int | None = None, **params):
        super().__init__(code)
        self.code = code
        self.sheet = sheet
        self.row = row
        self.params = params


class Formula(str):
    """A formula cell; the text is the formula (without its leading =)."""


class CellError(str):
    """An error value such as #N/A or #DIV/0!."""


def number(text: str) -> Decimal:
    """A cell's number as an exact Decimal, trimmed to Excel's 15 significant digits.

    Files keep numbers as the text Excel wrote ("27.5"); a value that went through a
    float somewhere ("0.30000000000000004") is brought back to what a person typed.
    """
    value = Decimal(text)
    if not value.is_finite():
        raise InvalidOperation(text)
    digits = value.as_tuple().digits
    if len(digits) > _SIGNIFICANT and value:
        value = round(value, _SIGNIFICANT - value.adjusted() - 1).normalize()
        if value == value.to_integral_value():
            value = value.quantize(Decimal(1))
    return value


def _local(tag: str) -> str:
    """An XML tag without its namespace (so strict OOXML files read as well)."""
    return tag.rpartition("}")[2]


def _column_index(ref: str) -> int:
    """The 1-based column of a cell reference like "AB12" (0 if it has no letters)."""
    column = 0
    for char in ref:
        if "A" <= char <= "Z":
            column = column * 26 + ord(char) - 64
        elif "a" <= char <= "z":
            column = column * 26 + ord(char) - 96
        else:
            break
    return column


def sniff(data: bytes) -> str | None:
    """Why the bytes are not an .xlsx package, as a refusal code; None if they look like one."""
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return None
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "xls"  # OLE2: an .xls workbook, or any password-protected workbook
    head = data[:4096]
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError:
            continue
        if text and all(c.isprintable() or c in "\r\n\t" for c in text[:1024]):
            return "csv"
        break
    return "not_xlsx"


class Book:
    """An opened, checked workbook: its sheet names and a streaming row reader per sheet."""

    def __init__(self, data: bytes, limits: Limits | None = None):
        self.limits = limits or Limits()
        self.deadline = clock() + self.limits.max_seconds
        if len(data) > self.limits.max_bytes:
            raise ExcelRefused("too_large", size=_mib(len(data)), limit=_mib(self.limits.max_bytes))
        kind = sniff(data)
        if kind is not None:
            raise ExcelRefused(kind)
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as err:
            raise ExcelRefused("corrupt") from err
        self._check_members()
        try:
            self._read_structure()
            self.strings = self._read_strings()
        except DefusedXmlException as err:  # a ValueError: caught first
            raise ExcelRefused("xml_entities") from err
        except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, ValueError) as err:
            raise ExcelRefused("corrupt") from err
        except SyntaxError as err:  # ElementTree.ParseError
            raise ExcelRefused("corrupt") from err

    # -- the package

    def _check_members(self) -> None:
        infos = self.zip.infolist()
        limits = self.limits
        if len(infos) > limits.max_parts:
            raise ExcelRefused("too_many_parts", count=len(infos), limit=limits.max_parts)
        total = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise ExcelRefused("xls")  # encrypted parts: a protected workbook
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ExcelRefused("corrupt")
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            bomb = info.file_size > MiB and ratio > limits.max_ratio
            if bomb or total > limits.max_uncompressed:
                raise ExcelRefused(
                    "zip_bomb", size=_mib(total), limit=_mib(limits.max_uncompressed)
                )
        self.members = {info.filename for info in infos}

    def tick(self, sheet: str = "", row: int | None = None) -> None:
        """Refuse the file once reading it has taken longer than ``max_seconds``."""
        if clock() > self.deadline:
            raise ExcelRefused(
                "too_slow", sheet=sheet, row=row, limit=_number(self.limits.max_seconds)
            )

    def _xml(self, name: str):
        if self.zip.getinfo(name).file_size > _XML_PART_LIMIT:
            raise ExcelRefused("zip_bomb", size=_mib(self.zip.getinfo(name).file_size), limit="8")
        return fromstring(self.zip.read(name), forbid_dtd=True)

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """A part's relationships: id -> (type, absolute target path)."""
        folder, name = posixpath.split(part)
        rels_name = posixpath.join(folder, "_rels", f"{name}.rels")
        if rels_name not in self.members:
            return {}
        rels = {}
        for rel in self._xml(rels_name):
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External":
                continue
            path = target.lstrip("/") if target.startswith("/") else posixpath.join(folder, target)
            rels[rel.get("Id", "")] = (rel.get("Type", ""), posixpath.normpath(path))
        return rels

    def _read_structure(self) -> None:
        workbook = next(
            (target for kind, target in self._rels("").values() if kind.endswith(_REL_OFFICE)),
            "xl/workbook.xml",
        )
        if workbook not in self.members:
            raise ExcelRefused("not_xlsx")
        rels = self._rels(workbook)
        self.sheet_paths: dict[str, str] = {}
        for element in self._xml(workbook).iter():
            if _local(element.tag) != "sheet":
                continue
            rel_id = next((v for k, v in element.attrib.items() if _local(k) == "id"), "")
            kind, target = rels.get(rel_id, ("", ""))
            if kind.endswith(_REL_SHEET) and target in self.members:
                self.sheet_paths[element.get("name", "")] = target
        if not self.sheet_paths:
            raise ExcelRefused("no_sheets")
        self.strings_path = next(
            (target for kind, target in rels.values() if kind.endswith(_REL_STRINGS)), None
        )

    def _read_strings(self) -> list[str]:
        """The shared strings table, streamed (rich text runs joined, phonetic runs skipped).

        Within ``max_strings`` strings and ``max_string_chars`` characters, checked as each
        string is read (and against the count the table declares, before the first).
        """
        if not self.strings_path or self.strings_path not in self.members:
            return []
        max_strings, max_chars = self.limits.max_strings, self.limits.max_string_chars
        strings: list[str] = []
        chars = events = 0
        root = None
        with self.zip.open(self.strings_path) as source:
            for event, element in iterparse(source, events=("start", "end"), forbid_dtd=True):
                events += 1
                if events % _TICK_EVERY == 0:
                    self.tick()
                if event == "start":
                    if root is None:
                        root = element
                        declared = _count(element.get("uniqueCount"))
                        if declared > max_strings:
                            raise ExcelRefused("too_many_strings", limit=max_strings)
                    continue
                if _local(element.tag) != "si":
                    continue
                text = _text_of(element)
                # Each finished string is dropped from the table's element as well, so
                # the tree never holds more than the string being read.
                root.clear()
                chars += len(text)
                if len(strings) >= max_strings:
                    raise ExcelRefused("too_many_strings", limit=max_strings)
                if chars > max_chars:
                    raise ExcelRefused("strings_too_long", limit=max_chars)
                strings.append(text)
        return strings

    # -- sheets

    @property
    def sheet_names(self) -> list[str]:
        """The names of the workbook's worksheets, in workbook order."""
        return list(self.sheet_paths)

    def rows(self, sheet: str) -> Iterator[tuple[int, dict[int, object]]]:
        """Yield (row number, {column number: value}) for every row holding a value.

        Raises ExcelRefused for a row or column beyond the limits, or a corrupt part.
        """
        try:
            yield from self._rows(sheet)
        except DefusedXmlException as err:  # a ValueError: caught first
            raise ExcelRefused("xml_entities", sheet=sheet) from err
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, IndexError) as err:
            raise ExcelRefused("corrupt", sheet=sheet) from err
        except SyntaxError as err:
            raise ExcelRefused("corrupt", sheet=sheet) from err

    def _rows(self, sheet: str) -> Iterator[tuple[int, dict[int, object]]]:
        # Cells are handled as each one ends and then emptied, and a finished row is
        # dropped from its parent, so memory stays flat however long a row or sheet is.
        strings = self.strings
        max_rows, max_columns = self.limits.max_rows, self.limits.max_columns
        row_number = seen = column = cells = events = 0
        values: dict[int, object] = {}
        container = None
        with self.zip.open(self.sheet_paths[sheet]) as source:
            for event, element in iterparse(source, events=("start", "end"), forbid_dtd=True):
                events += 1
                if events % _TICK_EVERY == 0:
                    self.tick(sheet, row_number or None)
                tag = _local(element.tag)
                if event == "start":
                    if tag == "row":
                        ref = element.get("r")
                        row_number = int(ref) if ref else row_number + 1
                        values, column, cells = {}, 0, 0
                    elif tag == "sheetData":
                        container = element
                    continue
                if tag == "c":
                    cells += 1
                    ref = element.get("r")
                    column = _column_index(ref) if ref else column + 1
                    value = _cell_value(element, strings)
                    element.clear()
                    if value is None:
                        if cells > EXCEL_MAX_COLUMNS:
                            raise ExcelRefused(
                                "too_many_columns", sheet=sheet, row=row_number, limit=max_columns
                            )
                        continue
                    if column > max_columns:
                        raise ExcelRefused(
                            "too_many_columns", sheet=sheet, row=row_number, limit=max_columns
                        )
                    values[column] = value
                elif tag == "row":
                    if container is not None:
                        container.clear()
                    else:
                        element.clear()
                    # Every row counts, empty or not: a million empty rows would cost
                    # time for nothing.
                    seen += 1
                    if seen > max_rows or (values and row_number > max_rows):
                        raise ExcelRefused(
                            "too_many_rows", sheet=sheet, row=row_number, limit=max_rows
                        )
                    if values:
                        yield row_number, values


def _text_of(element) -> str:
    """The text of an <si> or <is>: its <t> runs, phonetic (<rPh>) runs left out."""
    parts = []
    for child in element:
        name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def _cell_value(cell, strings: list[str]):
    """One <c> element's value (see the module docstring), None when it holds none."""
    kind = cell.get("t", "n")
    formula = raw = inline = None
    for child in cell:
        name = _local(child.tag)
        if name == "f":
            formula = child.text or ""
        elif name == "v":
            raw = child.text
        elif name == "is":
            inline = child
    if formula is not None:
        return Formula(formula)
    if kind == "inlineStr":
        return _text_of(inline) if inline is not None else None
    if raw is None:
        return None
    if kind == "s":
        return strings[int(raw)]
    if kind == "b":
        return raw.strip() in ("1", "true")
    if kind == "e":
        return CellError(raw)
    if kind in ("str", "d"):
        return raw
    try:
        return number(raw.strip())
    except (InvalidOperation, ValueError):
        raise ValueError(f"not a number: {raw!r}") from None


def _count(text: str | None) -> int:
    """A count attribute as a number (0 when absent or not a number)."""
    try:
        return int(text) if text else 0
    except ValueError:
        return 0


def _number(value: float) -> str:
    """A limit for a message: 20 rather than 20.0."""
    return f"{value:g}"


def _mib(size: int) -> str:
    """Bytes as MB for a message: "10" for a whole number, else two decimals."""
    return f"{size // MiB}" if size % MiB == 0 else f"{size / MiB:.2f}"
