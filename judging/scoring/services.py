"""Writes to score sheets: save a draft, submit, reopen; and declaring a conflict.

Every write is guarded twice: the service checks the rules (assignment, conflict,
open stage, points in range and on the step), and the database makes concurrent
writers safe: a new sheet is an INSERT … ON CONFLICT DO NOTHING, and a change is an
UPDATE conditioned on the version the judge loaded and on the sheet still being a
draft. Services flush; the request commits once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _

from judging.common.audit import record
from judging.common.db import insert_for
from judging.common.enums import ConflictSource, ConflictStatus, SheetState
from judging.common.models import utcnow
from judging.common.numbers import plain
from judging.contests.models import Criterion, Stage
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Conflict, Judge
from judging.scoring.models import Score, ScoreSheet

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
    """Read a number typed by a person: full-width digits and stray spaces are fine."""
    if raw is None:
        return None
    if isinstance(raw, Decimal):
        return raw
    text = unicodedata.normalize("NFKC", str(raw)).strip().replace(" ", "")
    if text == "":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as err:
        raise ValueError(text) from err
    if not value.is_finite():
        raise ValueError(text)
    return value


def check_points(
    rubric: list[Criterion], raw: Mapping[int, object], *, complete: bool
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
            clean[criterion.id] = value.quantize(Decimal("0.01"))
    if errors:
        raise InvalidPoints(_("Please correct the marked scores."), errors=errors)
    return clean


def describe_sheet(sheet_id: int) -> dict | None:
    """A sheet's state, comment, version and points by criterion name, for the audit log."""
    row = db.session.execute(
        sa.select(ScoreSheet.state, ScoreSheet.comment, ScoreSheet.version).where(
            ScoreSheet.id == sheet_id
        )
    ).one_or_none()
    if row is None:
        return None
    points = db.session.execute(
        sa.select(Criterion.name, Score.points)
        .join(Criterion, Criterion.id == Score.criterion_id)
        .where(Score.sheet_id == sheet_id)
        .order_by(Criterion.position)
    ).all()
    return {
        "state": str(row.state),
        "comment": row.comment,
        "version": row.version,
        "points": {name: str(p) for name, p in points},
    }


def _sheet_key(stage: Stage, judge: Judge, entry: Entry):
    return (
        ScoreSheet.stage_id == stage.id,
        ScoreSheet.judge_id == judge.id,
        ScoreSheet.entry_id == entry.id,
    )


def save_sheet(
    *,
    judge: Judge,
    entry: Entry,
    stage: Stage,
    points: Mapping[int, object],
    comment: str,
    expected_version: int,
    submit: bool,
) -> ScoreSheet:
    """Save a draft (submit=False) or submit (lock) the judge's sheet for entry in stage.

    ``expected_version`` is the version the form was loaded with (0: no sheet yet).
    Raises NotFound, InvalidPoints or StaleSheet; on success the sheet's version grew by one.
    """
    if not judge.can_score(entry, stage):
        raise NotFound()
    clean = check_points(stage.rubric(entry.group), points, complete=submit)
    comment = (comment or "").strip()[:MAX_COMMENT]
    now = utcnow()
    state = SheetState.SUBMITTED if submit else SheetState.DRAFT
    submitted_at = now if submit else None

    existing_id = db.session.scalar(
        sa.select(ScoreSheet.id).where(*_sheet_key(stage, judge, entry))
    )
    old = describe_sheet(existing_id) if existing_id is not None else None

    if expected_version == 0:
        stmt = (
            insert_for(db.session, ScoreSheet)
            .values(
                stage_id=stage.id,
                judge_id=judge.id,
                entry_id=entry.id,
                state=state,
                comment=comment,
                version=1,
                created_at=now,
                updated_at=now,
                submitted_at=submitted_at,
            )
            .on_conflict_do_nothing(index_elements=["stage_id", "judge_id", "entry_id"])
            .returning(ScoreSheet.id)
        )
        sheet_id = db.session.execute(stmt).scalar()
    else:
        sheet_id = db.session.execute(
            sa.update(ScoreSheet)
            .where(
                *_sheet_key(stage, judge, entry),
                ScoreSheet.version == expected_version,
                ScoreSheet.state == SheetState.DRAFT,
            )
            .values(
                version=ScoreSheet.version + 1,
                state=state,
                comment=comment,
                updated_at=now,
                submitted_at=submitted_at,
            )
            .returning(ScoreSheet.id)
            .execution_options(synchronize_session=False)
        ).scalar()
    if sheet_id is None:
        if old is not None and old["state"] == SheetState.SUBMITTED:
            raise StaleSheet(_("This sheet has already been submitted and is locked."))
        raise StaleSheet(
            _(
                "This sheet was changed elsewhere (another tab or device). The latest saved "
                "scores are shown; please check them and save again."
            )
        )

    _write_scores(sheet_id, clean)
    new = describe_sheet(sheet_id)
    record(
        "sheet_submit" if submit else "sheet_save",
        contest_id=stage.contest_id,
        entry_id=entry.id,
        object_type="ScoreSheet",
        object_id=sheet_id,
        old=old,
        new=new,
    )
    db.session.flush()
    return db.session.get(ScoreSheet, sheet_id, populate_existing=True)


