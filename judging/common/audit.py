"""The audit log (操作日志): who did what, when, from where, old → new.

Each event carries the hash of the event before it in its chain (one chain per contest,
one global chain for events of no contest), and its own hash over its content and that
link. A head row per chain records the last event and the count, so deleting the last
events shows too. ``verify_chain`` walks a chain and names the first broken link. This
detects writers that bypass the app (raw SQL); it cannot prevent them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy.orm import Mapped, mapped_column

from judging.common.db import insert_for
from judging.common.models import UTCDateTime, utcnow
from judging.common.transactions import execute_core
from judging.extensions import db

#: The ``prev_hash`` of a chain's first event.
GENESIS = "0" * 64
#: The head key of the chain of events that belong to no contest (sign-ins).
GLOBAL_CHAIN = 0
#: The event's fields covered by its hash, besides ``prev_hash``.
HASHED = (
    "created_at",
    "user_id",
    "ip",
    "action",
    "contest_id",
    "entry_id",
    "object_type",
    "object_id",
    "old",
    "new",
    "reason",
)


class AuditEvent(db.Model):
    """One recorded action. Never updated or deleted by the application."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_contest_id_id", "contest_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    ip: Mapped[str] = mapped_column(sa.String(64), default="")
    action: Mapped[str] = mapped_column(sa.String(64))
    contest_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contests.id", ondelete="CASCADE"))
    entry_id: Mapped[int | None] = mapped_column(sa.ForeignKey("entries.id", ondelete="SET NULL"))
    object_type: Mapped[str] = mapped_column(sa.String(64), default="")
    object_id: Mapped[int | None]
    old: Mapped[Any | None] = mapped_column(sa.JSON)
    new: Mapped[Any | None] = mapped_column(sa.JSON)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))


class AuditHead(db.Model):
    """The end of one chain: its last event, that event's hash and the chain's length.

    Also the chain's lock: a writer holds this row (``FOR UPDATE`` on PostgreSQL) from
    reading the last hash until its transaction ends, so two writers never fork a chain.
    """

    __tablename__ = "audit_heads"

    chain_key: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_id: Mapped[int | None]
    last_hash: Mapped[str] = mapped_column(sa.String(64))
    event_count: Mapped[int] = mapped_column(default=0)


def chain_key(contest_id: int | None) -> int:
    """The head key of a contest's chain (the global chain for no contest)."""
    return contest_id if contest_id is not None else GLOBAL_CHAIN


def canonical_time(moment: datetime) -> str:
    """A timestamp as the exact ISO text hashed: UTC, to the microsecond."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(event: Mapping[str, Any], prev_hash: str) -> str:
    """The sha256 (hex) of an event's content and the hash of the event before it.

    The content is canonical JSON (sorted keys, no whitespace, UTF-8), so it is the same
    for the values as written and as read back from SQLite or PostgreSQL.
    """
    content = {name: event[name] for name in HASHED}
    content["created_at"] = canonical_time(event["created_at"])
    content["prev_hash"] = prev_hash
    try:
        text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except TypeError:  # keys of mixed types cannot be sorted: take them as they read back
        content = json.loads(json.dumps(content))
        text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# Built once: audit writes sit on hot paths (every score-sheet save).
_EVENTS = AuditEvent.__table__
_HEADS = AuditHead.__table__
_INSERT = _EVENTS.insert().returning(_EVENTS.c.id)
_LOCK_HEAD = (
    sa.select(_HEADS.c.last_hash)
    .where(_HEADS.c.chain_key == sa.bindparam("chain"))
    .with_for_update()  # nothing on SQLite, where the writer already holds the write lock
)
_ADVANCE_HEAD = (
    _HEADS.update()
    .where(_HEADS.c.chain_key == sa.bindparam("chain"))
    .values(
        last_id=sa.bindparam("event_id"),
        last_hash=sa.bindparam("event_hash"),
        event_count=_HEADS.c.event_count + 1,
    )
)
_new_heads: dict[str, sa.Executable] = {}


def _new_head() -> sa.Executable:
    """INSERT of an empty head that does nothing if one exists, per dialect."""
    dialect = db.session.get_bind().dialect.name
    if dialect not in _new_heads:
        _new_heads[dialect] = insert_for(db.session, _HEADS).on_conflict_do_nothing(
            index_elements=["chain_key"]
        )
    return _new_heads[dialect]


def _lock_head(chain: int) -> str:
    """Lock the chain's head (creating it if new) and return the hash of its last event."""
    last = execute_core(_LOCK_HEAD, {"chain": chain}).scalar()
    if last is None:
        # Two first writers may both get here: ON CONFLICT lets the second wait for the
        # first and then do nothing, and both go on to lock the one row.
        execute_core(_new_head(), {"chain_key": chain, "last_hash": GENESIS, "event_count": 0})
        last = execute_core(_LOCK_HEAD, {"chain": chain}).scalar_one()
    return last


