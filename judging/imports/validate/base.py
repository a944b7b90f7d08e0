"""The validator's shared part: the plan, merged views, the merge rule, references."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from decimal import Decimal

from judging.common.enums import ConflictStatus, StageState
from judging.imports.problems import Problem
from judging.imports.state import Existing
from judging.imports.table import Cells, Table, clean_key
from judging.scoring.rubric import CriterionSpec

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
MAX_POINTS = Decimal("9999.99")
MAX_MONEY = Decimal("9999999999.99")
#: Record fields whose column has another key.
COLUMN_OF = {"position": "order", "max_points": "max", "is_student_team": "student_team"}


def fold(text: str) -> str:
    """A key or name as it is compared: normalized and case-folded."""
    return clean_key(text).casefold()


def places_ok(value: Decimal | None, places: int) -> bool:
    """Whether a number has at most this many decimal places."""
    return value is None or value == value.quantize(Decimal(1).scaleb(-places))


class Plan:
    """What an import will write: records to create and changes to make, per kind."""

    def __init__(self) -> None:
        self.create: dict[str, dict] = defaultdict(dict)
        self.update: dict[str, dict] = defaultdict(dict)
        self.same: Counter = Counter()
        self.explicit_advance: set[str] = set()  # entries whose furthest stage the file gives

    @property
    def changes(self) -> bool:
        """Whether writing the plan changes anything."""
        return any(self.create.values()) or any(self.update.values())


class ValidatorBase:
    """What every part of the validator shares: the plan, merged views of the database and
    the plan, the merge rule, and looking up groups, stages, fields, entries and judges."""

    def __init__(self, existing: Existing, *, update: bool, tz: str, problems: list[Problem]):
        self.x = existing
        self.update = update
        self.tz = tz
        self.problems = problems
        self.plan = Plan()
        self._rubrics: dict[tuple[str, str], tuple[CriterionSpec, ...]] = {}
        self._fake_id = 0
        self._usernames_taken: set[str] | None = None

    def keys(self, kind: str) -> set:
        """Every key of a kind: in the database or created by this import."""
        return set(self.x.records[kind]) | set(self.plan.create[kind])

    def record(self, kind: str, key) -> dict | None:
        """A record as it will be after the import (created, or existing with its changes)."""
        created = self.plan.create[kind].get(key)
        if created is not None:
            return created
        existing = self.x.records[kind].get(key)
        if existing is None:
            return None
        changes = self.plan.update[kind].get(key)
        return {**existing, **changes} if changes else existing

    def _index(self, kind: str, *fields: str) -> dict[str, object]:
        index = {}
        for key in self.keys(kind):
            record = self.record(kind, key)
            index.setdefault(fold(key), key)
            for f in fields:
                if record.get(f):
                    index.setdefault(fold(record[f]), key)
        return index

    def rows(self, table: Table | None):
        """The data rows of a table, each as Cells (nothing when the sheet is absent)."""
        if table is None:
            return
        for row, values in table.rows:
            yield Cells(table, row, values, self.problems)

    def merge(
        self,
        kind: str,
        key,
        cells: Cells,
        values: dict,
        defaults: dict | None = None,
        *,
        locked: set[str] = frozenset(),
    ) -> str:
        """Plan a row: create it, change an existing record, or nothing; "" after a problem.

        ``values`` hold the fields whose columns the file has; ``defaults`` fill the
        others of a new record. A difference from the database is a problem unless
        updating, and always for the ``locked`` fields.
        """
        existing = self.x.records[kind].get(key)
        if existing is None:
            self.plan.create[kind][key] = {**(defaults or {}), **values}
            return "new"
        diff = {f: v for f, v in values.items() if f in existing and existing[f] != v}
        if not diff:
            self.plan.same[kind] += 1
            return "same"
        blocked = [f for f in diff if f in locked]
        if blocked or not self.update:
            names = [self._label(cells.table, f) for f in (blocked or diff)]
            cells.bad(
                COLUMN_OF.get(next(iter(blocked or diff)), next(iter(blocked or diff))),
                "rubric_locked" if blocked else "duplicate_in_database",
                fields="、".join(names),
            )
            return ""
        self.plan.update[kind][key] = diff
        return "changed"

    def published(self, stage: str) -> str | None:
        """The name of ``stage`` when it is published (frozen against imports), else None."""
        record = self.x.records["stages"].get(stage)
        if record is not None and record["state"] == StageState.PUBLISHED:
            return record["name"]
        return None

    def _label(self, table: Table, field: str) -> str:
        column = COLUMN_OF.get(field, field)
        if column in table.columns:
            return table.where(column)[1]
        return field

    def seen(self, seen: dict, key, cells: Cells, column: str) -> bool:
        """Whether key was already on an earlier row (a problem if so)."""
        if key in seen:
            cells.bad(column, "duplicate", first=seen[key])
            return True
        seen[key] = cells.row
        return False

    @staticmethod
    def present(table: Table, full: dict) -> dict:
        """The fields of full whose columns the table has."""
        return {f: v for f, v in full.items() if table.has(COLUMN_OF.get(f, f))}

    # ------------------------------------------------------------------ references

    def group(self, cells: Cells, column: str, *, required: bool = True) -> str:
        """The code of the group a cell names by code or name; "" after a problem."""
        text = cells.key(column, required=required)
        if not text:
            return ""
        code = self._index("groups", "name").get(fold(text))
        if code is None:
            cells.bad(column, "unknown_group")
            return ""
        return code

    def stage(self, cells: Cells, column: str, *, required: bool = True) -> str:
        """The code of the stage a cell names by code or name."""
        text = cells.key(column, required=required)
        if not text:
            return ""
        return self.stage_of(text) or (cells.bad(column, "unknown_stage") or "")

    def stage_of(self, text: str) -> str | None:
        """The code of a stage named by code or name, or None."""
        return self._index("stages", "name").get(fold(text))

    def field(self, name: str) -> str | None:
        """The canonical name of a field, or None."""
        return self._index("fields").get(fold(name))

    def entry(self, cells: Cells, column: str) -> str:
        """The code of an existing or new entry."""
        code = cells.key(column, required=True, max_len=32)
        if not code:
            return ""
        if code in self.x.records["entries"] or code in self.plan.create["entries"]:
            return code
        found = self._index("entries").get(fold(code))
        return found or (cells.bad(column, "unknown_entry") or "")

    def judge(self, cells: Cells, column: str) -> str:
        """The username of the judge a cell names by username or name."""
        text = cells.key(column, required=True)
        if not text:
            return ""
        if text in self.x.records["judges"] or text in self.plan.create["judges"]:
            return text
        matches = self._judges_named(text)
        if len(matches) == 1:
            return matches[0]
        cells.bad(column, "ambiguous_judge" if matches else "unknown_judge")
        return ""

    def _judges_named(self, name: str) -> list[str]:
        folded = fold(name)
        return sorted(
            u for u in self.keys("judges") if fold(self.record("judges", u)["name"]) == folded
        )

    def binding(self) -> set[tuple[str, str]]:
        """(username, code) pairs bound by a conflict after the import."""
        return {
            key
            for key in self.keys("conflicts")
            if self.record("conflicts", key)["status"] == ConflictStatus.BINDING
        }

    def rubric(self, stage: str, group: str) -> tuple[CriterionSpec, ...]:
        """The rubric of (stage, group) after the import, as specs (new criteria get
        stand-in negative ids)."""
        key = (stage, group)
        if key not in self._rubrics:
            specs = []
            for crit_key in self.keys("criteria"):
                if crit_key[:2] != key:
                    continue
                record = self.record("criteria", crit_key)
                crit_id = self.x.ids["criteria"].get(crit_key)
                if crit_id is None:
                    self._fake_id -= 1
                    crit_id = self._fake_id
                specs.append(
                    CriterionSpec(
                        crit_id,
                        record["position"],
                        crit_key[2],
                        record["description"],
                        record["max_points"],
                        record["step"],
                    )
                )
            self._rubrics[key] = tuple(sorted(specs, key=lambda s: s.position))
        return self._rubrics[key]
