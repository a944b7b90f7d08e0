"""A contest's data version: grows with every change that can move its standings.

Cached standings and public pages are keyed by it, so every worker and host sees a change
at its next request. The session hooks registered by ``install`` tell this process's
listeners (the public front door) right after a commit that bumped it; on PostgreSQL a
trigger on ``contests`` notifies the other processes (``judging.leaderboard.front``).
"""

from __future__ import annotations

import weakref

import sqlalchemy as sa
from sqlalchemy.orm import Session

from judging.contests.models import Contest
from judging.extensions import db


def data_version(contest_id: int) -> tuple[int, str]:
    """The contest's current data version (read fresh, never from the identity map).

    With the contest's creation time, so a database rebuilt under a running worker (ids and
    versions starting again at 1) can never hit standings cached from the old one.
    """
    version, created = db.session.execute(
        sa.select(Contest.data_version, Contest.created_at).where(Contest.id == contest_id)
    ).one()
    return version, created.isoformat()


def bump_data_version(contest_id: int) -> None:
    """Mark that standings of the contest may have changed (in the caller's transaction)."""
    db.session.execute(
        sa.update(Contest)
        .where(Contest.id == contest_id)
        .values(data_version=Contest.data_version + 1)
        .execution_options(synchronize_session=False)
    )
    # On PostgreSQL a trigger notifies the other processes when this commits; this one
    # hears it at once (``on_local_bump``).
    db.session.info["data_version_bumped"] = True


_bump_hooks: weakref.WeakSet = weakref.WeakSet()


def on_local_bump(listener) -> None:
    """Call ``listener.version_bumped()`` right after this process commits a version bump
    (PostgreSQL; other processes learn it from the notification a moment later)."""
    _bump_hooks.add(listener)


def _after_commit(session) -> None:
    if session.info.pop("data_version_bumped", False):
        for listener in list(_bump_hooks):
            listener.version_bumped()


def _after_rollback(session) -> None:
    session.info.pop("data_version_bumped", None)


def install() -> None:
    """Register the session hooks that announce a committed bump (once per process)."""
    if not sa.event.contains(Session, "after_commit", _after_commit):
        sa.event.listen(Session, "after_commit", _after_commit)
        sa.event.listen(Session, "after_rollback", _after_rollback)
