"""Who runs which contest: an organizer manages only the contests they were given.

A contest is given to the organizer who creates it (the setup wizard, a contest workbook,
the demo loader), and by one of its organizers to another organizer account, on the
contest's setup page or with ``flask grant-organizer``. Every organizer route finds its
contest through ``organizer_contest_or_404``: a contest the signed-in organizer was not
given answers 404, exactly as one that does not exist, and nothing is written.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from judging.auth.models import User
from judging.common.audit import record
from judging.common.enums import Role
from judging.contests.models import Contest, ContestOrganizer
from judging.contests.queries import get_contest
from judging.extensions import db


class OrganizerError(ValueError):
    """A grant or revocation refused, with the message to show."""

    def __init__(self, code: str, message):
        super().__init__(str(message))
        self.code = code
        self.message = message


MESSAGES = {
    "not_organizer": _l("Only an organizer account can run a contest."),
    "last": _l("A contest keeps at least one active organizer: add another one first."),
    "not_given": _l("This account does not run the contest."),
}


def _refuse(code: str):
    raise OrganizerError(code, MESSAGES[code])


def may_manage(user, contest: Contest | None) -> bool:
    """Whether ``user`` (signed in, an organizer) was given ``contest``."""
    if contest is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "role", None) != Role.ORGANIZER:
        return False
    found = db.session.scalar(
        sa.select(ContestOrganizer.id).where(
            ContestOrganizer.contest_id == contest.id, ContestOrganizer.user_id == user.id
        )
    )
    return found is not None


def organizer_contest_or_404(slug: str) -> Contest:
    """The contest with this slug if the signed-in organizer runs it, else a 404 answer —
    the same answer as for a contest that does not exist."""
    contest = get_contest(slug)
    if not may_manage(current_user, contest):
        abort(404)
    return contest


def contests_for(user) -> list[Contest]:
    """The contests ``user`` runs, newest first (none for anyone but an organizer)."""
    if user is None or getattr(user, "role", None) != Role.ORGANIZER:
        return []
    return list(
        db.session.scalars(
            sa.select(Contest)
            .join(ContestOrganizer, ContestOrganizer.contest_id == Contest.id)
            .where(ContestOrganizer.user_id == user.id)
            .order_by(Contest.year.desc(), Contest.id)
        )
    )


def organizers_of(contest: Contest) -> list[ContestOrganizer]:
    """The grants of a contest with their accounts, by username."""
    return list(
        db.session.scalars(
            sa.select(ContestOrganizer)
            .join(User, User.id == ContestOrganizer.user_id)
            .where(ContestOrganizer.contest_id == contest.id)
            .order_by(User.username)
        )
    )


def grant(*, contest: Contest, user: User, by: User | None = None) -> ContestOrganizer:
    """Give ``contest`` to the organizer ``user`` (``by``: who did, None for a command);
    giving it again changes nothing. Flushes, records ``organizer_grant``."""
    if user.role != Role.ORGANIZER:
        _refuse("not_organizer")
    existing = db.session.scalar(
        sa.select(ContestOrganizer).where(
            ContestOrganizer.contest_id == contest.id, ContestOrganizer.user_id == user.id
        )
    )
    if existing is not None:
        return existing
    row = ContestOrganizer(
        contest_id=contest.id, user_id=user.id, granted_by_id=by.id if by is not None else None
    )
    db.session.add(row)
    db.session.flush()
    record(
        "organizer_grant",
        contest_id=contest.id,
        obj=row,
        new={"username": user.username, "name": user.display_name},
        user_id=by.id if by is not None else None,
    )
    return row


def revoke(*, contest: Contest, user: User, by: User | None) -> None:
    """Take ``contest`` from ``user``; refused for an account that does not run it and for
    the last active organizer (the contest would have nobody to run it). Flushes, records
    ``organizer_revoke``."""
    # the contest row is locked first, so two revocations at once cannot both pass the
    # "another active organizer remains" check (SQLite takes one writer at a time anyway)
    db.session.execute(sa.select(Contest.id).where(Contest.id == contest.id).with_for_update())
    row = db.session.scalar(
        sa.select(ContestOrganizer).where(
            ContestOrganizer.contest_id == contest.id, ContestOrganizer.user_id == user.id
        )
    )
    if row is None:
        _refuse("not_given")
    others = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ContestOrganizer)
        .join(User, User.id == ContestOrganizer.user_id)
        .where(
            ContestOrganizer.contest_id == contest.id,
            ContestOrganizer.user_id != user.id,
            User.is_enabled,
        )
    )
    if not others:
        _refuse("last")
    record(
        "organizer_revoke",
        contest_id=contest.id,
        obj=row,
        old={"username": user.username, "name": user.display_name},
        user_id=by.id if by is not None else None,
    )
    db.session.delete(row)
    db.session.flush()


def may_administer(viewer, user: User) -> bool:
    """Whether the organizer ``viewer`` may deactivate, reactivate or re-invite the
    organizer account ``user``: one that runs a contest ``viewer`` runs too, or one that
    runs none yet (a fresh invitation). The organizer of another contest is not theirs to
    lock out (the organizer accounts page, ``judging.auth.organizer_views``)."""
    theirs = sa.select(ContestOrganizer.contest_id).where(ContestOrganizer.user_id == user.id)
    if db.session.scalar(theirs.limit(1)) is None:
        return True
    shared = db.session.scalar(
        sa.select(ContestOrganizer.id)
        .where(ContestOrganizer.user_id == viewer.id, ContestOrganizer.contest_id.in_(theirs))
        .limit(1)
    )
    return shared is not None
