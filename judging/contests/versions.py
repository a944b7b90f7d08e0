"""A contest's data versions: what cached standings, pages and downloads are keyed by.

Two kinds, so that a change invalidates only what it can change (issue 13):

- ``contests.data_version`` grows with a change of the contest itself: a stage's state,
  a publication, a confirmation, awards, entries, assignments, an import, a conflict
  decision. Every public page depends on it.
- ``stage_versions`` holds one version per (stage, group): it grows with a change of
  that group's sheets in that stage (a submitted, reopened or removed sheet, a judge's
  conflict) and with the live final's state (on stage, timer, reveals). A published
  stage's pages render its frozen snapshot, so they depend on the contest's version
  only: a sheet in the final leaves them, and every visitor's copy, valid. The live
  pages and the organizer's views depend on everything (``Versions``); a group's
  standings on the versions of its own group in its stage and the stages before it
  (``Versions.of_group``).

Versions live in the database, so every worker and host sees a commit at its next
request. The session hooks registered by ``install`` tell this process's listeners (the
public front door) right after a commit that bumped one; on PostgreSQL triggers on
``contests`` and ``stage_versions`` notify the other processes
(``judging.leaderboard.front``).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from judging.common.db import insert_for
from judging.common.transactions import execute_core
from judging.contests.models import Contest, Group, Stage, StageVersion
from judging.extensions import db


@dataclass(frozen=True, slots=True)
class Versions:
    """A contest's versions at one moment: hashable, so it can be (part of) a cache key.

    ``created`` is the contest's creation time, so a database rebuilt under a running
    worker (ids and versions starting again at 1) can never hit what was cached from the
    old one. ``stages`` is ((stage id, group id, version), …) in id order; a (stage, group)
    that never changed has no row.
    """

    contest: int
    created: str
    stages: tuple[tuple[int, int, int], ...] = ()

    @property
    def meta(self) -> tuple[int, str]:
        """The contest's own version: what a published stage's pages depend on."""
        return self.contest, self.created

    def of_group(self, stage_ids: Iterable[int], group_id: int) -> tuple:
        """The versions one group's standings in a stage depend on: the contest's and its
        group's in the given stages (the stage and, for weighted scores, those before)."""
        wanted = set(stage_ids)
        return (
            self.contest,
            self.created,
            tuple((s, v) for s, g, v in self.stages if g == group_id and s in wanted),
        )


def _created_text(created_at) -> str:
    """The creation time as ISO 8601 in UTC (SQLite's raw value is text, PostgreSQL's an
    aware datetime; the ORM gives an aware datetime on both)."""
    if isinstance(created_at, str):
        created_at = datetime.fromisoformat(created_at)
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    return created_at.astimezone(UTC).isoformat()


def versions_from_rows(rows) -> Versions:
    """``Versions`` from rows of (contest version, created at, stage id, group id, version)
    — the contest left-joined to its stage versions, as ``data_version`` and the front
    door's reader select them."""
    first = rows[0]
    stages = sorted((r[2], r[3], r[4]) for r in rows if r[2] is not None)
    return Versions(first[0], _created_text(first[1]), tuple(stages))


#: The plain SQL of ``data_version`` by slug, for readers without an ORM session.
VERSIONS_BY_SLUG_SQL = (
    "SELECT c.id, c.data_version, c.created_at, v.stage_id, v.group_id, v.version "
    "FROM contests c LEFT JOIN stage_versions v ON v.contest_id = c.id "
    "WHERE c.slug = {param} AND c.is_public"
)
#: (``AND c.is_public``: a draft contest has no public version, so every public page and
#: API answer of it is a 404, in the front door as in the views.)


def data_version(contest_id: int) -> Versions:
    """The contest's current versions (one query, read fresh, never from the identity map)."""
    rows = db.session.execute(
        sa.select(
            Contest.data_version,
            Contest.created_at,
            StageVersion.stage_id,
            StageVersion.group_id,
            StageVersion.version,
        )
        .outerjoin(StageVersion, StageVersion.contest_id == Contest.id)
        .where(Contest.id == contest_id)
    ).all()
    return versions_from_rows(rows)


def bump_data_version(contest_id: int) -> None:
    """Mark that the contest itself changed (in the caller's transaction): every cached
    page and standings of the contest is renewed."""
    db.session.execute(
        sa.update(Contest)
        .where(Contest.id == contest_id)
        .values(data_version=Contest.data_version + 1)
        .execution_options(synchronize_session=False)
    )
    # On PostgreSQL a trigger notifies the other processes when this commits; this one
    # hears it at once (``on_local_bump``).
    db.session.info["data_version_bumped"] = True


_bump_one: dict[str, sa.Executable] = {}


def _bump_one_statement() -> sa.Executable:
    """The upsert of one (stage, group) version, built once per dialect: a score sheet's
    submission runs it on every request, and building it cost more than running it."""
    dialect = db.session.get_bind().dialect.name
    if dialect not in _bump_one:
        stmt = insert_for(db.session, StageVersion).values(
            stage_id=sa.bindparam("stage"),
            group_id=sa.bindparam("group"),
            contest_id=sa.bindparam("contest"),
            version=1,
        )
        _bump_one[dialect] = stmt.on_conflict_do_update(
            index_elements=["stage_id", "group_id"],
            set_={"version": StageVersion.version + 1},
        )
    return _bump_one[dialect]


def bump_stage_version(
    contest_id: int, *, stage_id: int | None = None, group_id: int | None = None
) -> None:
    """Mark that sheets (or the live state) of a group in a stage changed, in the caller's
    transaction; ``None`` for the stage or the group means every one of the contest's.
    One statement: the missing rows are made, the others grow by one."""
    if stage_id is not None and group_id is not None:
        # One known pair (a submitted sheet): no need to look the pairs up.
        params = {"stage": stage_id, "group": group_id, "contest": contest_id}
        execute_core(_bump_one_statement(), params)
        db.session.info["data_version_bumped"] = True
        return
    pairs = (
        sa.select(
            Stage.id.label("stage_id"),
            Group.id.label("group_id"),
            sa.literal(contest_id).label("contest_id"),
            sa.literal(1).label("version"),
        )
        .select_from(Stage)
        .join(Group, Group.contest_id == Stage.contest_id)
        .where(Stage.contest_id == contest_id)
    )
    if stage_id is not None:
        pairs = pairs.where(Stage.id == stage_id)
    if group_id is not None:
        pairs = pairs.where(Group.id == group_id)
    stmt = insert_for(db.session, StageVersion).from_select(
        ["stage_id", "group_id", "contest_id", "version"], pairs
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["stage_id", "group_id"],
        set_={"version": StageVersion.version + 1},
    )
    db.session.execute(stmt)
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
