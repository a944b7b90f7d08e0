"""Reads for the scoring pages: a judge's assigned entries and their sheets."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from judging.common.audit import AuditEvent
from judging.common.enums import EntryStatus, SheetState, StageState
from judging.common.transactions import execute_core
from judging.contests.models import Criterion, Stage
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Assignment, Judge
from judging.judges.queries import on_panel
from judging.scoring.models import Score, ScoreSheet
from judging.scoring.rubric import RUBRIC_COLUMNS, CriterionSpec

NOT_STARTED = "not_started"
SHEET_STATES = (NOT_STARTED, "draft", "submitted")


@dataclass
class AssignedEntry:
    """One line of a judge's list: the entry and the state of the judge's sheet."""

    entry: Entry
    state: str
    total: Decimal | None
    submitted_at: datetime | None
    #: a draft the organizer reopened: its judge may finish it while the stage is closed
    reopened: bool = False


def assigned_entries(
    judge: Judge, stage: Stage, *, state: str | None = None, group_id: int | None = None
) -> list[AssignedEntry]:
    """The judge's non-conflicted assigned entries in stage that still compete, with sheet
    state and total."""
    totals = (
        sa.select(Score.sheet_id, sa.func.sum(Score.points).label("total"))
        .group_by(Score.sheet_id)
        .subquery()
    )
    query = (
        sa.select(
            Entry, ScoreSheet.state, totals.c.total, ScoreSheet.submitted_at, ScoreSheet.reopened_at
        )
        .join(Assignment, Assignment.entry_id == Entry.id)
        .outerjoin(
            ScoreSheet,
            sa.and_(
                ScoreSheet.stage_id == Assignment.stage_id,
                ScoreSheet.judge_id == Assignment.judge_id,
                ScoreSheet.entry_id == Assignment.entry_id,
            ),
        )
        .outerjoin(totals, totals.c.sheet_id == ScoreSheet.id)
        .where(
            Assignment.judge_id == judge.id,
            Assignment.stage_id == stage.id,
            on_panel(),
            # A withdrawn or disqualified entry is out of the judge's list, as it is out
            # of their progress (its sheets are kept, and count again if it is reinstated).
            Entry.status == EntryStatus.REGISTERED,
        )
        .options(selectinload(Entry.group), selectinload(Entry.field))
        .order_by(Entry.code)
    )
    if group_id:
        query = query.where(Entry.group_id == group_id)
    rows = [
        AssignedEntry(
            entry=entry,
            state=sheet_state.value if sheet_state is not None else NOT_STARTED,
            total=total,
            submitted_at=submitted_at,
            reopened=reopened_at is not None and sheet_state == SheetState.DRAFT,
        )
        for entry, sheet_state, total, submitted_at, reopened_at in db.session.execute(query)
    ]
    if state in SHEET_STATES:
        rows = [r for r in rows if r.state == state]
    return rows


def find_sheet(judge: Judge, entry: Entry, stage: Stage) -> ScoreSheet | None:
    """The judge's sheet for entry in stage, with its scores, or None."""
    return db.session.scalar(
        sa.select(ScoreSheet)
        .where(
            ScoreSheet.stage_id == stage.id,
            ScoreSheet.judge_id == judge.id,
            ScoreSheet.entry_id == entry.id,
        )
        .options(selectinload(ScoreSheet.scores))
        .execution_options(populate_existing=True)
    )


_CONTEXT = (
    sa.select(Judge, Stage, Entry)
    .join(Stage, Stage.contest_id == Judge.contest_id)
    .join(Entry, Entry.contest_id == Stage.contest_id)
    .join(
        Assignment,
        sa.and_(
            Assignment.stage_id == Stage.id,
            Assignment.judge_id == Judge.id,
            Assignment.entry_id == Entry.id,
        ),
    )
    .where(
        Judge.user_id == sa.bindparam("user"),
        Stage.id == sa.bindparam("stage"),
        Entry.id == sa.bindparam("entry"),
        on_panel(),
    )
)


def scoring_context(user_id: int, stage_id: int, entry_id: int):
    """(judge, stage, entry) when the user judges entry in stage, else None (one query).

    The user must be a judge of the stage's contest, assigned the entry in that stage,
    with no binding conflict; the entry must belong to the same contest.
    """
    row = db.session.execute(
        _CONTEXT, {"user": user_id, "stage": stage_id, "entry": entry_id}
    ).one_or_none()
    return tuple(row) if row is not None else None


