"""Validating the link sheets: 回避 (conflicts), 分配 (assignments), 评分 (score sheets)."""

from __future__ import annotations

from openpyxl.utils import get_column_letter

from judging.common.enums import ConflictSource, ConflictStatus, SheetState
from judging.imports.problems import problem
from judging.imports.reader import CellError, Formula
from judging.imports.spec import CONFLICT_SOURCE, CONFLICT_STATUS, SHEET_STATE, header_key
from judging.imports.table import Table
from judging.imports.validate.base import ValidatorBase, fold
from judging.scoring.services import MAX_COMMENT, MAX_REASON, InvalidPoints, check_points


class LinkRows(ValidatorBase):
    """Conflicts, assignments and score sheets."""

    def conflicts(self, table: Table | None) -> None:
        """回避: judge (username or name), entry, reason, status, source."""
        seen: dict = {}
        for cells in self.rows(table):
            judge = self.judge(cells, "judge")
            entry = self.entry(cells, "entry")
            full = {
                "reason": cells.text("reason", max_len=MAX_REASON, multiline=True),
                "status": cells.choice("status", CONFLICT_STATUS, default=ConflictStatus.BINDING),
                "source": cells.choice("source", CONFLICT_SOURCE, default=ConflictSource.ORGANIZER),
            }
            if not (judge and entry) or not cells.ok:
                continue
            key = (judge, entry)
            if self.seen(seen, key, cells, "entry"):
                continue
            old = self.x.records["conflicts"].get(key)
            was = old is not None and old["status"] == ConflictStatus.BINDING
            status = full["status"] if table.has("status") or old is None else old["status"]
            frozen = self.x.published_links()[0].get(key)
            if frozen and was != (status == ConflictStatus.BINDING):
                cells.bad("entry", "conflict_published", stage=self.published(frozen))
                continue
            self.merge("conflicts", key, cells, self.present(table, full), full)

    def assignments(self, table: Table | None) -> None:
        """分配: stage, judge, entry; never across a binding conflict."""
        seen: dict = {}
        binding = self.binding()
        for cells in self.rows(table):
            stage = self.stage(cells, "stage")
            judge = self.judge(cells, "judge")
            entry = self.entry(cells, "entry")
            if not (stage and judge and entry):
                continue
            if (judge, entry) in binding:
                cells.bad("judge", "binding_conflict")
                continue
            key = (stage, judge, entry)
            if self.seen(seen, key, cells, "entry"):
                continue
            if key not in self.x.records["assignments"] and self.published(stage):
                cells.bad("stage", "stage_published", stage=self.published(stage))
                continue
            self.merge("assignments", key, cells, {})

    def scores(self, table: Table | None, *, stage_code: str | None = None) -> None:
        """评分: stage, judge, entry, one column per criterion, comment, state.

        A row implies the assignment it needs. Points are checked by the scoring rules
        (``check_points``): numbers within 0..max on the criterion's step; a submitted
        sheet scores every criterion of its rubric, a draft may leave some blank.
        """
        if table is None:
            return
        names = {
            fold(key[2]): key[2] for key in self.keys("criteria")
        }  # every criterion of the contest, by folded name
        columns: dict[int, str] = {}
        for col, header in table.extra.items():
            name = names.get(fold(header))
            if name is None:
                if header_key(header):
                    self.problems.append(
                        problem(
                            "unknown_column",
                            sheet=table.sheet,
                            row=table.header_row,
                            column=get_column_letter(col),
                            header=header,
                            value=header,
                        )
                    )
                continue
            columns[col] = name
        column_of = {name: col for col, name in columns.items()}
        seen: dict = {}
        binding = self.binding()
        for cells in self.rows(table):
            stage = self.stage(cells, "stage", required=stage_code is None) or stage_code or ""
            if stage_code and stage and stage != stage_code:
                cells.bad("stage", "stage_mismatch", stage=stage_code)
                continue
            judge = self.judge(cells, "judge")
            entry = self.entry(cells, "entry")
            state = cells.choice("state", SHEET_STATE, default=SheetState.SUBMITTED)
            comment = cells.text("comment", max_len=MAX_COMMENT, multiline=True)
            submitted_at = cells.moment("submitted_at", tz=self.tz)
            if not (stage and judge and entry):
                continue
            group = self.record("entries", entry)["group"]
            rubric = self.rubric(stage, group)
            if not rubric:
                cells.bad("stage", "no_rubric")
                continue
            in_rubric = {spec.name: spec for spec in rubric}
            raw: dict[int, object] = {}
            for col, name in columns.items():
                value = cells.values.get(col)
                if value is None or (isinstance(value, str) and not value.strip()):
                    continue
                if name not in in_rubric:
                    cells.bad_at(col, "not_in_rubric")
                elif isinstance(value, Formula | CellError):
                    cells.bad_at(col, "formula" if isinstance(value, Formula) else "cell_error")
                else:
                    raw[in_rubric[name].id] = value
            if not cells.ok:
                continue
            try:
                clean = check_points(rubric, raw, complete=state == SheetState.SUBMITTED)
            except InvalidPoints as err:
                by_id = {spec.id: spec for spec in rubric}
                for crit_id, message in err.errors.items():
                    col = column_of.get(by_id[crit_id].name)
                    if col is None:
                        cells.bad("entry", "points", value="", message=message)
                    else:
                        cells.bad_at(col, "points", message=message)
                continue
            if (judge, entry) in binding:
                cells.bad("judge", "binding_conflict")
                continue
            key = (stage, judge, entry)
            if self.seen(seen, key, cells, "entry"):
                continue
            points = {spec.name: clean[spec.id] for spec in rubric if spec.id in clean}
            values = {"state": state, "comment": comment, "points": points}
            existing = self.x.records["sheets"].get(key)
            changes = existing is None or any(existing[f] != v for f, v in values.items())
            if changes and self.published(stage):
                cells.bad("stage", "stage_published", stage=self.published(stage))
                continue
            if existing is not None and existing["state"] == SheetState.SUBMITTED:
                if any(existing[f] != v for f, v in values.items()):
                    cells.bad("entry", "submitted_changed")
                else:
                    self.plan.same["sheets"] += 1
                continue
            self.merge("sheets", key, cells, values, {"submitted_at": submitted_at})
            if key not in self.x.records["assignments"]:
                self.plan.create["assignments"].setdefault(key, {})
