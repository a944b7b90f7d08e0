"""Importing a workbook: the whole contest, or one sheet of entries, judges or score sheets.

``import_workbook`` reads the file (refusing hostile or broken files before any row is
read, and any file past the reader's bounds as soon as it is met), validates every row of
every sheet against the others and the database, and only if nothing at all is wrong
writes the result in the caller's transaction; the caller commits once. Reading and
checking take no write lock (``judging.common.db.write_phase``): on SQLite a judge's
draft saved meanwhile does not wait for them, only for the writes. Any problem raises
``ImportRejected`` with all of them, and nothing is written. Codes (entry codes, group and
stage codes, usernames) are the keys: importing the same file twice changes nothing the
second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app

from judging.auth.models import User
from judging.common.audit import record
from judging.common.db import write_phase
from judging.contests.models import Contest
from judging.contests.organizers import grant, may_manage
from judging.contests.queries import get_contest
from judging.contests.versions import bump_data_version
from judging.extensions import db
from judging.imports.problems import ImportRejected, Problem, problem
from judging.imports.reader import Book, ExcelRefused, Limits
from judging.imports.spec import (
    ASSIGNMENTS,
    CONTEST,
    CONTEST_WORKBOOK,
    ENTRIES,
    JUDGES,
    SCORES,
    SheetSpec,
)
from judging.imports.state import Existing
from judging.imports.table import Cells, Table, clean_key, find_sheet, read_table
from judging.imports.validate import Validator
from judging.imports.write import Writer

KINDS = ("contest", "entries", "judges", "scores")
SINGLE = {"entries": ENTRIES, "judges": JUDGES, "scores": SCORES}


@dataclass
class ImportResult:
    """What an import did (or, for a dry run, would do), counted per kind of record."""

    kind: str
    slug: str
    contest_id: int | None
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        """Whether anything was (or would be) written."""
        return bool(sum(self.created.values()) + sum(self.updated.values()))


def refusal(err: ExcelRefused) -> Problem:
    """A refused file as a problem row."""
    return problem(err.code, sheet=err.sheet, row=err.row, **err.params)


def import_workbook(
    *,
    data: bytes,
    kind: str,
    contest: Contest | None = None,
    stage_code: str | None = None,
    update: bool = False,
    user_id: int | None = None,
    filename: str = "",
    limits: Limits | None = None,
    dry_run: bool = False,
    organizer: User | None = None,
    give_to: Sequence[User] = (),
) -> ImportResult:
    """Validate a workbook completely, then write it (see the module docstring).

    ``kind`` is "contest" (the contest workbook: a new contest, or ``contest`` again) or
    one of "entries", "judges", "scores" (one sheet into ``contest``; ``stage_code`` is
    the stage of score rows that name none). Raises ImportRejected listing every problem.

    ``organizer`` is the organizer importing (through the web): a contest workbook may
    change only a contest they run, and a new contest is given to them; ``give_to`` are
    further organizer accounts a new contest is given to (the command line's choice).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    if kind != "contest" and contest is None:
        raise ValueError("a single-sheet import needs a contest")
    limits = limits or Limits.from_config(current_app.config)
    problems: list[Problem] = []
    try:
        book = Book(data, limits)
        tables = _tables(book, kind, problems, stage_code=stage_code)
    except ExcelRefused as err:
        raise ImportRejected([refusal(err)]) from None
    # A template's example rows refuse the file before its rows are checked, as a missing
    # column does: rows checked with the examples (or without them) would be refused for
    # the examples' sake (an unknown judge, a duplicate code, a criterion column left over),
    # problems that are not the organizer's and would bury the one that is.
    problems.extend(p for table in tables.values() for p in table.examples)
    if problems:
        raise ImportRejected(problems)

    existing, validator, slug = _check(
        tables,
        kind=kind,
        contest=contest,
        stage_code=stage_code,
        update=update,
        organizer=organizer,
    )
    if dry_run:
        return _result(kind, slug, existing, validator, dry_run=True)
    # Everything above only read (the file, and the database in a read transaction that
    # blocks no writer). The write lock is taken here, for the writes alone; the state
    # the file was checked against is read again inside it, and the file checked again
    # (from its rows already read) only if that state changed in the meantime.
    with write_phase(db.session):
        db.session.expire_all()
        if not _still_current(existing, kind=kind, slug=slug):
            existing, validator, slug = _check(
                tables,
                kind=kind,
                contest=contest,
                stage_code=stage_code,
                update=update,
                organizer=organizer,
            )
        result = _result(kind, slug, existing, validator, dry_run=False)
        _write(
            result,
            existing,
            validator,
            kind=kind,
            user_id=user_id,
            filename=filename,
            organizer=organizer,
            give_to=give_to,
        )
    db.session.expire_all()
    return result


def _still_current(existing: Existing, *, kind: str, slug: str) -> bool:
    """Whether the database still holds what the file was checked against."""
    if kind == "contest" and existing.contest_id is None and get_contest(slug) is not None:
        return False  # the new contest's slug was taken meanwhile
    return existing.reload().same_as(existing)


def _check(
    tables: dict[str, Table],
    *,
    kind: str,
    contest: Contest | None,
    stage_code: str | None,
    update: bool,
    organizer: User | None,
) -> tuple[Existing, Validator, str]:
    """Check the tables against the contest as it is: (state read, its plan, slug).

    Reads the database only. Raises ImportRejected with every problem found; a contest
    workbook naming another organizer's contest, only that its address is taken.
    """
    problems: list[Problem] = []
    if kind == "contest":
        slug = _peek_slug(tables["contest"])
        target = contest or (get_contest(slug) if slug else None)
        if (
            contest is None
            and target is not None
            and organizer is not None
            and not may_manage(organizer, target)
        ):
            # another organizer's contest: its address is taken, nothing more is said
            table = tables["contest"]
            raise ImportRejected([problem("slug_taken", sheet=table.sheet, value=slug)])
    else:
        target = contest
    existing = Existing.load(target)
    judges = tables.get("judges")
    if judges is not None and judges.has("username"):
        col = judges.columns["username"]
        existing.load_users(clean_key(values[col]) for _, values in judges.rows if col in values)

    validator = Validator(
        existing,
        update=update,
        tz=current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"),
        problems=problems,
    )
    if kind == "contest":
        slug = validator.contest(tables["contest"], expected=contest.slug if contest else None)
        for spec in CONTEST_WORKBOOK[1:10]:
            getattr(validator, spec.key)(tables.get(spec.key))
        _load_links(validator, tables, stage_code=None)
        validator.assignments(tables.get("assignments"))
        validator.scores(tables.get("scores"))
    else:
        slug = contest.slug
        if kind == "scores":
            if stage_code is not None and validator.stage_of(stage_code) is None:
                raise ImportRejected([problem("unknown_stage", value=stage_code)])
            stage_code = validator.stage_of(stage_code) if stage_code else None
            _load_links(validator, tables, stage_code=stage_code)
            validator.scores(tables["scores"], stage_code=stage_code)
        else:
            getattr(validator, kind)(tables[kind])
    if problems:
        raise ImportRejected(problems)
    return existing, validator, slug


def _result(
    kind: str, slug: str, existing: Existing, validator: Validator, *, dry_run: bool
) -> ImportResult:
    """The result of a checked plan; for a dry run, with what it would write."""
    plan = validator.plan
    result = ImportResult(
        kind=kind,
        slug=slug,
        contest_id=existing.contest_id,
        unchanged=dict(plan.same),
        dry_run=dry_run,
    )
    if dry_run:
        result.created = {k: len(v) for k, v in plan.create.items() if v}
        result.updated = {k: len(v) for k, v in plan.update.items() if v}
    return result


def _write(
    result: ImportResult,
    existing: Existing,
    validator: Validator,
    *,
    kind: str,
    user_id: int | None,
    filename: str,
    organizer: User | None,
    give_to: Sequence[User],
) -> None:
    """Write a checked plan in the caller's (write) transaction; fill in what it did. A new
    contest is given to the organizer importing it and to ``give_to``."""
    writer = Writer(validator.plan, existing, user_id=user_id)
    try:
        result.contest_id = writer.run()
    except sa.exc.IntegrityError as err:
        raise ImportRejected([problem("database", error=type(err.orig).__name__)]) from err
    result.created = {k: n for k, n in writer.created.items() if n}
    result.updated = {k: n for k, n in writer.updated.items() if n}
    if result.created.get("contest"):
        new_contest = db.session.get(Contest, result.contest_id)
        for user in [*([organizer] if organizer is not None else []), *give_to]:
            grant(contest=new_contest, user=user, by=organizer)
    if result.changed:
        record(
            "excel_import",
            contest_id=result.contest_id,
            object_type="Contest",
            object_id=result.contest_id,
            new={
                "kind": kind,
                "file": filename,
                "created": result.created,
                "updated": result.updated,
            },
            user_id=user_id,
        )
        bump_data_version(result.contest_id)


def _tables(
    book: Book, kind: str, problems: list[Problem], *, stage_code: str | None
) -> dict[str, Table]:
    """Find and read the sheets of an import (a problem for each missing one)."""
    tables: dict[str, Table] = {}
    if kind == "contest":
        specs: list[tuple[SheetSpec, bool]] = [(s, s is CONTEST) for s in CONTEST_WORKBOOK]
        fallback = False
    else:
        specs = [(SINGLE[kind], True)]
        fallback = True
    for spec, needed in specs:
        sheet = find_sheet(book, spec, fallback_first=fallback)
        if sheet is None:
            if needed:
                problems.append(problem("missing_sheet", sheet=spec.zh))
            continue
        required = None
        if spec is SCORES and stage_code is not None:
            required = {c.key for c in spec.required} - {"stage"}
        table = read_table(book, sheet, spec, problems, required=required)
        if table is not None:
            tables[spec.key] = table
    return tables


def _peek_slug(table: Table) -> str:
    """The slug on the contest sheet's first row, without recording problems."""
    for row, values in table.rows:
        return Cells(table, row, values, []).key("slug")
    return ""


def _load_links(validator: Validator, tables: dict[str, Table], *, stage_code: str | None) -> None:
    """Load the existing assignments and sheets the file's link rows may meet."""
    scratch: list[Problem] = []
    stages: set[str] = {stage_code} if stage_code else set()
    judges: set[str] = set()
    for spec in (ASSIGNMENTS, SCORES):
        table = tables.get(spec.key)
        if table is None:
            continue
        for row, values in table.rows:
            cells = Cells(table, row, values, scratch)
            stage = validator.stage_of(cells.key("stage")) if table.has("stage") else None
            if stage:
                stages.add(stage)
            judge = validator.judge(cells, "judge")
            if judge:
                judges.add(judge)
    validator.x.load_links(stages, judges)
