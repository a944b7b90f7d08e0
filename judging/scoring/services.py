"""Writes to score sheets: save a draft, submit; and a judge declaring a conflict.

Every write is guarded twice: the service checks the rules (assignment, conflict,
open stage, points in range and on the step), and the database makes concurrent
writers safe: a new sheet is an INSERT … ON CONFLICT DO NOTHING, and a change is an
UPDATE conditioned on the version the judge loaded and on the sheet still being a
draft. Services flush; the request commits once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from judging.common.audit import record
from judging.common.db import insert_for, write_phase
from judging.common.enums import (
    ConflictSource,
    ConflictStatus,
    EntryStatus,
    SheetState,
    StageState,
)
from judging.common.models import utcnow
from judging.common.numbers import parse_number, plain
from judging.common.transactions import execute_core
from judging.contests.models import Criterion, Stage
from judging.contests.versions import bump_stage_version
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Assignment, Conflict, Judge
from judging.judges.queries import judges_entry, on_panel
from judging.ranking import CENT
from judging.scoring.models import Score, ScoreSheet, sheet_totals
from judging.scoring.queries import SheetTarget, submitted_sheets
from judging.scoring.rubric import CriterionSpec, rubric_specs

MAX_COMMENT = 2000
MAX_REASON = 500


class ScoringError(Exception):
    """A refused scoring request; ``status`` is the HTTP answer it deserves."""

    status = 400

    def __init__(self, message: str = "", *, errors: Mapping[int, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})


class NotFound(ScoringError):
    """The sheet, entry or stage is missing or not this person's: answered like a missing one."""

    status = 404


class StaleSheet(ScoringError):
    """The sheet changed since the form was loaded, or was submitted meanwhile."""

    status = 409


class InvalidPoints(ScoringError):
    """Some points are missing, not numbers, out of range or off the step."""

    status = 400


def parse_decimal(raw) -> Decimal | None:
    """Read points typed by a person (``judging.common.numbers.parse_number``, the one
    rule): full-width digits and stray spaces are fine, exponents and other scripts'
    digits are not numbers."""
    return parse_number(raw)


def check_points(
    rubric: Sequence[CriterionSpec], raw: Mapping[int, object], *, complete: bool
) -> dict[int, Decimal]:
    """Validate points per criterion id against the rubric; raise InvalidPoints naming each field.

    A draft may leave criteria empty; a submission needs every one. Values must be
    numbers within 0..max and multiples of the criterion's step.
    """
    clean: dict[int, Decimal] = {}
    errors: dict[int, str] = {}
    for criterion in rubric:
        try:
            value = parse_decimal(raw.get(criterion.id))
        except ValueError:
            errors[criterion.id] = _("%(name)s: not a number.", name=criterion.name)
            continue
        if value is None:
            if complete:
                errors[criterion.id] = _("%(name)s: a score is required.", name=criterion.name)
            continue
        if value < 0 or value > criterion.max_points:
            errors[criterion.id] = _(
                "%(name)s: must be between 0 and %(max)s.",
                name=criterion.name,
                max=plain(criterion.max_points),
            )
        elif value % criterion.step != 0:
            errors[criterion.id] = _(
                "%(name)s: must be a multiple of %(step)s.",
                name=criterion.name,
                step=plain(criterion.step),
            )
        else:
            clean[criterion.id] = value.quantize(CENT)
    if errors:
        raise InvalidPoints(_("Please correct the marked scores."), errors=errors)
    return clean


def describe_sheet(sheet_id: int) -> dict | None:
    """A sheet's state, comment, version and points by criterion name, for the audit log."""
    rows = db.session.execute(
        sa.select(
            ScoreSheet.state, ScoreSheet.comment, ScoreSheet.version, Criterion.name, Score.points
        )
        .outerjoin(Score, Score.sheet_id == ScoreSheet.id)
        .outerjoin(Criterion, Criterion.id == Score.criterion_id)
        .where(ScoreSheet.id == sheet_id)
        .order_by(Criterion.position)
    ).all()
    if not rows:
        return None
    state, comment, version = rows[0][:3]
    return {
        "state": str(state),
        "comment": comment,
        "version": version,
        "points": {name: str(p) for *_, name, p in rows if name is not None},
    }


