"""Backups of the database and bringing one back (``flask --app judging backup`` / ``restore``).

- SQLite: SQLite's online backup API (``sqlite3.Connection.backup``) copies the database
  in one step, inside one read transaction: a consistent copy of one moment, taken while
  the app goes on writing (a reader never blocks a writer in WAL mode). Copying the file
  with ``cp`` misses every commit still in the write-ahead log. The copy is a plain
  database file (rollback journal, no WAL beside it), checked with
  ``PRAGMA integrity_check`` before it takes the name asked for.
- PostgreSQL: ``pg_dump --format=custom`` of the configured database (one snapshot
  of the database, as pg_dump always takes), brought back with ``pg_restore``.

A restore checks the file first (a database of this app's schema at a revision of this
app's migrations; for SQLite its integrity), refuses a target that already holds data
unless forced, replaces the target's contents, then checks the result: SQLite's
``integrity_check`` and ``foreign_key_check``, the schema revision, and every audit
chain (``judging.common.audit.verify_chain``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from judging.config import BASE_DIR
from judging.extensions import db

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
#: Tables that say nothing about whether a database "holds data".
_BOOKKEEPING = {"alembic_version"}


class BackupError(Exception):
    """A backup or restore that cannot be made, with the reason in plain words."""


@dataclass
class BackupFile:
    """What a backup file is: its kind, its schema revision, its tables."""

    path: Path
    kind: str  # "sqlite" or "postgresql"
    revision: str
    tables: set[str] = field(default_factory=set)


@dataclass
class Check:
    """The checks run after a restore: each problem found, in plain words."""

    problems: list[str] = field(default_factory=list)
    chains: int = 0
    events: int = 0

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return not self.problems


# ------------------------------------------------------------------ what a database is


def _kind(engine: Engine) -> str:
    name = engine.dialect.name
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups are made of SQLite or PostgreSQL databases, not {name}")
    return name


def sqlite_path(engine: Engine) -> Path:
    """The file of a SQLite database (an in-memory one cannot be backed up or restored)."""
    database = engine.url.database
    if database in (None, "", ":memory:") or database.startswith("file::memory:"):
        raise BackupError("the database is in memory: there is no file to back up or restore")
    return Path(database)


def app_tables() -> set[str]:
    """The tables of this app's schema."""
    return set(db.metadata.tables)


def migration_revisions() -> tuple[set[str], str | None]:
    """Every revision of this app's migrations, and the head."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(BASE_DIR / "migrations"))
    return {rev.revision for rev in script.walk_revisions()}, script.get_current_head()


def _check_revision(revision: str | None, source: str) -> str:
    known, _head = migration_revisions()
    if not revision:
        raise BackupError(f"{source} has no schema revision (alembic_version is empty)")
    if revision not in known:
        raise BackupError(f"{source} is at revision {revision!r}, unknown to this app")
    return revision


def holding_data(engine: Engine) -> list[str]:
    """The app's tables that hold at least one row in the database of ``engine``."""
    present = set(sa.inspect(engine).get_table_names())
    found = []
    with engine.connect() as conn:
        for name in sorted((present & app_tables()) - _BOOKKEEPING):
            table = db.metadata.tables[name]
            if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
                found.append(name)
    return found


# ------------------------------------------------------------------ taking a backup


def backup(engine: Engine, out: Path, *, overwrite: bool = False) -> BackupFile:
    """Write a consistent copy of the database of ``engine`` to ``out``.

    The copy is made beside ``out`` and renamed only once it is complete and checked,
    so ``out`` never holds half a backup. Refuses an existing ``out`` unless ``overwrite``.
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise BackupError(f"{out} exists: choose another name (or --force to replace it)")
    if not out.parent.is_dir():
        raise BackupError(f"no folder {out.parent}")
    part = out.with_name(out.name + ".part")
    with contextlib.suppress(FileNotFoundError):
        part.unlink()
    try:
        if _kind(engine) == "sqlite":
            _backup_sqlite(sqlite_path(engine), part)
        else:
            _backup_postgres(engine, part)
        info = inspect_backup(part)
        _fsync(part)
        os.replace(part, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    info.path = out
    return info


def _read_only(path: Path) -> str:
    """A SQLite URI opening ``path`` read-only (any character in the name is fine)."""
    return Path(path).resolve().as_uri() + "?mode=ro"


def _backup_sqlite(source: Path, part: Path) -> None:
    if not source.exists():
        raise BackupError(f"no database file {source}")
    # A read-write connection that only reads: a read-only one cannot always open a
    # database in WAL mode (its -shm file may need creating).
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(part)
        try:
            # pages=-1: every page in one step, in one read transaction of the source: a
            # copy of one moment, whatever is committed meanwhile.
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            result = dst.execute("PRAGMA integrity_check").fetchall()
            if result != [("ok",)]:
                raise BackupError(f"the copy failed its integrity check: {result[:5]}")
        finally:
            dst.close()
    finally:
        src.close()


def _pg_env(engine: Engine) -> dict[str, str]:
    """libpq's environment for the engine's database (the password stays out of argv)."""
    url = engine.url
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
        ("PGSSLMODE", url.query.get("sslmode")),
    ):
        if value:
            env[key] = str(value)
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (PostgreSQL's client tools are needed)")
    return path


def _run(args: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip()[-2000:]}")
    return done.stdout


def _backup_postgres(engine: Engine, part: Path) -> None:
    _run(
        [_tool("pg_dump"), "--format=custom", "--file", str(part)],
        _pg_env(engine),
        "pg_dump",
    )


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


# ------------------------------------------------------------------ reading a backup


def inspect_backup(path: Path) -> BackupFile:
    """What ``path`` holds, after the checks a restore makes before it changes anything:
    a SQLite database (intact) or a pg_dump archive, of this app's tables, at a revision
    of this app's migrations."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as err:
        raise BackupError(f"cannot read {path}: {err.strerror}") from err
    if head == SQLITE_MAGIC:
        info = _inspect_sqlite(path)
    elif head.startswith(PGDUMP_MAGIC):
        info = _inspect_pgdump(path)
    else:
        raise BackupError(f"{path} is neither a SQLite database nor a pg_dump archive")
    missing = app_tables() - info.tables
    if missing:
        raise BackupError(f"{path} lacks tables of this app: {', '.join(sorted(missing))}")
    return info