def record(
    action: str,
    *,
    contest_id: int | None = None,
    entry_id: int | None = None,
    obj: Any = None,
    object_type: str | None = None,
    object_id: int | None = None,
    old: Any = None,
    new: Any = None,
    reason: str = "",
    user_id: int | None = None,
) -> None:
    """Write an audit event in the current transaction (the caller commits), filling who and
    where from the request, and link it to the end of its chain.

    Three prebuilt statements (lock the head, insert, move the head), no ORM objects; the
    chain's head stays locked until the caller's transaction ends.
    """
    if user_id is None and has_request_context() and current_user.is_authenticated:
        user_id = current_user.id
    ip = (request.remote_addr or "") if has_request_context() else "cli"
    chain = chain_key(contest_id)
    prev_hash = _lock_head(chain)
    event = {
        "created_at": utcnow(),  # after the lock, so times grow along the chain
        "action": action,
        "user_id": user_id,
        "ip": ip,
        "contest_id": contest_id,
        "entry_id": entry_id,
        "object_type": object_type or (type(obj).__name__ if obj is not None else ""),
        "object_id": object_id if object_id is not None else getattr(obj, "id", None),
        "old": old,
        "new": new,
        "reason": reason,
        "prev_hash": prev_hash,
    }
    event["hash"] = digest = event_hash(event, prev_hash)
    event_id = execute_core(_INSERT, event).scalar_one()
    execute_core(_ADVANCE_HEAD, {"chain": chain, "event_id": event_id, "event_hash": digest})


# ------------------------------------------------------------------ verification


@dataclass(frozen=True)
class ChainBreak:
    """The first place a chain does not hold, and what kind of change explains it.

    ``kind`` is one of ``edited`` (the event's content no longer matches its hash),
    ``reordered`` (it follows an event that is elsewhere in the chain), ``deleted`` (the
    event it follows is missing, or was changed and hashed again), ``added`` (it was not
    written through the app: the head ends before it), ``end_missing`` (events are
    missing after the last one), ``head`` (the head does not match the chain).
    """

    kind: str
    event_id: int | None = None
    created_at: datetime | None = None
    action: str | None = None
    detail: str = ""

    def describe(self, tz: str = "UTC") -> str:
        """The break in plain words, with the event's time in the time zone tz."""
        if self.event_id is None:
            return self.detail
        when = self.created_at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S %Z")
        return f"event #{self.event_id} ({when}, {self.action}): {self.detail}"


@dataclass(frozen=True)
class ChainReport:
    """What verifying one chain found: how many events, and the first break if any."""

    chain_key: int
    events: int
    broken: ChainBreak | None = None
    last_hash: str = GENESIS

    @property
    def ok(self) -> bool:
        """True when every link and the head hold."""
        return self.broken is None


_CHAIN_COLUMNS = [
    _EVENTS.c.id,
    *(_EVENTS.c[name] for name in HASHED),
    _EVENTS.c.prev_hash,
    _EVENTS.c.hash,
]


