"""common.db.id_table: ids for a join, however many, without a bind parameter each."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from judging.common.db import id_table
from judging.entries.models import Entry
from judging.extensions import db
from tests.conftest import create_contest, create_entry, create_group


def _statements(run) -> list[tuple[str, object]]:
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters, executemany))

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
    return seen


def test_more_ids_than_a_statement_may_bind(app):
    """70,000 ids: over PostgreSQL's 65,535 parameters for one statement."""
    contest = create_contest()
    group = create_group(contest)
    entries = [create_entry(contest, group, code=f"E{i}") for i in range(3)]
    db.session.flush()
    ids = list(range(10**6, 10**6 + 70_000)) + [e.id for e in entries[:2]] * 2
    found = {}

    def run():
        with id_table(ids) as listed:
            found["count"] = db.session.scalar(sa.select(sa.func.count()).select_from(listed))
            found["entries"] = set(
                db.session.scalars(
                    sa.select(Entry.code).where(Entry.id.in_(sa.select(listed.c.id)))
                )
            )

    statements = _statements(run)
    assert found == {"count": 70_002, "entries": {"E0", "E1"}}
    # no statement run alone carries more than a row's parameters
    for _statement, parameters, executemany in statements:
        if not executemany:
            assert len(parameters or ()) <= 1


def test_the_table_goes_when_the_block_ends(app):
    with id_table([1, 2]) as listed:
        pass
    with id_table([3]) as other:
        assert db.session.scalar(sa.select(sa.func.count()).select_from(other)) == 1
    assert other.name != listed.name
    with pytest.raises(sa.exc.DatabaseError), db.session.begin_nested():
        db.session.execute(sa.select(sa.func.count()).select_from(listed))