def _inspect_sqlite(path: Path) -> BackupFile:
    try:
        conn = sqlite3.connect(_read_only(path), uri=True)
    except sqlite3.Error as err:
        raise BackupError(f"{path} cannot be opened: {err}") from err
    try:
        result = conn.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            raise BackupError(f"{path} failed its integrity check: {result[:5]}")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        revision = None
        if "alembic_version" in tables:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
    except sqlite3.Error as err:
        raise BackupError(f"{path} is not a readable database: {err}") from err
    finally:
        conn.close()
    return BackupFile(path, "sqlite", _check_revision(revision, str(path)), tables)


_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ")


def _inspect_pgdump(path: Path) -> BackupFile:
    env = dict(os.environ)
    listing = _run([_tool("pg_restore"), "--list", str(path)], env, "reading the archive")
    tables = set()
    for line in listing.splitlines():
        match = _TOC_TABLE.match(line)
        if match:
            tables.add(match.group(2))
    data = _run(
        [_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(path)],
        env,
        "reading the archive's schema revision",
    )
    revision = None
    lines = iter(data.splitlines())
    for line in lines:
        if line.startswith("COPY ") and "alembic_version" in line:
            first = next(lines, "\\.")
            revision = None if first == "\\." else first.strip()
            break
    return BackupFile(path, "postgresql", _check_revision(revision, str(path)), tables)


# ------------------------------------------------------------------ restoring one


def restore(engine: Engine, path: Path, *, force: bool = False) -> BackupFile:
    """Replace the contents of the database of ``engine`` with the backup at ``path``.

    Checks the file first (``inspect_backup``), and refuses a target that holds data
    unless ``force``. A SQLite backup goes into a SQLite database, a pg_dump archive
    into a PostgreSQL one. Run ``check`` afterwards. Stop the app while it runs.
    """
    info = inspect_backup(path)
    kind = _kind(engine)
    if info.kind != kind:
        raise BackupError(f"{path} is a {info.kind} backup; the database is {kind}")
    target = sqlite_path(engine) if kind == "sqlite" else None
    if target is None or target.exists():
        held = holding_data(engine)
        if held and not force:
            raise BackupError(
                "the database already holds data (" + ", ".join(held[:8]) + "): restoring "
                "would replace it; give --force to do so"
            )
    engine.dispose()  # no connection of this process stays on the old contents
    if kind == "sqlite":
        _restore_sqlite(Path(path), target)
    else:
        _restore_postgres(engine, Path(path))
    engine.dispose()
    return info


def _restore_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(_read_only(source), uri=True)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst, pages=-1)  # one step, under the target's write lock
            dst.execute("PRAGMA journal_mode = WAL")  # as the app runs it
        finally:
            dst.close()
    finally:
        src.close()


def _restore_postgres(engine: Engine, path: Path) -> None:
    _run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            engine.url.database,
            str(path),
        ],
        _pg_env(engine),
        "pg_restore",
    )


def check(engine: Engine) -> Check:
    """The checks after a restore: the file's integrity (SQLite), the schema revision,
    and every audit chain (the global one and each contest's)."""
    from judging.common.audit import verify_chain

    report = Check()
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            result = conn.exec_driver_sql("PRAGMA integrity_check").fetchall()
            if [tuple(r) for r in result] != [("ok",)]:
                report.problems.append(f"integrity_check: {[tuple(r) for r in result][:5]}")
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                report.problems.append(f"foreign_key_check: {len(broken)} rows refer to none")
        revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        contest_ids = conn.execute(sa.text("SELECT id FROM contests ORDER BY id")).scalars().all()
    try:
        _check_revision(revision, "the restored database")
    except BackupError as err:
        report.problems.append(str(err))
    db.session.rollback()
    for contest_id in [None, *contest_ids]:
        chain = verify_chain(contest_id)
        db.session.rollback()
        report.chains += 1
        report.events += chain.events
        if not chain.ok:
            name = "the global audit chain" if contest_id is None else f"contest {contest_id}"
            report.problems.append(f"audit chain of {name}: {chain.broken.describe()}")
    return report


def database_label(engine: Engine) -> str:
    """The database's URL without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)
