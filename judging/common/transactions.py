"""Where a request or a command ends its transaction: in one place.

A request commits once, after its view, when the response is a success (below 400) and the
view did not ``refuse`` the change; otherwise it rolls back (an error page, a form answered
with 400 or 409, an exception: ``judging.common.errors`` rolls back there too). Views and
services never commit: services change objects and flush, views call them and answer.
A view that refuses a change and answers with a redirect (flash and back) calls
``refuse``. A command ends its transaction with ``command_transaction``.

SQLite's writer lock has its own choreography (``judging.common.db``: ``reads_first``
views end their read transaction in ``write_phase`` before writing); it ends read-only
transactions only, never a write.
"""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa
from flask import Flask, flash, g
from sqlalchemy.orm import Session

from judging.common.db import write_intent
from judging.extensions import db


def refuse(message: str, category: str = "error") -> None:
    """Say why a change was refused (a flash message) and roll the request back."""
    flash(message, category)
    g.refused = True


def keep_writes() -> None:
    """Commit what this request wrote although it answers with an error: the audit events
    of a refused sign-in (the attempt is refused, not its record)."""
    g.keep_writes = True


def end_request(response):
    """Commit a successful request's writes, roll back any other request's (``after_request``).

    A request that wrote nothing is left alone: its read transaction ends with the
    session at teardown, as it always did.
    """
    session = db.session()  # the request's session itself (the scoped proxy hides some)
    wrote = session.info.pop("wrote", False) or bool(
        session.new or session.dirty or session.deleted
    )
    if (response.status_code < 400 and not g.get("refused")) or g.get("keep_writes"):
        if wrote:
            session.commit()
    else:
        session.rollback()
    return response


def execute_core(statement, params=None):
    """Run a Core statement in the request's transaction, on the session's connection.

    For prebuilt statements on hot paths (a score sheet's submission): it skips the
    ORM's per-statement work (``Session.execute`` costs about as much again as the
    statement), and with it the ORM's ``do_orm_execute`` hook, so a write marks the
    session as written here for ``end_request`` to commit it.
    """
    session = db.session()
    if statement.is_dml:
        session.info["wrote"] = True
    return session.connection().execute(statement, params)


def _mark_write(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


def _mark_flush(session, _context) -> None:
    session.info["wrote"] = True


def _forget(session, *_args) -> None:
    session.info.pop("wrote", None)


def install(app: Flask) -> None:
    """End every request's transaction in ``end_request``; know which sessions wrote."""
    if not sa.event.contains(Session, "do_orm_execute", _mark_write):
        sa.event.listen(Session, "do_orm_execute", _mark_write)
        sa.event.listen(Session, "after_flush", _mark_flush)
        sa.event.listen(Session, "after_commit", _forget)
        sa.event.listen(Session, "after_rollback", _forget)
    app.after_request(end_request)


@contextmanager
def command_transaction():
    """A command's writes: the write lock from the start (SQLite), one commit at the end, a
    rollback if anything raised."""
    with write_intent():
        try:
            yield
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