def verify_chain(contest_id: int | None) -> ChainReport:
    """Walk a contest's chain (the global one for None) in id order: recompute each hash,
    check each link to the event before, and that the head ends at the last event.

    Called outside a transaction, it reads in one on PostgreSQL that sees a single moment
    (REPEATABLE READ), so events committed meanwhile do not pass for a broken head.
    """
    if db.session.get_bind().dialect.name == "postgresql" and not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    key = chain_key(contest_id)
    if contest_id is None:
        where = _EVENTS.c.contest_id.is_(None)
    else:
        where = _EVENTS.c.contest_id == contest_id
    head = db.session.execute(
        sa.select(_HEADS.c.last_id, _HEADS.c.last_hash, _HEADS.c.event_count).where(
            _HEADS.c.chain_key == key
        )
    ).first()
    rows = db.session.execute(
        sa.select(*_CHAIN_COLUMNS).where(where).order_by(_EVENTS.c.id)
    ).yield_per(2000)

    events: list[tuple[int, datetime, str]] = []  # (id, time, action) in chain order
    position: dict[str, int] = {}  # hash -> index in events
    edited: int | None = None  # index of the first event that no longer matches its hash
    stray: tuple[int, str] | None = None  # index and link of the first wrong link
    expected = GENESIS
    for row in rows:
        event = row._mapping
        index = len(events)
        events.append((event["id"], event["created_at"], event["action"]))
        position.setdefault(event["hash"], index)
        if edited is None and stray is None:
            if event["prev_hash"] != expected:
                stray = (index, event["prev_hash"])
            elif event_hash(event, event["prev_hash"]) != event["hash"]:
                edited = index
        expected = event["hash"]

    def at(index: int, kind: str, detail: str) -> ChainBreak:
        event_id, created_at, action = events[index]
        return ChainBreak(kind, event_id, created_at, action, detail)

    count = len(events)
    if edited is not None:
        broken = at(
            edited,
            "edited",
            "its content was changed after it was recorded (it no longer matches its hash)",
        )
    elif stray is not None:
        index, link = stray
        if link in position and position[link] != index:
            broken = at(
                index,
                "reordered",
                f"it follows event #{events[position[link]][0]}, not the event before it: "
                "events were reordered",
            )
        else:
            broken = at(
                index,
                "deleted",
                "the event it follows is missing: an event before it was deleted "
                "(or changed and hashed again)",
            )
    else:
        broken = _check_head(head, events, position, at)
    return ChainReport(key, count, broken, last_hash=expected)


def _check_head(head, events, position, at) -> ChainBreak | None:
    """Whether the head names the chain's last event and its length (events whose links
    all hold)."""
    count = len(events)
    if head is None:
        if count == 0:
            return None
        return ChainBreak("head", detail=f"the chain has {count} events but no head row")
    last_id, last_hash, recorded = head
    if count and position.get(last_hash) == count - 1:
        if last_id == events[-1][0] and recorded == count:
            return None
        return ChainBreak(
            "head",
            detail=f"the head names event #{last_id} of {recorded} as the last; the chain "
            f"ends with #{events[-1][0]} of {count}",
        )
    if count == 0 and last_hash == GENESIS and recorded == 0:
        return None
    if last_hash in position:  # the app's last event is there, with events after it
        return at(
            position[last_hash] + 1,
            "added",
            f"it comes after event #{events[position[last_hash]][0]}, the last one the app "
            "recorded: it was not written by the app",
        )
    if last_hash == GENESIS and recorded == 0:
        return at(
            0, "added", "the app recorded no event in this chain: it was not written by the app"
        )
    ending = f", ending with #{events[-1][0]}" if events else ""
    return ChainBreak(
        "end_missing",
        detail=(
            f"events are missing at the end: the head records {recorded} events ending with "
            f"#{last_id}; the chain has {count}{ending}"
        ),
    )
