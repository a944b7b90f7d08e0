"""The organizer's conflict decisions (回避, SPEC Rule 7), and same-organization proposals.

A judge's own declaration binds at once for the judge's list
(``judging.scoring.services.declare_conflict``); everything else is an organizer decision
here, because a conflict decides which sheets count. A conflict that would remove a
submitted sheet from a score (or withdrawing one, which brings a sheet back) needs a reason
and is refused while that sheet's stage is published. Same-organization proposals
(``organization_proposals``) bind only once the organizer accepts them. Services flush;
the view commits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from judging.auth.models import User
from judging.common.audit import record
from judging.common.db import insert_for
from judging.common.enums import ConflictSource, ConflictStatus, EntryStatus
from judging.common.models import utcnow
from judging.contests.models import Contest, Stage
from judging.contests.versions import bump_stage_version
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Conflict, Judge
from judging.scoring import queries as scoring_queries

MAX_REASON = 500

# ------------------------------------------------------------------ same organization

#: Endings that name the same body in short and long form (大连理工 / 大连理工大学), longest
#: first; one is dropped when comparing organizations.
ORGANIZATION_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "大学", "学院", "公司")
_NOISE = re.compile(r"[\s\u3000·・.,，、()（）\[\]【】\-_/]+")


def organization_key(name: str | None) -> str:
    """An organization's name as compared for same-organization proposals.

    Full-width and half-width forms are folded (NFKC), spaces and punctuation go, Latin
    letters are lower-cased, and one trailing 大学/学院/公司 (or a longer company form) is
    dropped, so 大连理工 and ＂大连理工 大学＂ match. "" for a name with nothing left.
    """
    text = _NOISE.sub("", unicodedata.normalize("NFKC", name or "")).lower()
    for suffix in ORGANIZATION_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text if text not in ORGANIZATION_SUFFIXES else ""


@dataclass(frozen=True)
class Proposal:
    """A judge and an entry of the same organization, not yet decided by the organizer."""

    judge: Judge
    entry: Entry
    conflict: Conflict | None  # a stored proposal (from an import), if any


def organization_proposals(contest: Contest) -> list[Proposal]:
    """Same-organization pairs the organizer has not decided: no conflict recorded for the
    pair, or one still proposed. A competing entry's judges only; by judge, then code."""
    judges = list(db.session.scalars(sa.select(Judge).where(Judge.contest_id == contest.id)))
    keys: dict[str, list[Judge]] = {}
    for judge in judges:
        key = organization_key(judge.organization)
        if key:
            keys.setdefault(key, []).append(judge)
    if not keys:
        return []
    decided: dict[tuple[int, int], Conflict] = {
        (c.judge_id, c.entry_id): c
        for c in db.session.scalars(
            sa.select(Conflict).where(
                Conflict.judge_id.in_(sa.select(Judge.id).where(Judge.contest_id == contest.id))
            )
        )
    }
    proposals = []
    entries = db.session.scalars(
        sa.select(Entry).where(
            Entry.contest_id == contest.id, Entry.status == EntryStatus.REGISTERED
        )
    )
    for entry in entries:
        for judge in keys.get(organization_key(entry.organization), ()):
            existing = decided.get((judge.id, entry.id))
            if existing is None or existing.status == ConflictStatus.PROPOSED:
                proposals.append(Proposal(judge, entry, existing))
    proposals.sort(key=lambda p: (p.judge.name, p.judge.id, p.entry.code))
    return proposals


# ------------------------------------------------------------------ decisions


class ConflictError(ValueError):
    """A refused conflict decision, with a message for the organizer."""


@dataclass(frozen=True)
class SheetEffect:
    """A submitted sheet of the judge for the entry, which a decision removes or restores."""

    stage: Stage
    total: Decimal


def submitted_sheets(judge: Judge, entry: Entry) -> list[SheetEffect]:
    """The judge's submitted sheets for the entry, by stage (what a conflict takes out of the
    entry's scores, and what withdrawing one brings back)."""
    return [
        SheetEffect(stage, total) for stage, total in scoring_queries.submitted_sheets(judge, entry)
    ]


def _check_unpublished(effects: list[SheetEffect], *, judge: Judge, entry: Entry) -> None:
    published = [e.stage.name for e in effects if e.stage.is_published]
    if published:
        raise ConflictError(
            _(
                "%(judge)s has a submitted sheet for %(code)s in %(stages)s, which is "
                "published: withdraw its publication first.",
                judge=judge.name,
                code=entry.code,
                stages="、".join(published),
            )
        )


def _reason(text: str | None) -> str:
    return (text or "").replace("\x00", "").strip()[:MAX_REASON]


def _same_contest(judge: Judge, entry: Entry) -> None:
    if judge.contest_id != entry.contest_id:
        raise ConflictError(_("The judge and the entry belong to different contests."))


def _upsert(judge: Judge, entry: Entry, values: dict) -> int:
    stmt = insert_for(db.session, Conflict).values(
        judge_id=judge.id, entry_id=entry.id, created_at=values.get("decided_at"), **values
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["judge_id", "entry_id"],
        set_={k: stmt.excluded[k] for k in values if k != "created_by_id"},
    ).returning(Conflict.id)
    return db.session.execute(stmt).scalar()