def _write_scores(sheet_id: int, clean: Mapping[int, Decimal]) -> None:
    """Make the sheet's score rows exactly ``clean``: upsert the given, delete the cleared."""
    if clean:
        stmt = insert_for(db.session, Score).values(
            [{"sheet_id": sheet_id, "criterion_id": cid, "points": p} for cid, p in clean.items()]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["sheet_id", "criterion_id"], set_={"points": stmt.excluded.points}
        )
        db.session.execute(stmt)
    db.session.execute(
        sa.delete(Score)
        .where(Score.sheet_id == sheet_id, Score.criterion_id.not_in(list(clean) or [-1]))
        .execution_options(synchronize_session=False)
    )


def reopen_sheet(*, sheet: ScoreSheet, reason: str) -> ScoreSheet:
    """Organizer: turn a submitted sheet back into a draft the judge can change (Rule 7)."""
    reason = (reason or "").strip()[:MAX_REASON]
    if not reason:
        raise ScoringError(_("A reason is required to reopen a sheet."))
    old = describe_sheet(sheet.id)
    done = db.session.execute(
        sa.update(ScoreSheet)
        .where(ScoreSheet.id == sheet.id, ScoreSheet.state == SheetState.SUBMITTED)
        .values(
            state=SheetState.DRAFT,
            version=ScoreSheet.version + 1,
            submitted_at=None,
            updated_at=utcnow(),
        )
        .returning(ScoreSheet.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    if done is None:
        raise StaleSheet(_("This sheet is not submitted, so there is nothing to reopen."))
    record(
        "sheet_reopen",
        contest_id=sheet.stage.contest_id,
        entry_id=sheet.entry_id,
        object_type="ScoreSheet",
        object_id=sheet.id,
        old=old,
        new=describe_sheet(sheet.id),
        reason=reason,
    )
    db.session.flush()
    return db.session.get(ScoreSheet, sheet.id, populate_existing=True)


def declare_conflict(*, judge: Judge, entry: Entry, stage: Stage, reason: str) -> Conflict:
    """Judge: declare a conflict (回避) with an entry; it binds at once."""
    if not judge.can_see(entry, stage):
        raise NotFound()
    reason = (reason or "").strip()[:MAX_REASON]
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
    }
    stmt = insert_for(db.session, Conflict).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["judge_id", "entry_id"],
        set_={
            k: stmt.excluded[k]
            for k in ("reason", "source", "status", "decided_at", "decided_by_id")
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
    db.session.flush()
    return db.session.get(Conflict, conflict_id, populate_existing=True)
