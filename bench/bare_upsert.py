"""The baseline of bench/scoring.py: a bare Flask app whose one POST endpoint upserts a sheet.

``POST /judge/stages/<stage>/entries/<entry>`` takes the very form a judge's submission
sends (``c<criterion id>`` points, comment, version, action, CSRF token) plus the judge's
id in a ``judge`` field, and writes the sheet in one transaction: the ``score_sheets``
row and its score rows, each an ``INSERT … ON CONFLICT DO UPDATE`` through plain
SQLAlchemy Core, then answers 302 to the sheet's address as the app does. No session, no
CSRF check, no permission or rule, no audit, no version bump: what one upsert of the same
sheet costs beyond Flask and the server.

It imports nothing of the app; it declares the two tables' columns it writes. The
database comes from ``DATABASE_URL``, as the app's does; on SQLite each connection gets
the settings the app gives its own (WAL, ``synchronous = NORMAL``, foreign keys, the same
busy timeout), but none of its write choreography (no ``BEGIN IMMEDIATE``, no queue of
writers, SQLite's automatic checkpoints): a bare endpoint as anyone would write it.
Served by its own gunicorn with exactly the settings of the app under test:

    DATABASE_URL=sqlite:///… gunicorn -w 4 bench.bare_upsert:app
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask import Flask, redirect, request

metadata = sa.MetaData()
sheets = sa.Table(
    "score_sheets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("stage_id", sa.Integer),
    sa.Column("judge_id", sa.Integer),
    sa.Column("entry_id", sa.Integer),
    sa.Column("state", sa.String(20)),
    sa.Column("comment", sa.Text),
    sa.Column("version", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("submitted_at", sa.DateTime(timezone=True)),
    sa.Column("total_hundredths", sa.Integer),
    sa.Column("points_count", sa.SmallInteger),
)
scores = sa.Table(
    "scores",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sheet_id", sa.Integer),
    sa.Column("criterion_id", sa.Integer),
    sa.Column("points", sa.Numeric(6, 2, asdecimal=True)),
)

engine = sa.create_engine(os.environ["DATABASE_URL"])
if engine.dialect.name == "sqlite":
    from sqlalchemy.dialects.sqlite import insert

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(
            f"PRAGMA busy_timeout = {int(os.environ.get('SQLITE_BUSY_TIMEOUT_MS', 15000))}"
        )
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

else:
    from sqlalchemy.dialects.postgresql import insert

_new_sheet = insert(sheets)
UPSERT_SHEET = _new_sheet.on_conflict_do_update(
    index_elements=["stage_id", "judge_id", "entry_id"],
    set_={
        name: _new_sheet.excluded[name]
        for name in (
            "state",
            "comment",
            "updated_at",
            "submitted_at",
            "total_hundredths",
            "points_count",
        )
    }
    | {"version": sheets.c.version + 1},
).returning(sheets.c.id)
_new_scores = insert(scores)
UPSERT_SCORES = _new_scores.on_conflict_do_update(
    index_elements=["sheet_id", "criterion_id"], set_={"points": _new_scores.excluded.points}
)

bare = Flask("bare_upsert")


@bare.post("/judge/stages/<int:stage_id>/entries/<int:entry_id>")
def upsert_sheet(stage_id: int, entry_id: int):
    """Write the posted sheet (one upsert of the sheet and its scores) and redirect."""
    form = request.form
    points = {int(k[1:]): Decimal(v) for k, v in form.items() if k[:1] == "c" and k[1:].isdigit()}
    submit = form.get("action") == "submit"
    now = datetime.now(UTC)
    with engine.begin() as conn:
        sheet_id = conn.execute(
            UPSERT_SHEET,
            {
                "stage_id": stage_id,
                "judge_id": int(form["judge"]),
                "entry_id": entry_id,
                "state": "submitted" if submit else "draft",
                "comment": form.get("comment", ""),
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "submitted_at": now if submit else None,
                "total_hundredths": int(sum(points.values(), Decimal(0)) * 100),
                "points_count": len(points),
            },
        ).scalar_one()
        conn.execute(
            UPSERT_SCORES,
            [{"sheet_id": sheet_id, "criterion_id": c, "points": p} for c, p in points.items()],
        )
    return redirect(request.path)


app = bare