@dataclass(frozen=True, slots=True)
class SheetTarget:
    """Whose sheet of which entry in which stage, as plain values, with the entry's rubric:
    what saving a sheet reads before it writes (``sheet_target``: one query, no ORM)."""

    judge_id: int
    user_id: int
    contest_id: int
    stage_id: int
    stage_state: StageState
    entry_id: int
    group_id: int
    entry_code: str
    entry_status: EntryStatus
    rubric: tuple[CriterionSpec, ...]

    @property
    def entry_is_active(self) -> bool:
        """Whether the entry still competes (``Entry.is_active``)."""
        return self.entry_status == EntryStatus.REGISTERED

    @classmethod
    def of(cls, *, judge: Judge, stage: Stage, entry: Entry, rubric) -> SheetTarget:
        """The target of loaded models (the caller checks they belong together)."""
        return cls(
            judge_id=judge.id,
            user_id=judge.user_id,
            contest_id=stage.contest_id,
            stage_id=stage.id,
            stage_state=stage.state,
            entry_id=entry.id,
            group_id=entry.group_id,
            entry_code=entry.code,
            entry_status=entry.status,
            rubric=tuple(rubric),
        )


_TARGET = (
    sa.select(
        Judge.id,
        Judge.user_id,
        Stage.contest_id,
        Stage.id,
        Stage.state,
        Entry.id,
        Entry.group_id,
        Entry.code,
        Entry.status,
        *RUBRIC_COLUMNS,
    )
    .select_from(Judge)
    .join(Stage, Stage.contest_id == Judge.contest_id)
    .join(Entry, Entry.contest_id == Stage.contest_id)
    .join(
        Assignment,
        sa.and_(
            Assignment.stage_id == Stage.id,
            Assignment.judge_id == Judge.id,
            Assignment.entry_id == Entry.id,
        ),
    )
    .outerjoin(
        Criterion, sa.and_(Criterion.stage_id == Stage.id, Criterion.group_id == Entry.group_id)
    )
    .where(
        Judge.user_id == sa.bindparam("user"),
        Stage.id == sa.bindparam("stage"),
        Entry.id == sa.bindparam("entry"),
        on_panel(),
    )
    .order_by(Criterion.position)
)


def sheet_target(user_id: int, stage_id: int, entry_id: int) -> SheetTarget | None:
    """The sheet the user would write for entry in stage, with its rubric, or None when
    ``scoring_context`` would find none (one query, plain values: the scoring page's POST
    reads this and no model; the models are loaded only to render a page)."""
    rows = execute_core(_TARGET, {"user": user_id, "stage": stage_id, "entry": entry_id}).all()
    if not rows:
        return None
    first = rows[0]
    rubric = tuple(CriterionSpec(*row[9:]) for row in rows if row[9] is not None)
    return SheetTarget(*first[:9], rubric=rubric)


_LEFT = (
    sa.select(Entry.id)
    .join(Assignment, Assignment.entry_id == Entry.id)
    .outerjoin(
        ScoreSheet,
        sa.and_(
            ScoreSheet.stage_id == Assignment.stage_id,
            ScoreSheet.judge_id == Assignment.judge_id,
            ScoreSheet.entry_id == Assignment.entry_id,
        ),
    )
    .where(
        Assignment.judge_id == sa.bindparam("judge"),
        Assignment.stage_id == sa.bindparam("stage"),
        on_panel(),
        Entry.status == EntryStatus.REGISTERED,
        sa.or_(ScoreSheet.id.is_(None), ScoreSheet.state == SheetState.DRAFT),
    )
    .order_by(Entry.code)
)
_LEFT_REOPENED = _LEFT.where(ScoreSheet.reopened_at.is_not(None))


def entries_left(judge_id: int, stage_id: int, *, stage_state: StageState) -> list[int]:
    """The ids of the entries the judge still has to submit in the stage, by code (the
    order of the judge's list): every unsubmitted one of an open stage; of a closed stage,
    only the drafts the organizer reopened (the only ones the judge may still write)."""
    if stage_state not in (StageState.OPEN, StageState.CLOSED):
        return []
    query = _LEFT if stage_state == StageState.OPEN else _LEFT_REOPENED
    return list(db.session.scalars(query, {"judge": judge_id, "stage": stage_id}))


def next_to_score(
    order: Sequence[int], left: Collection[int], current: int | None, on_stage: int | None = None
) -> int | None:
    """The entry a judge scores after submitting ``current``, or None when none is left.

    The entry on stage (a live roadshow) when it is left to score; else the first entry
    left after ``current`` in ``order`` (the running order, or the list's), going round
    to the start for one skipped earlier (from the start when ``current`` is None).
    Entries left but missing from ``order`` follow it.
    """
    todo = set(left)
    todo.discard(current)
    if not todo:
        return None
    if on_stage is not None and on_stage in todo:
        return on_stage
    placed = set(order)
    sequence = list(order) + [e for e in left if e not in placed]
    if current in sequence:
        at = sequence.index(current)
        sequence = sequence[at + 1 :] + sequence[:at]
    return next((e for e in sequence if e in todo), None)