@dataclass(frozen=True)
class SavedSheet:
    """What a save left: the sheet's id, new version and state."""

    id: int
    version: int
    state: SheetState

    @property
    def is_submitted(self) -> bool:
        """Whether the save locked the sheet."""
        return self.state == SheetState.SUBMITTED


# The statements of the scoring hot path are built once; building them per request cost
# more than running them (bench/scoring.py).
_SHEET_KEY = (
    ScoreSheet.stage_id == sa.bindparam("stage"),
    ScoreSheet.judge_id == sa.bindparam("judge"),
    ScoreSheet.entry_id == sa.bindparam("entry"),
)
_MAY_WRITE = (
    sa.select(Assignment.id)
    .join(Stage, Stage.id == Assignment.stage_id)
    .join(Entry, Entry.id == Assignment.entry_id)
    .where(
        Assignment.stage_id == sa.bindparam("stage"),
        Assignment.judge_id == sa.bindparam("judge"),
        Assignment.entry_id == sa.bindparam("entry"),
        sa.or_(
            Stage.state == StageState.OPEN,
            # A sheet the organizer reopened can be finished while the stage is closed.
            sa.and_(
                Stage.state == StageState.CLOSED,
                sa.exists().where(
                    *_SHEET_KEY,
                    ScoreSheet.state == SheetState.DRAFT,
                    ScoreSheet.reopened_at.is_not(None),
                ),
            ),
        ),
        Entry.status == EntryStatus.REGISTERED,
        on_panel(),
    )
)
_SHEETS = ScoreSheet.__table__
_SHEET_ID = sa.select(ScoreSheet.id).where(*_SHEET_KEY)
_SHEET_STATE = sa.select(ScoreSheet.state).where(*_SHEET_KEY)
_UPDATE_SHEET = (
    ScoreSheet.__table__.update()
    .where(
        *_SHEET_KEY,
        ScoreSheet.version == sa.bindparam("expected"),
        ScoreSheet.state == SheetState.DRAFT,
    )
    .where(_MAY_WRITE.exists())
    .values(
        version=ScoreSheet.version + 1,
        state=sa.bindparam("new_state"),
        comment=sa.bindparam("new_comment"),
        updated_at=sa.bindparam("now"),
        submitted_at=sa.bindparam("new_submitted_at"),
        total_hundredths=sa.bindparam("new_total"),
        points_count=sa.bindparam("new_count"),
    )
    .returning(ScoreSheet.id)
)
#: A new sheet's row, written only when ``_MAY_WRITE`` holds (so the check costs no
#: statement of its own); the values are typed by their columns.
_NEW_SHEET_COLUMNS = {
    "stage_id": "stage",
    "judge_id": "judge",
    "entry_id": "entry",
    "state": "state",
    "comment": "comment",
    "version": None,
    "created_at": "now",
    "updated_at": "now",
    "submitted_at": "submitted_at",
    "total_hundredths": "total_hundredths",
    "points_count": "points_count",
}
_NEW_SHEET_ROW = sa.select(
    *(
        sa.bindparam(param, type_=_SHEETS.c[column].type)
        if param is not None
        else sa.literal(1, _SHEETS.c[column].type)
        for column, param in _NEW_SHEET_COLUMNS.items()
    )
).where(_MAY_WRITE.exists())
_DELETE_CLEARED = Score.__table__.delete().where(
    Score.sheet_id == sa.bindparam("sheet"),
    Score.criterion_id.not_in(sa.bindparam("keep", expanding=True)),
)
_upserts: dict[str, dict[str, sa.Executable]] = {}


def _upsert(name: str) -> sa.Executable:
    """The dialect's ON CONFLICT statements, built once per dialect."""
    dialect = db.session.get_bind().dialect.name
    if dialect not in _upserts:
        sheet = (
            insert_for(db.session, _SHEETS)
            .from_select(list(_NEW_SHEET_COLUMNS), _NEW_SHEET_ROW)
            .on_conflict_do_nothing(index_elements=["stage_id", "judge_id", "entry_id"])
        )
        score = insert_for(db.session, Score.__table__)
        _upserts[dialect] = {
            "new_sheet": sheet.returning(ScoreSheet.id),
            "new_scores": score,
            "replace_scores": score.on_conflict_do_update(
                index_elements=["sheet_id", "criterion_id"], set_={"points": score.excluded.points}
            ),
        }
    return _upserts[dialect][name]


