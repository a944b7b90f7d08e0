"""Read-only views of a contest's state for the home pages."""

from __future__ import annotations

import sqlalchemy as sa

from judging.contests.models import Contest
from judging.extensions import db


def list_contests(*, public_only: bool = False) -> list[Contest]:
    """Every contest (only the public ones with ``public_only``), newest first."""
    query = sa.select(Contest).order_by(Contest.year.desc(), Contest.id)
    if public_only:
        query = query.where(Contest.is_public)
    return list(db.session.scalars(query))


def get_contest(slug: str) -> Contest | None:
    """The contest with this slug, or None (a slug no contest can have, with a NUL that
    PostgreSQL refuses to compare, is simply none)."""
    if "\x00" in slug:
        return None
    return db.session.scalar(sa.select(Contest).where(Contest.slug == slug))


def contest_or_404(slug: str) -> Contest:
    """The contest with this slug, or a 404 answer."""
    from flask import abort

    contest = get_contest(slug)
    if contest is None:
        abort(404)
    return contest
