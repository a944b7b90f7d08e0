"""Database engine set-up: SQLite pragmas and write transactions that begin immediately."""

from __future__ import annotations

import fcntl
import itertools
import logging
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import scoped_session

# Set for requests and commands that write, so SQLite takes its write lock at BEGIN
# (BEGIN IMMEDIATE) and waits on the busy timeout there, instead of failing with
# "database is locked" when a deferred read transaction later tries to upgrade.
log = logging.getLogger(__name__)
_immediate: ContextVar[bool] = ContextVar("sqlite_begin_immediate", default=False)


def set_write_intent(value: bool) -> None:
    """Declare whether the current request or command will write."""
    _immediate.set(value)


@contextmanager
def read_intent():
    """Run a block whose transactions begin deferred on SQLite (a read transaction that
    never takes the write lock), whatever the request declared."""
    token = _immediate.set(False)
    try:
        yield
    finally:
        _immediate.reset(token)


@contextmanager
def write_intent():
    """Run a block with write transactions beginning immediately on SQLite."""
    token = _immediate.set(True)
    try:
        yield
    finally:
        _immediate.reset(token)


def reads_first(view):
    """Mark a view that reads without the write lock and takes it only for its writes.

    Such a view's transaction begins deferred; the service it calls wraps its writes in
    ``write_phase()``. On SQLite the write lock is then held for the writes alone, not
    for the whole request, so several workers overlap their reading and checking.
    """
    view.reads_first = True
    return view


@contextmanager
def write_phase(session):
    """Run a block of writes in a transaction that holds the write lock from its start.

    On SQLite, a transaction that only read is ended first (it has nothing to commit)
    and the next one begins with BEGIN IMMEDIATE on the same connection
    (``_begin_writing``), so the writes below can never fail
    with "database is locked" on a stale read snapshot; the rules are then checked again
    inside the block. On PostgreSQL nothing changes: row locks and constraints suffice.
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.info.get("snapshot"):
        raise RuntimeError("write_phase() inside read_snapshot(): the snapshot is read-only")
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    if session.in_transaction():
        connection = session.connection()
        if not connection.info.get("immediate"):
            if session.new or session.dirty or session.deleted:
                raise RuntimeError("write_phase() after unflushed changes: they would be committed")
            if session.info.get("wrote"):  # flushed writes: committed as before, then on
                expire, session.expire_on_commit = session.expire_on_commit, False
                try:
                    session.commit()
                finally:
                    session.expire_on_commit = expire
            else:
                _begin_writing(connection)
    token = _immediate.set(True)
    try:
        yield
    finally:
        _immediate.reset(token)


def _begin_writing(connection) -> None:
    """Turn the SQLite connection's read transaction into a write transaction, in place.

    The read-only transaction ends (nothing is written: COMMIT on the driver), and a new
    one begins with BEGIN IMMEDIATE, after the writers' queue, on the same connection.
    SQLAlchemy's own transaction (and the session's) goes on around both: what was loaded
    stays loaded (the rules are checked again inside the write transaction; expiring it
    would only reload the same rows, some while the write lock is held), and the
    session's commit or rollback ends the write transaction as any other
    (``_WriterQueue.end``). Ending the session's transaction instead and beginning
    another cost a fifth of a submission's database work: an ORM commit, the connection
    back to the pool and out again (bench/scoring_profile.py).
    """
    run = _transaction_sql(connection)
    if connection.connection.driver_connection.in_transaction:
        run("COMMIT")
    writers = _writer_queues.get(connection.engine)
    if writers is not None:
        writers.enter(connection)
    try:
        run("BEGIN IMMEDIATE")
    except BaseException:
        if writers is not None:
            writers.leave(connection)
        raise
    connection.info["immediate"] = True


def _transaction_sql(connection):
    """What sends BEGIN, BEGIN IMMEDIATE or COMMIT on the connection: the driver itself
    (through SQLAlchemy's execution each cost as much as one of a submission's queries),
    a driver error ("database is locked" after the busy timeout) raised as SQLAlchemy's.
    When something listens to the engine's statements (tests counting them), SQLAlchemy's
    execution, so that they are seen, as in ``judging.common.transactions.execute_core``."""
    dispatch = connection.dispatch
    if dispatch.before_cursor_execute or dispatch.after_cursor_execute:
        return connection.exec_driver_sql
    driver, dialect = connection.connection.driver_connection, connection.dialect

    def run(statement: str) -> None:
        try:
            driver.execute(statement)
        except dialect.loaded_dbapi.Error as error:
            raise sa.exc.DBAPIError.instance(
                statement, None, error, dialect.loaded_dbapi.Error, dialect=dialect
            ) from error

    return run


#: Each file-backed SQLite engine's queue of writers (``configure_engine``).
_writer_queues: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def configure_engine(engine: Engine, *, busy_timeout_ms: int) -> None:
    """Apply per-connection settings; on SQLite: foreign keys, WAL, busy timeout."""
    if engine.dialect.name != "sqlite":
        return
    in_memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own handling
        # of transactions would otherwise defer it and ignore IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            # Checkpoints run after the write lock is released (``_WriterQueue``), not
            # inside a COMMIT that every other writer is queued behind.
            cursor.execute("PRAGMA wal_autocheckpoint = 0")
        cursor.close()

    writers = None if in_memory else _WriterQueue(f"{engine.url.database}-writer.lock")
    if writers is not None:
        _writer_queues[engine] = writers

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = _immediate.get()
        if immediate and writers is not None:
            writers.enter(conn)
        try:
            _transaction_sql(conn)("BEGIN IMMEDIATE" if immediate else "BEGIN")
        except BaseException:
            if immediate and writers is not None:
                writers.leave(conn)
            raise
        conn.info["immediate"] = immediate

    if writers is not None:

        @event.listens_for(engine, "commit")
        def _on_commit(conn):
            writers.end(conn, "COMMIT")

        @event.listens_for(engine, "rollback")
        def _on_rollback(conn):
            writers.end(conn, "ROLLBACK")

        @event.listens_for(engine, "close")
        def _on_close(_dbapi_connection, record):
            writers.close(record.info)


class _WriterQueue:
    """Writers of one SQLite file take turns on an OS file lock before BEGIN IMMEDIATE.

    SQLite's own wait for its write lock (the busy timeout) polls with growing sleeps
    (1, 2, 5, 10, 15, 20, 25 ms ...): a worker that finds the lock taken sleeps on even
    if it is released a moment later, which made the slowest submissions several times
    slower than the median under load (bench/scoring.py). ``flock`` wakes the next
    writer the moment the lock is released. Every process of the app (gunicorn workers,
    commands) queues here; anything else writing the file still meets the busy timeout.

    The lock is released right after the transaction ends: this ends it itself (COMMIT
    or ROLLBACK on the driver connection), in SQLAlchemy's commit/rollback event, so
    the driver's own commit() that follows finds no transaction and does nothing.

    WAL checkpoints: SQLite's automatic one runs inside the COMMIT that crosses its
    threshold, so every queued writer waited for it (the rest of the slowest 1%). The
    app's connections turn it off and this runs a PASSIVE checkpoint, which blocks no
    one, after every ``CHECKPOINT_EVERY`` commits of the process, once the lock is free.
    SQLite still checkpoints when the last connection to the file closes.
    """

    #: A PASSIVE WAL checkpoint after every this many commits of this process (SQLite's
    #: own automatic one runs inside a COMMIT, while every other writer waits).
    CHECKPOINT_EVERY = 100

    def __init__(self, path: str):
        self.path = path
        self.commits = 0
        # A thread that already holds the lock (a second connection writing inside the
        # same request or command) must not queue behind itself: it goes straight on to
        # BEGIN IMMEDIATE and the busy timeout.
        self.holding = threading.local()

    def _file(self, conn):
        info = conn.connection.info  # lives as long as the driver connection
        handle = info.get("writer_lock")
        if handle is None:
            handle = info["writer_lock"] = open(self.path, "a+b")  # noqa: SIM115 - kept open
        return handle

    def enter(self, conn) -> None:
        if getattr(self.holding, "count", 0):
            return
        fcntl.flock(self._file(conn).fileno(), fcntl.LOCK_EX)
        self.holding.count = 1
        conn.info["writer_locked"] = True

    def leave(self, conn) -> None:
        if conn.info.pop("writer_locked", False):
            self.holding.count = 0
            fcntl.flock(self._file(conn).fileno(), fcntl.LOCK_UN)

    def end(self, conn, statement: str) -> None:
        if not conn.info.get("writer_locked"):
            return
        driver = conn.connection.driver_connection
        try:
            if driver.in_transaction:
                driver.execute(statement)
        finally:
            self.leave(conn)
        if statement == "COMMIT":
            self.commits += 1
            if self.commits % self.CHECKPOINT_EVERY == 0:
                # PASSIVE: copies what it can without waiting for or blocking anyone. The
                # commit is done: a checkpoint that fails is retried next time, not raised.
                try:
                    driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except Exception:
                    log.warning("WAL checkpoint failed", exc_info=True)

    @staticmethod
    def close(info: dict) -> None:
        handle = info.pop("writer_lock", None)
        if handle is not None:
            handle.close()


def insert_for(session_or_bind, model):
    """An INSERT construct that knows ON CONFLICT, for the session's dialect."""
    name = session_or_bind.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the app supports SQLite and PostgreSQL
        raise RuntimeError(f"no upsert for {name}")
    return insert(model)


