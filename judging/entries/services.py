"""Writes about entries: one entry added, edited, withdrawn, disqualified or reinstated by
the organizer; recording the stages an entry reached (``Participation``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import sqlalchemy as sa

from judging.common.audit import record
from judging.common.db import ID_CHUNK, id_table, insert_for
from judging.common.enums import EntryStatus, ParticipationSource
from judging.common.models import utcnow
from judging.contests.models import Contest, Stage
from judging.contests.versions import bump_data_version
from judging.entries.models import Entry, Participation
from judging.extensions import db

#: The fields of an entry the organizer edits, in the order the audit log lists them.
EDITABLE = (
    "code",
    "title",
    "group",
    "field",
    "organization",
    "leader",
    "is_student_team",
    "phone",
    "email",
    "summary",
)
#: Each status an entry can be moved to, and its audit action.
STATUS_ACTIONS = {
    EntryStatus.WITHDRAWN: "entry_withdraw",
    EntryStatus.DISQUALIFIED: "entry_disqualify",
    EntryStatus.REGISTERED: "entry_reinstate",
}
MAX_REASON = 500


class EntryError(ValueError):
    """A refused entry change: a ``code`` the pages put in words and the form ``field``."""

    def __init__(self, code: str, /, *, field: str = "", **params) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.params = params


def _code_taken(contest: Contest, code: str, *, but: int | None = None) -> bool:
    query = sa.select(Entry.id).where(Entry.contest_id == contest.id, Entry.code == code)
    if but is not None:
        query = query.where(Entry.id != but)
    return db.session.scalar(query) is not None


def _audit_values(entry: Entry) -> dict:
    """The entry's editable fields as the audit log records them (group and field by name)."""
    values = {name: getattr(entry, name) for name in EDITABLE if name not in ("group", "field")}
    values["group"] = entry.group.name if entry.group is not None else None
    values["field"] = entry.field.name if entry.field is not None else ""
    return values


def _flush_code(contest: Contest, entry: Entry) -> None:
    """Write the entry; a code taken meanwhile by another request is the same field error
    as one taken before (the unique constraint decides; a savepoint keeps the rest)."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError as err:
        if _code_taken(contest, entry.code, but=entry.id):
            raise EntryError("code_taken", field="code", code=entry.code) from err
        raise


def _apply(entry: Entry, *, contest: Contest, values: dict) -> None:
    group, field = values["group"], values.get("field")
    if group is None or group.contest_id != contest.id:
        raise EntryError("unknown_group", field="group")
    if field is not None and field.contest_id != contest.id:
        raise EntryError("unknown_field", field="field")
    for name in EDITABLE:
        if name in values:
            setattr(entry, name, values[name])


def create_entry(*, contest: Contest, values: dict) -> Entry:
    """Add one entry to the contest (``values``: the ``EDITABLE`` fields, group and field as
    objects of the contest); its code is unique in the contest."""
    code = values["code"]
    if _code_taken(contest, code):
        raise EntryError("code_taken", field="code", code=code)
    entry = Entry(contest_id=contest.id, status=EntryStatus.REGISTERED)
    _apply(entry, contest=contest, values=values)
    db.session.add(entry)
    _flush_code(contest, entry)
    record(
        "entry_add",
        contest_id=contest.id,
        entry_id=entry.id,
        obj=entry,
        new=_audit_values(entry),
    )
    bump_data_version(contest.id)
    return entry


def update_entry(*, entry: Entry, values: dict) -> dict:
    """Change an entry's fields; returns the old values of what changed ({}: nothing)."""
    contest = entry.contest
    old = _audit_values(entry)
    if values["code"] != entry.code and _code_taken(contest, values["code"], but=entry.id):
        raise EntryError("code_taken", field="code", code=values["code"])
    _apply(entry, contest=contest, values=values)
    new = _audit_values(entry)
    changed = {k: old[k] for k in EDITABLE if old[k] != new[k]}
    if not changed:
        return {}
    _flush_code(contest, entry)
    record(
        "entry_edit",
        contest_id=contest.id,
        entry_id=entry.id,
        obj=entry,
        old=changed,
        new={k: new[k] for k in changed},
    )
    bump_data_version(contest.id)
    return changed


def set_entry_status(*, entry: Entry, status: EntryStatus, reason: str) -> None:
    """Withdraw (退赛), disqualify (取消资格) or reinstate an entry, with the reason. A
    withdrawn or disqualified entry is kept with its sheets but leaves every ranking,
    assignment and award; reinstating brings it back. A reason is required, except to
    withdraw (the team's own decision)."""
    reason = (reason or "").replace("\x00", "").strip()[:MAX_REASON]
    if status == entry.status:
        raise EntryError("same_status", field="status")
    if not reason and status != EntryStatus.WITHDRAWN:
        raise EntryError("reason_required", field="reason")
    old = {"status": entry.status.value}
    entry.status = status
    entry.status_reason = reason
    db.session.flush()
    record(
        STATUS_ACTIONS[status],
        contest_id=entry.contest_id,
        entry_id=entry.id,
        obj=entry,
        old=old,
        new={"status": status.value},
        reason=reason,
    )
    bump_data_version(entry.contest_id)


def _stage_ids_by_position(contest_id: int) -> list[tuple[int, int]]:
    """The contest's (position, stage id), in order."""
    return list(
        db.session.execute(
            sa.select(Stage.position, Stage.id)
            .where(Stage.contest_id == contest_id)
            .order_by(Stage.position)
        ).all()
    )


def add_participations(pairs: Iterable[tuple[int, int]], *, source: ParticipationSource) -> int:
    """Record each (stage id, entry id) as taken part in; rows that exist are kept. Returns
    how many pairs were given."""
    rows = [
        {"stage_id": stage_id, "entry_id": entry_id, "source": source, "created_at": utcnow()}
        for stage_id, entry_id in sorted(set(pairs))
    ]
    if rows:
        stmt = insert_for(db.session, Participation).on_conflict_do_nothing(
            index_elements=["stage_id", "entry_id"]
        )
        for start in range(0, len(rows), ID_CHUNK):
            db.session.execute(stmt, rows[start : start + ID_CHUNK])
    return len(rows)


def record_reached(
    contest_id: int,
    furthest: Mapping[int, int | None],
    *,
    source: ParticipationSource,
    replace: bool = False,
) -> None:
    """For entry id → the position of the furthest stage it reached: a participation row for
    every stage after the first up to that one (an entry cannot reach the final without the
    semi-final). With ``replace``, the entries' other participation rows go (an imported
    "advanced to" column states the whole path); None then means "only registered"."""
    stages = _stage_ids_by_position(contest_id)
    if not stages:
        return
    first = stages[0][0]
    if replace:
        with id_table(furthest) as listed:
            db.session.execute(
                sa.delete(Participation).where(Participation.entry_id.in_(sa.select(listed.c.id)))
            )
    add_participations(
        (
            (stage_id, entry_id)
            for entry_id, position in furthest.items()
            if position is not None
            for stage_position, stage_id in stages
            if first < stage_position <= position
        ),
        source=source,
    )