def may_edit(stage: Stage, entry: Entry, sheet: ScoreSheet | None) -> bool:
    """Whether the judge of ``sheet`` (None: not started) may write it now: the entry still
    competes, and the stage is open, or closed with this sheet reopened and unsubmitted."""
    if not entry.is_active or (sheet is not None and sheet.is_submitted):
        return False
    if stage.is_open:
        return True
    return stage.state == StageState.CLOSED and sheet is not None and sheet.reopened_at is not None


def _may_write(stage_id: int, judge_id: int, entry_id: int) -> bool:
    """In the write transaction: the stage is open, the entry competing and assigned to the
    judge, with no binding conflict (checked again here so a concurrent change cannot slip
    between the page's checks and the write)."""
    params = {"stage": stage_id, "judge": judge_id, "entry": entry_id}
    return db.session.execute(_MAY_WRITE, params).first() is not None


def save_sheet(
    *,
    judge: Judge,
    entry: Entry,
    stage: Stage,
    points: Mapping[int, object],
    comment: str,
    expected_version: int,
    submit: bool,
    rubric: Sequence[CriterionSpec] | None = None,
) -> SavedSheet:
    """Save a draft (submit=False) or submit (lock) the judge's sheet for entry in stage.

    ``expected_version`` is the version the form was loaded with (0: no sheet yet).
    Raises NotFound, InvalidPoints or StaleSheet; on success the version grew by one.
    """
    if entry.contest_id != stage.contest_id:
        raise NotFound()
    if rubric is None:
        rubric = rubric_specs(stage.id, entry.group_id)
    target = SheetTarget.of(judge=judge, stage=stage, entry=entry, rubric=rubric)
    return write_sheet(
        target=target,
        points=points,
        comment=comment,
        expected_version=expected_version,
        submit=submit,
    )


def write_sheet(
    *,
    target: SheetTarget,
    points: Mapping[int, object],
    comment: str,
    expected_version: int,
    submit: bool,
) -> SavedSheet:
    """``save_sheet`` for a target read as plain values (``queries.sheet_target``, as the
    scoring page's POST does: no model is loaded to save a sheet).

    The checks and the points are read first; the write lock is held only for the writes.
    """
    stage_id, judge_id, entry_id = target.stage_id, target.judge_id, target.entry_id
    group_id, contest_id, user_id = target.group_id, target.contest_id, target.user_id
    rubric = target.rubric
    writable = target.stage_state in (StageState.OPEN, StageState.CLOSED)
    if not (writable and target.entry_is_active):
        raise NotFound()
    clean = check_points(rubric, points, complete=submit)
    comment = (comment or "").strip()[:MAX_COMMENT]
    state = SheetState.SUBMITTED if submit else SheetState.DRAFT
    totals = sheet_totals(clean.values())
    key = {"stage": stage_id, "judge": judge_id, "entry": entry_id}

    with write_phase(db.session):
        # The rules (_MAY_WRITE) are part of the write itself; when it writes nothing,
        # the statements below say why, off the common path.
        now = utcnow()
        submitted_at = now if submit else None
        if expected_version == 0:
            old = None
            sheet_id = execute_core(
                _upsert("new_sheet"),
                {
                    **key,
                    "state": state,
                    "comment": comment,
                    "now": now,
                    "submitted_at": submitted_at,
                    **totals,
                },
            ).scalar()
        else:
            current = db.session.execute(_SHEET_ID, key).scalar()
            old = describe_sheet(current) if current is not None else None
            sheet_id = execute_core(
                _UPDATE_SHEET,
                {
                    **key,
                    "expected": expected_version,
                    "new_state": state,
                    "new_comment": comment,
                    "now": now,
                    "new_submitted_at": submitted_at,
                    "new_total": totals["total_hundredths"],
                    "new_count": totals["points_count"],
                },
            ).scalar()
        if sheet_id is None:
            if not _may_write(stage_id, judge_id, entry_id):
                raise NotFound()
            if db.session.execute(_SHEET_STATE, key).scalar() == SheetState.SUBMITTED:
                raise StaleSheet(_("This sheet has already been submitted and is locked."))
            raise StaleSheet(
                _(
                    "This sheet was changed elsewhere (another tab or device). The latest saved "
                    "scores are shown; please check them and save again."
                )
            )

        _write_scores(sheet_id, clean, replace=old is not None)
        names = {c.id: c.name for c in rubric}
        new_version = expected_version + 1
        record(
            "sheet_submit" if submit else "sheet_save",
            user_id=user_id,
            contest_id=contest_id,
            entry_id=entry_id,
            object_type="ScoreSheet",
            object_id=sheet_id,
            old=old,
            new={
                "state": str(state),
                "comment": comment,
                "version": new_version,
                "points": {names[cid]: str(p) for cid, p in clean.items()},
            },
        )
        if submit:  # drafts never count, so only a submission can move standings
            bump_stage_version(contest_id, stage_id=stage_id, group_id=group_id)
    return SavedSheet(id=sheet_id, version=new_version, state=state)