def plain_rows(statement, session=None) -> list[tuple]:
    """All rows of a SELECT as the driver's plain tuples, in the session's transaction.

    For reads of hundreds of thousands of rows of plain ints and numbers: SQLAlchemy's
    parameter handling applies, but no ``Row`` object or result processing is made per
    row (the column values come as the driver gives them).
    """
    from judging.extensions import db

    result = (session or db.session).connection().execute(statement)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


#: Rows per executemany batch of an insert that grows with a contest.
ID_CHUNK = 5_000

_id_tables = itertools.count(1)


@contextmanager
def id_table(ids, session=None) -> Iterator[sa.Table]:
    """A temporary table of the given ids (column ``id``), for joins and ``IN (SELECT …)``
    where an ``IN`` list would grow with a contest: no statement takes a bind parameter per
    id (PostgreSQL refuses more than 65,535), the ids go in by executemany. The table lives
    on the session's connection and is dropped when the block ends."""
    from judging.extensions import db

    session = session or db.session
    table = sa.Table(
        f"tmp_ids_{next(_id_tables)}",
        sa.MetaData(),
        sa.Column("id", sa.BigInteger, primary_key=True),
        prefixes=["TEMPORARY"],
    )
    connection = session.connection()
    table.create(connection)
    rows = [{"id": int(i)} for i in set(ids)]
    for start in range(0, len(rows), ID_CHUNK):
        connection.execute(table.insert(), rows[start : start + ID_CHUNK])
    yield table
    # Not reached when the block fails: the transaction then rolls back, and the table
    # with it (its CREATE is part of the transaction on both databases).
    table.drop(connection)
