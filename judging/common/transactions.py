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

Reads whose figures must agree with each other (an export's sheets, an organizer page that
counts the same sheets several ways) run in ``read_snapshot``: one read-only snapshot of
the database, however many queries they make, while judges go on submitting.
"""

from __future__ import annotations

from contextlib import contextmanager, suppress
from functools import wraps

import sqlalchemy as sa
from flask import Flask, flash, g, request
from sqlalchemy.orm import Session, scoped_session

from judging.common.db import read_intent, write_intent
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


@contextmanager
def read_snapshot(session=None):
    """Run a block of reads on one snapshot of the database, read-only.

    At READ COMMITTED every statement sees the commits made before it: a workbook whose
    sheets each ran their own queries while judges submitted counted 131 sheets on one
    sheet and 164 on another (issue 16). Here every query of the block reads the same
    moment. The request's read transaction so far is ended first (the snapshot must be its
    transaction's first statement) and what it loaded is expired, so it is read again from
    the snapshot; the snapshot's transaction ends when the block does.

    - PostgreSQL: the transaction is REPEATABLE READ, READ ONLY (set on the connection
      before its first statement, reset when it returns to the pool).
    - SQLite: a deferred BEGIN and a first read pin the WAL snapshot until the end; the
      transaction never takes the write lock (writers go on committing meanwhile) and
      ``query_only`` makes a write in it fail, as READ ONLY does on PostgreSQL.

    Nested blocks share the outer snapshot. A write inside raises; so does ending the
    transaction inside (``write_phase``, a commit). Do not use it for POSTs: their checks
    rely on READ COMMITTED and row locks (a confirmation's 409).
    """
    session = session or db.session
    if isinstance(session, scoped_session):
        session = session()
    if session.info.get("snapshot"):
        yield session
        return
    if session.new or session.dirty or session.deleted or session.info.get("wrote"):
        raise RuntimeError("read_snapshot() after writes: they would be committed")
    if session.in_transaction():
        session.commit()  # a read transaction: nothing to write; expires what it loaded
    else:
        session.expire_all()
    postgresql = session.get_bind().dialect.name == "postgresql"
    with read_intent():
        driver = None
        if postgresql:
            session.connection(
                execution_options={
                    "isolation_level": "REPEATABLE READ",
                    "postgresql_readonly": True,
                }
            )
        else:
            connection = session.connection()
            driver = connection.connection.driver_connection
            connection.exec_driver_sql("PRAGMA query_only = ON")
            # A deferred BEGIN takes no snapshot yet: the first read does (WAL read mark).
            connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
        transaction = session.get_transaction()
        session.info["snapshot"] = True
        try:
            yield session
        except BaseException:
            session.info.pop("snapshot", None)
            _writable(driver)
            session.rollback()
            raise
        session.info.pop("snapshot", None)
        if session.get_transaction() is not transaction:
            _writable(driver)
            session.rollback()
            raise RuntimeError("the transaction ended inside read_snapshot(): not one snapshot")
        _writable(driver)
        expire, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()  # read-only: ends the snapshot, keeps what it loaded
        finally:
            session.expire_on_commit = expire


def _writable(driver) -> None:
    """Let the SQLite connection write again: on the driver's connection, which outlives
    the session's hold on it (back in the pool already if the snapshot ended early)."""
    if driver is None:
        return
    with suppress(Exception):  # a connection that is gone is not reused by the pool
        driver.execute("PRAGMA query_only = OFF")


def snapshot_reads(view):
    """Run a view's GET (and HEAD) in ``read_snapshot``: a page whose figures must agree.

    Its other methods are left at READ COMMITTED: a POST's checks and row locks rely on it.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(*args, **kwargs)
        with read_snapshot():
            return view(*args, **kwargs)

    return wrapper