def _write_scores(sheet_id: int, clean: Mapping[int, Decimal], *, replace: bool) -> None:
    """Make the sheet's score rows exactly ``clean``: upsert the given, delete the cleared."""
    rows = [{"sheet_id": sheet_id, "criterion_id": cid, "points": p} for cid, p in clean.items()]
    if rows:
        execute_core(_upsert("replace_scores" if replace else "new_scores"), rows)
    if replace:
        execute_core(_DELETE_CLEARED, {"sheet": sheet_id, "keep": list(clean) or [-1]})


def may_declare_conflict(*, judge: Judge, entry: Entry, stage: Stage) -> str | None:
    """Why the judge may not declare a conflict with entry now (Rule 7), or None if they may:
    only in an open stage, on an entry they have submitted no sheet for in any stage."""
    if not stage.is_open:
        return _(
            "%(stage)s is not open: ask the organizer to record the conflict.", stage=stage.name
        )
    done = [stage for stage, _total in submitted_sheets(judge, entry)]
    if done:
        return _(
            "You have submitted a sheet for %(code)s (%(stages)s): a conflict would remove it, "
            "which only the organizer can decide. Please tell the organizer.",
            code=entry.code,
            stages="、".join(s.name for s in done),
        )
    return None


def declare_conflict(*, judge: Judge, entry: Entry, stage: Stage, reason: str) -> Conflict:
    """Judge: declare a conflict (回避) with an entry they have not submitted, in an open
    stage. It binds for the judge's own list at once; the organizer sees it as new."""
    if not judges_entry(judge, entry, stage):
        raise NotFound()
    refused = may_declare_conflict(judge=judge, entry=entry, stage=stage)
    if refused:
        raise ScoringError(refused)
    reason = (reason or "").replace("\x00", "").strip()[:MAX_REASON]
    if not reason:
        raise ScoringError(_("Please give a reason for the conflict."))
    now = utcnow()
    values = {
        "judge_id": judge.id,
        "entry_id": entry.id,
        "reason": reason,
        "source": ConflictSource.JUDGE,
        "status": ConflictStatus.BINDING,
        "created_at": now,
        "created_by_id": judge.user_id,
        "decided_at": now,
        "decided_by_id": judge.user_id,
        "reviewed_at": None,
        "reviewed_by_id": None,
    }
    stmt = insert_for(db.session, Conflict).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["judge_id", "entry_id"],
        set_={
            k: stmt.excluded[k]
            for k in (
                "reason",
                "source",
                "status",
                "decided_at",
                "decided_by_id",
                "reviewed_at",
                "reviewed_by_id",
            )
        },
    ).returning(Conflict.id)
    conflict_id = db.session.execute(stmt).scalar()
    record(
        "conflict_declare",
        contest_id=entry.contest_id,
        entry_id=entry.id,
        object_type="Conflict",
        object_id=conflict_id,
        new={"judge": judge.name, "reason": reason, "stage": stage.code},
    )
    # The judge's sheets of the entry stop counting, in every stage of its group.
    bump_stage_version(entry.contest_id, group_id=entry.group_id)
    db.session.flush()
    return db.session.get(Conflict, conflict_id, populate_existing=True)