def bind_conflict(
    *,
    judge: Judge,
    entry: Entry,
    reason: str,
    user: User | None,
    source: ConflictSource = ConflictSource.ORGANIZER,
) -> Conflict:
    """Make a conflict binding: set by the organizer, or a same-organization proposal
    accepted. Needs a reason; refused when it would remove a sheet of a published stage."""
    _same_contest(judge, entry)
    reason = _reason(reason)
    if not reason:
        raise ConflictError(_("Please give a reason for the conflict."))
    effects = submitted_sheets(judge, entry)
    _check_unpublished(effects, judge=judge, entry=entry)
    now = utcnow()
    user_id = user.id if user is not None else None
    existing = db.session.scalar(
        sa.select(Conflict).where(Conflict.judge_id == judge.id, Conflict.entry_id == entry.id)
    )
    old = _describe(existing)
    conflict_id = _upsert(
        judge,
        entry,
        {
            "reason": reason,
            "source": source,
            "status": ConflictStatus.BINDING,
            "created_by_id": user_id,
            "decided_at": now,
            "decided_by_id": user_id,
            "reviewed_at": now,
            "reviewed_by_id": user_id,
        },
    )
    record(
        "conflict_accept" if source == ConflictSource.SYSTEM else "conflict_add",
        contest_id=entry.contest_id,
        entry_id=entry.id,
        object_type="Conflict",
        object_id=conflict_id,
        old=old,
        new={
            "judge": judge.name,
            "status": str(ConflictStatus.BINDING),
            "removes": [e.stage.code for e in effects],
        },
        reason=reason,
        user_id=user_id,
    )
    bump_stage_version(entry.contest_id, group_id=entry.group_id)
    db.session.flush()
    return db.session.get(Conflict, conflict_id, populate_existing=True)


def withdraw_conflict(*, conflict: Conflict, reason: str, user: User | None) -> Conflict:
    """End a binding conflict (the judge's sheets for the entry count again). Needs a
    reason; refused when a sheet it brings back is in a published stage."""
    reason = _reason(reason)
    if not reason:
        raise ConflictError(_("Please give a reason for withdrawing the conflict."))
    if conflict.status != ConflictStatus.BINDING:
        raise ConflictError(_("This conflict is not binding, so there is nothing to withdraw."))
    effects = submitted_sheets(conflict.judge, conflict.entry)
    _check_unpublished(effects, judge=conflict.judge, entry=conflict.entry)
    old = _describe(conflict)
    conflict.status = ConflictStatus.DISMISSED
    conflict.decided_at = conflict.reviewed_at = utcnow()
    conflict.decided_by_id = conflict.reviewed_by_id = user.id if user is not None else None
    record(
        "conflict_withdraw",
        contest_id=conflict.entry.contest_id,
        entry_id=conflict.entry_id,
        object_type="Conflict",
        object_id=conflict.id,
        old=old,
        new={
            "judge": conflict.judge.name,
            "status": str(ConflictStatus.DISMISSED),
            "restores": [e.stage.code for e in effects],
        },
        reason=reason,
        user_id=conflict.decided_by_id,
    )
    bump_stage_version(conflict.entry.contest_id, group_id=conflict.entry.group_id)
    db.session.flush()
    return conflict


def dismiss_proposal(*, judge: Judge, entry: Entry, user: User | None, note: str = "") -> Conflict:
    """Dismiss a same-organization proposal: the pair is not a conflict (never proposed
    again). Nothing counted changes, so standings stay as they are."""
    _same_contest(judge, entry)
    existing = db.session.scalar(
        sa.select(Conflict).where(Conflict.judge_id == judge.id, Conflict.entry_id == entry.id)
    )
    if existing is not None and existing.status == ConflictStatus.BINDING:
        raise ConflictError(_("This conflict is binding: withdraw it (with a reason) instead."))
    now = utcnow()
    user_id = user.id if user is not None else None
    note = _reason(note)
    conflict_id = _upsert(
        judge,
        entry,
        {
            "reason": existing.reason if existing is not None else _("Same organization"),
            "source": ConflictSource.SYSTEM,
            "status": ConflictStatus.DISMISSED,
            "created_by_id": user_id,
            "decided_at": now,
            "decided_by_id": user_id,
            "reviewed_at": now,
            "reviewed_by_id": user_id,
            "note": note,
        },
    )
    record(
        "conflict_dismiss",
        contest_id=entry.contest_id,
        entry_id=entry.id,
        object_type="Conflict",
        object_id=conflict_id,
        old=_describe(existing),
        new={"judge": judge.name, "status": str(ConflictStatus.DISMISSED)},
        reason=note,
        user_id=user_id,
    )
    db.session.flush()
    return db.session.get(Conflict, conflict_id, populate_existing=True)


def review_conflict(*, conflict: Conflict, user: User | None, note: str = "") -> Conflict:
    """The organizer has seen a judge's declaration: mark it reviewed, with an optional
    note. It stays binding (withdrawing it is a separate decision)."""
    old = _describe(conflict)
    conflict.reviewed_at = utcnow()
    conflict.reviewed_by_id = user.id if user is not None else None
    conflict.note = _reason(note)
    record(
        "conflict_review",
        contest_id=conflict.entry.contest_id,
        entry_id=conflict.entry_id,
        object_type="Conflict",
        object_id=conflict.id,
        old=old,
        new={"judge": conflict.judge.name, "note": conflict.note, "reviewed": True},
        user_id=conflict.reviewed_by_id,
    )
    db.session.flush()
    return conflict


def _describe(conflict: Conflict | None) -> dict | None:
    if conflict is None:
        return None
    return {
        "status": str(conflict.status),
        "source": str(conflict.source),
        "reason": conflict.reason,
        "note": conflict.note or "",
    }
