"""What a stage still misses: the needed sheets not submitted, per judge."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from judging.common.enums import SheetState, StageState
from judging.contests.models import Stage
from judging.entries.models import Entry
from judging.extensions import db
from judging.judges.models import Assignment, Judge
from judging.standings.progress import needed_sheets


@dataclass(frozen=True)
class MissingSheet:
    """A needed sheet not submitted: its judge, its entry, and its state (None: not started)."""

    judge_id: int
    judge: str
    entry_id: int
    code: str
    state: SheetState | None


@dataclass
class Readiness:
    """How complete a stage is: the needed sheets (``needed_sheets``) and those missing."""

    stage: Stage
    needed: int
    missing: list[MissingSheet]

    @property
    def submitted(self) -> int:
        """Needed sheets that are submitted."""
        return self.needed - len(self.missing)

    @property
    def is_complete(self) -> bool:
        """Closed, with every needed sheet submitted: results can be confirmed as they are."""
        return self.stage.state == StageState.CLOSED and not self.missing

    def by_judge(self) -> list[tuple[str, list[MissingSheet]]]:
        """The missing sheets grouped by judge, in judge-name order."""
        grouped: dict[tuple[str, int], list[MissingSheet]] = defaultdict(list)
        for sheet in self.missing:
            grouped[(sheet.judge, sheet.judge_id)].append(sheet)
        return [(name, sheets) for (name, _id), sheets in sorted(grouped.items())]

    def describe(self) -> dict:
        """What was incomplete, for a snapshot's details: state, counts, codes per judge."""
        return {
            "state": str(self.stage.state),
            "needed": self.needed,
            "missing": len(self.missing),
            "by_judge": {name: [s.code for s in sheets] for name, sheets in self.by_judge()},
        }


def readiness(stage: Stage) -> Readiness:
    """The stage's needed sheets and which of them are not submitted yet."""
    need = needed_sheets(Assignment.stage_id == stage.id)
    rows = db.session.execute(
        sa.select(need.c.judge_id, Judge.name, need.c.entry_id, Entry.code, need.c.state)
        .join(Judge, Judge.id == need.c.judge_id)
        .join(Entry, Entry.id == need.c.entry_id)
        .order_by(Judge.name, Judge.id, Entry.code)
    ).all()
    missing = [
        MissingSheet(judge_id, name, entry_id, code, state)
        for judge_id, name, entry_id, code, state in rows
        if state != SheetState.SUBMITTED
    ]
    return Readiness(stage, len(rows), missing)
