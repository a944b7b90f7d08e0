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
from sqlalchemy.orm import Session, make_transient_to_detached, scoped_session
from sqlalchemy.orm.attributes import set_committed_value

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
    session as written here for ``end_request`` to commit it. A statement that
    ``_Prepared`` takes is sent on the driver's cursor (see there); any other, and every
    statement while something listens to the engine's cursor events, goes through
    SQLAlchemy's own execution.
    """
    session = db.session()
    if statement.is_dml:
        session.info["wrote"] = True
    connection = _connection_of(session)
    dispatch = connection.dispatch
    if not (dispatch.before_cursor_execute or dispatch.after_cursor_execute):
        many = isinstance(params, list)
        keys = tuple(params[0] if many else params or ())
        key = (statement, connection.dialect.name, keys, many)
        prepared = _prepared.get(key, _UNSEEN)
        if prepared is _UNSEEN:  # None is kept too: such a statement is compiled once only
            prepared = _prepared[key] = _Prepared.of(statement, connection.dialect, keys, many)
        if prepared is not None:
            return prepared.run(connection, params, many)
    return connection.execute(statement, params)


def _connection_of(session: Session):
    """``session.connection()``, kept for the session's transaction: asked again for each
    statement, it walked the session, Flask-SQLAlchemy's binds and the transaction's
    connections each time, half as much again as ``execute_core``'s own work. A new
    transaction (after a commit or a rollback) asks again."""
    transaction = session.get_transaction()
    kept = session.info.get("core_connection")
    if kept is not None and transaction is not None and kept[0] is transaction:
        connection = kept[1]
        if transaction.is_active and not connection.closed:
            return connection
    connection = session.connection()
    session.info["core_connection"] = (session.get_transaction(), connection)
    return connection


def attach_row(model, values: dict):
    """An instance of ``model`` made from a row read with ``execute_core`` (``values`` by
    attribute name, every column), in the request's session as if the ORM had loaded it:
    persistent, nothing changed, its relationships loaded when first read.

    For a row read on every request (the signed-in user): the ORM's own load of one row
    costs about twice the statement (bench/scoring_profile.py). As the ORM does, an
    instance of the same row already in the session is returned, what had expired of it
    filled in from the row and the rest as it is.
    """
    session = db.session()
    mapper = sa.inspect(model)
    if not mapper.configured:  # a new process: the ORM's first query would have done it
        sa.orm.configure_mappers()
    key = mapper.identity_key_from_primary_key(
        [values[mapper.get_property_by_column(column).key] for column in mapper.primary_key]
    )
    existing = session.identity_map.get(key)
    if existing is not None:
        # As the ORM's load: what had expired (a commit) is filled in from the row.
        for name in sa.inspect(existing).expired_attributes & values.keys():
            set_committed_value(existing, name, values[name])
        return existing
    instance = mapper.class_manager.new_instance()
    instance.__dict__.update(values)  # as loaded: no change recorded, as the ORM's loader does
    make_transient_to_detached(instance)  # committed, with the row's identity
    session.add(instance)
    return instance


class _Prepared:
    """A prebuilt Core statement compiled once per dialect and parameter names, and sent
    straight on the driver's cursor: its bound values converted by the same bind
    processors as SQLAlchemy's (enums, times, JSON, decimals), in the dialect's own
    parameter style.

    SQLAlchemy's execution of an already compiled statement still builds an execution
    context, looks its compiled form up and wraps the cursor in a result, about four times
    the driver's own time for one of a submission's small statements
    (bench/scoring_profile.py). Only statements that need none of that are taken
    (``of``): no values made in Python at execution (column defaults), no parameters
    expanded at execution (``IN`` lists). Result values are converted by the result
    processors of the selected columns' types (decimals, enums, times), chosen once from
    the driver's column types as SQLAlchemy does. A driver error is raised as
    SQLAlchemy's exception of the same kind.
    """

    __slots__ = (
        "sql",
        "names",
        "defaults",
        "processors",
        "positions",
        "positional",
        "dialect",
        "result_types",
        "converters",
    )

    @classmethod
    def of(cls, statement, dialect, keys: tuple, many: bool) -> _Prepared | None:
        """The prepared form of statement, or None when it must go through SQLAlchemy."""
        compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=many)
        if (
            compiled.literal_execute_params
            or compiled.post_compile_params
            or compiled.insert_prefetch
            or compiled.update_prefetch
            or getattr(compiled, "_insertmanyvalues", None)
        ):
            return None
        prepared = cls()
        prepared.sql = compiled.string
        prepared.positional = compiled.positional
        prepared.names = list(compiled.positiontup or compiled.binds)
        # Values fixed in the statement itself (``.values(x=1)``, literals): the caller's
        # parameters add to these.
        prepared.defaults = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if name not in keys and not bind.required
        }
        prepared.processors = {
            name: process
            for name, process in compiled._bind_processors.items()
            if name in prepared.names
        }
        # Positional parameters may name one bind several times: each place is converted.
        prepared.positions = [
            (index, prepared.processors[name])
            for index, name in enumerate(prepared.names)
            if name in prepared.processors
        ]
        prepared.dialect = dialect
        prepared.result_types = [column[3] for column in compiled._result_columns]
        prepared.converters = None  # chosen at the first run, from the driver's types
        return prepared

    def _converters(self, description) -> list:
        """(index, processor) of the result columns whose values need converting."""
        if self.converters is None:
            found = [
                (index, kind._cached_result_processor(self.dialect, column[1]))
                for index, (kind, column) in enumerate(
                    zip(self.result_types, description, strict=True)
                )
            ]
            self.converters = [(index, process) for index, process in found if process]
        return self.converters

    def _values(self, params):
        merged = {**self.defaults, **params} if self.defaults else params
        if self.positional:  # a list, in the statement's order (one call, no generator)
            values = [merged[name] for name in self.names]
            for index, process in self.positions:
                if values[index] is not None:
                    values[index] = process(values[index])
            return values
        values = {name: merged[name] for name in self.names}
        for name, process in self.processors.items():
            if values[name] is not None:
                values[name] = process(values[name])
        return values

    def run(self, connection, params, many: bool):
        cursor = connection.connection.cursor()
        try:
            if many:
                cursor.executemany(self.sql, [self._values(row) for row in params])
            else:
                cursor.execute(self.sql, self._values(params or {}))
        except self.dialect.loaded_dbapi.Error as error:
            cursor.close()
            raise sa.exc.DBAPIError.instance(
                self.sql, params, error, self.dialect.loaded_dbapi.Error, dialect=self.dialect
            ) from error
        return _DriverResult(cursor, self)


class _DriverResult:
    """The little of a result that prebuilt statements' callers read: rows as tuples."""

    __slots__ = ("_rows",)

    def __init__(self, cursor, prepared: _Prepared):
        rows = []
        if cursor.description:
            rows = cursor.fetchall()
            converters = prepared._converters(cursor.description)
            if converters and rows:
                rows = [_converted(row, converters) for row in rows]
        cursor.close()
        self._rows = rows

    def all(self) -> list[tuple]:
        """Every row."""
        return self._rows

    def scalar(self):
        """The first column of the first row, or None."""
        return self._rows[0][0] if self._rows else None

    def scalar_one(self):
        """The first column of the only row."""
        if len(self._rows) != 1:
            raise sa.exc.NoResultFound() if not self._rows else sa.exc.MultipleResultsFound()
        return self._rows[0][0]


def _converted(row, converters) -> tuple:
    values = list(row)
    for index, process in converters:
        values[index] = process(values[index])
    return tuple(values)


_prepared: dict[tuple, _Prepared | None] = {}
_UNSEEN = object()


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
