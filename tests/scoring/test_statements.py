"""What one submission costs the database: its statements, counted as SQLAlchemy sends them
(``before_cursor_execute``) and pinned, so that a change that adds one shows here
(issue 13, item 6; bench/scoring_profile.py prints them with their text)."""

import re

import sqlalchemy as sa

from judging.common.enums import SheetState
from judging.extensions import db
from judging.scoring.models import ScoreSheet
from tests.conftest import csrf_token

#: One submission of a new sheet, in order, once the contest's audit chain has a head.
#: Reading: the signed-in user (Flask-Login), the sheet's target with its rubric (one
#: query). Writing, in one transaction: the sheet with the write rules in the same
#: statement, its scores (one batch), the audit event (lock the chain's head, insert,
#: move the head), the (stage, group) version.
SUBMISSION = [
    "SELECT users",
    "SELECT judges",
    "INSERT INTO score_sheets",
    "INSERT INTO scores",
    "SELECT audit_heads",
    "INSERT INTO audit_events",
    "UPDATE audit_heads",
    "INSERT INTO stage_versions",
]
#: SQLite's transactions are begun and ended by statements of their own: the read, ended
#: before the writes, then the write (``BEGIN IMMEDIATE``, the write lock), on the same
#: connection (judging.common.db.write_phase); the request's commit ends it.
SQLITE_TRANSACTIONS = ["BEGIN", "COMMIT", "BEGIN IMMEDIATE"]
TRANSACTION_CONTROL = ("BEGIN", "COMMIT")


def statement_kinds(statements: list[str]) -> list[str]:
    """Each statement as its verb and first table (``INSERT INTO scores``)."""
    kinds = []
    for text in statements:
        words = text.split()
        if words[0] in ("INSERT", "DELETE"):
            kinds.append(" ".join(words[:3]))
        elif words[0] == "UPDATE":
            kinds.append(" ".join(words[:2]))
        elif words[0] == "SELECT":
            kinds.append("SELECT " + re.search(r"\bFROM (\w+)", text).group(1))
        else:
            kinds.append(" ".join(words[:2]))
    return kinds


def test_one_submission_sends_the_pinned_statements(judge_client, arena):
    url = f"/judge/stages/{arena.stage.id}/entries/{{}}"
    token = csrf_token(judge_client, url.format(arena.entry.id))

    def form(criteria_points):
        data = {"csrf_token": token, "version": "0", "action": "submit", "comment": "好"}
        return data | {f"c{c.id}": p for c, p in criteria_points}

    growth = [c for c in arena.stage.criteria if c.group_id == arena.growth_entry.group_id]
    first = (url.format(arena.growth_entry.id), form((c, "40") for c in growth))
    second = (
        url.format(arena.entry.id),
        form(zip(arena.criteria, ["30", "30", "20"], strict=True)),
    )
    entry_id = arena.entry.id
    # The first event of the contest's audit chain also makes its head: not the common case.
    assert judge_client.post(first[0], data=first[1]).status_code == 302

    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        answer = judge_client.post(second[0], data=second[1])
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert answer.status_code == 302
    kinds = statement_kinds(statements)
    control = [k for k in kinds if k.startswith(TRANSACTION_CONTROL)]
    assert [k for k in kinds if not k.startswith(TRANSACTION_CONTROL)] == SUBMISSION, statements
    expected = SQLITE_TRANSACTIONS if db.engine.dialect.name == "sqlite" else []
    assert control == expected, statements
    sheet = db.session.scalar(sa.select(ScoreSheet).where(ScoreSheet.entry_id == entry_id))
    assert sheet.state == SheetState.SUBMITTED and len(sheet.scores) == 3