def judge_for(user_id: int, contest_id: int) -> Judge | None:
    """The judge record of a user in a contest, or None."""
    return db.session.scalar(
        sa.select(Judge).where(Judge.user_id == user_id, Judge.contest_id == contest_id)
    )


def submitted_entry_code(judge_id: int, stage_id: int, entry_id: int) -> str | None:
    """The code of the entry whose sheet the judge has submitted in the stage, or None
    when there is no such submitted sheet (what the page after a submission confirms)."""
    return db.session.scalar(
        sa.select(Entry.code)
        .join(ScoreSheet, ScoreSheet.entry_id == Entry.id)
        .where(
            ScoreSheet.judge_id == judge_id,
            ScoreSheet.stage_id == stage_id,
            ScoreSheet.entry_id == entry_id,
            ScoreSheet.state == SheetState.SUBMITTED,
        )
    )


@dataclass
class SheetRow:
    """One sheet on the organizer's list."""

    sheet: ScoreSheet
    entry: Entry
    judge: Judge
    total: Decimal


def stage_sheets(
    stage: Stage, *, state: str | None = None, judge_id: int | None = None, q: str = ""
) -> list[SheetRow]:
    """The sheets of a stage for the organizer, with totals, filtered by state, judge or entry."""
    totals = (
        sa.select(Score.sheet_id, sa.func.coalesce(sa.func.sum(Score.points), 0).label("total"))
        .group_by(Score.sheet_id)
        .subquery()
    )
    query = (
        sa.select(ScoreSheet, Entry, Judge, sa.func.coalesce(totals.c.total, 0))
        .join(Entry, Entry.id == ScoreSheet.entry_id)
        .join(Judge, Judge.id == ScoreSheet.judge_id)
        .outerjoin(totals, totals.c.sheet_id == ScoreSheet.id)
        .where(ScoreSheet.stage_id == stage.id)
        .order_by(Entry.code, Judge.name)
    )
    if state in ("draft", "submitted"):
        query = query.where(ScoreSheet.state == state)
    if judge_id:
        query = query.where(ScoreSheet.judge_id == judge_id)
    if q:
        like = f"%{q}%"
        query = query.where(sa.or_(Entry.code.ilike(like), Entry.title.ilike(like)))
    return [
        SheetRow(sheet=s, entry=e, judge=j, total=Decimal(t))
        for s, e, j, t in db.session.execute(query)
    ]


def sheets_with_wrong_totals(limit: int = 20) -> list[tuple[int, int, int]]:
    """Sheets whose stored total or point count differs from their score rows.

    (sheet id, stored total in hundredths, actual); empty when every writer kept them
    (the test suite checks it after every test).
    """
    actual = (
        sa.select(
            Score.sheet_id,
            sa.func.sum(Score.points).label("points"),
            sa.func.count(Score.id).label("count"),
        )
        .group_by(Score.sheet_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            ScoreSheet.id,
            ScoreSheet.total_hundredths,
            ScoreSheet.points_count,
            actual.c.points,
            actual.c.count,
        ).outerjoin(actual, actual.c.sheet_id == ScoreSheet.id)
    )
    wrong = []
    for sheet_id, stored, stored_count, points, count in rows:
        real = round(Decimal(str(points or 0)) * 100)
        if stored != real or stored_count != (count or 0):
            wrong.append((sheet_id, stored, real))
            if len(wrong) >= limit:
                break
    return wrong


def reopen_reason(sheet_id: int) -> str | None:
    """Why the organizer last reopened a sheet (from the audit log), or None."""
    return db.session.scalar(
        sa.select(AuditEvent.reason)
        .where(
            AuditEvent.action == "sheet_reopen",
            AuditEvent.object_type == "ScoreSheet",
            AuditEvent.object_id == sheet_id,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )


def submitted_sheets(judge: Judge, entry: Entry) -> list[tuple[Stage, Decimal]]:
    """The judge's submitted sheets for the entry: (stage, total), in stage order. What a
    conflict between them would take out of the entry's scores (Rule 7)."""
    rows = db.session.execute(
        sa.select(Stage, ScoreSheet.total_hundredths)
        .join(ScoreSheet, ScoreSheet.stage_id == Stage.id)
        .where(
            ScoreSheet.judge_id == judge.id,
            ScoreSheet.entry_id == entry.id,
            ScoreSheet.state == SheetState.SUBMITTED,
        )
        .order_by(Stage.position)
    ).all()
    return [(stage, Decimal(total).scaleb(-2)) for stage, total in rows]
