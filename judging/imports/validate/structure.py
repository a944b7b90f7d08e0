"""Validating the structure sheets: 赛事, 组别, 领域, 赛段, 评分项, 奖项, 专项奖."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from judging.common.enums import AggregationRule, ContestStatus, StageKind, StageState
from judging.imports.problems import problem
from judging.imports.spec import CONTEST_STATUS, RULE, STAGE_KIND, STAGE_STATE
from judging.imports.table import Cells, Table, clean_key, split_list
from judging.imports.validate.base import (
    COLUMN_OF,
    MAX_MONEY,
    MAX_POINTS,
    SLUG,
    ValidatorBase,
    fold,
    places_ok,
)
from judging.ranking import CENT
from judging.ranking.rules import parse_special_rule


class StructureRows(ValidatorBase):
    """The contest and its structure."""

    def contest(self, table: Table, *, expected: str | None = None) -> str:
        """The 赛事 sheet: exactly one row; returns the slug ("" after a problem)."""
        rows = list(self.rows(table))
        if not rows:
            self.problems.append(problem("one_row", sheet=table.sheet, row=table.header_row + 1))
            return ""
        for extra in rows[1:]:
            extra.bad("name", "one_row")
        cells = rows[0]
        slug = cells.key("slug", required=True, max_len=64)
        if slug and not SLUG.match(slug):
            cells.bad("slug", "bad_slug")
            slug = ""
        if slug and expected and slug != expected:
            cells.bad("slug", "slug_mismatch", slug=expected)
            slug = ""
        full = {
            "name": cells.text("name", required=True),
            "year": cells.integer("year", required=True, minimum=1900, maximum=9999),
            "organizers": cells.text("organizers", max_len=2000),
            "status": cells.choice("status", CONTEST_STATUS, default=ContestStatus.SETUP),
        }
        if slug and cells.ok:
            self.merge("contest", slug, cells, self.present(table, full), full)
        return slug

    def groups(self, table: Table | None) -> None:
        """组别: code and name; the order of the rows is the groups' order."""
        seen: dict = {}
        for n, cells in enumerate(self.rows(table), 1):
            code = cells.key("code", required=True, max_len=32)
            name = cells.text("name", required=True, max_len=120)
            if not code or self.seen(seen, code, cells, "code") or not cells.ok:
                continue
            self.merge("groups", code, cells, {"name": name}, {"position": n})

    def fields(self, table: Table | None) -> None:
        """领域: one name per row."""
        seen: dict = {}
        for n, cells in enumerate(self.rows(table), 1):
            name = cells.key("name", required=True, max_len=120)
            if not name or self.seen(seen, fold(name), cells, "name"):
                continue
            if self.field(name) is None:
                self.merge("fields", name, cells, {}, {"position": n})
            else:
                self.plan.same["fields"] += 1

    def stages(self, table: Table | None) -> None:
        """赛段: order, code, name, kind, judges per entry, rule, trim, advance, weight, …"""
        seen: dict = {}
        orders: dict = {}
        placed: list = []
        for n, cells in enumerate(self.rows(table), 1):
            code = cells.key("code", required=True, max_len=32)
            full = {
                "position": cells.integer("order", default=n, minimum=1, maximum=1000),
                "name": cells.text("name", required=True, max_len=120),
                "kind": cells.choice("kind", STAGE_KIND, default=StageKind.ONLINE),
                "judges_per_entry": cells.integer(
                    "judges_per_entry", default=5, minimum=1, maximum=1000
                ),
                "rule": cells.choice("rule", RULE, default=AggregationRule.TRIMMED),
                "trim": cells.integer("trim", default=1, minimum=0, maximum=100),
                "min_sheets_to_trim": cells.integer(
                    "min_sheets_to_trim", default=5, minimum=0, maximum=1000
                ),
                "advance": self._advance(cells),
                "weight": cells.decimal("weight", minimum=Decimal(0), maximum=Decimal(1)),
                "threshold": cells.decimal("threshold", minimum=Decimal(0), maximum=MAX_POINTS),
                "state": cells.choice("state", STAGE_STATE, default=StageState.DRAFT),
                "pitch_minutes": cells.integer("pitch_minutes", default=8, minimum=0, maximum=600),
                "qa_minutes": cells.integer("qa_minutes", default=7, minimum=0, maximum=600),
            }
            if not places_ok(full["weight"], 4):
                cells.bad("weight", "out_of_range", min="0", max="1")
            if not places_ok(full["threshold"], 2):
                cells.bad("threshold", "not_number")
            if not code or self.seen(seen, code, cells, "code"):
                continue
            if self.seen(orders, full["position"], cells, "order") or not cells.ok:
                continue
            placed.append((code, full["position"], cells))
            values = self.present(table, full)
            existing = self.x.records["stages"].get(code)
            if existing is not None:
                changed = {f for f, v in values.items() if existing.get(f) != v}
                if "state" in changed:
                    cells.bad("state", "state_by_workflow")
                    continue
                frozen = changed - {"name", "pitch_minutes", "qa_minutes"}
                if frozen and self.published(code):
                    field = COLUMN_OF.get(min(frozen), min(frozen))
                    cells.bad(field, "stage_published", stage=self.published(code))
                    continue
            self.merge("stages", code, cells, values, full)
        self._positions("stages", placed, lambda key: None, lambda key: key)

    def _advance(self, cells: Cells) -> tuple[int | None, tuple[tuple[str, int], ...]]:
        """晋级名额: a number for every group, or group:number pairs; blank for none."""
        value = cells.value("advance")
        if value is None:
            return (None, ())
        if isinstance(value, Decimal):
            if value == value.to_integral_value() and 0 <= value <= 10**6:
                return (int(value), ())
            cells.bad("advance", "bad_advance")
            return (None, ())
        text = clean_key(value)
        if text.isdigit():  # one number for every group (within what a quota can be)
            if _quota(text) is None:
                cells.bad("advance", "bad_advance")
                return (None, ())
            return (_quota(text), ())
        pairs = []
        for part in split_list(text.replace("：", ":").replace("=", ":")):
            group_text, _, number = part.rpartition(":")
            code = self._index("groups", "name").get(fold(group_text))
            if code is None or _quota(number) is None:
                cells.bad("advance", "bad_advance")
                return (None, ())
            pairs.append((code, _quota(number)))
        if len({g for g, _ in pairs}) != len(pairs):
            cells.bad("advance", "bad_advance")
            return (None, ())
        return (None, tuple(sorted(pairs)))

    def criteria(self, table: Table | None) -> None:
        """评分项: stage, group, order, name, max, step (0.5), description."""
        seen: dict = {}
        orders: dict = {}
        placed: list = []
        counts: Counter = Counter()
        for cells in self.rows(table):
            stage = self.stage(cells, "stage")
            group = self.group(cells, "group")
            name = cells.text("name", required=True, max_len=120)
            counts[(stage, group)] += 1
            full = {
                "position": cells.integer(
                    "order", default=counts[(stage, group)], minimum=1, maximum=1000
                ),
                "max_points": cells.decimal("max", required=True, minimum=CENT, maximum=MAX_POINTS),
                "step": cells.decimal("step", default=Decimal("0.5"), minimum=CENT),
                "description": cells.text("description", max_len=2000, multiline=True),
            }
            if not cells.ok or not (stage and group and name):
                continue
            for f, column in (("max_points", "max"), ("step", "step")):
                if not places_ok(full[f], 2):
                    cells.bad(column, "not_number")
                full[f] = full[f].quantize(CENT)
            if full["step"] > full["max_points"]:
                cells.bad("step", "bad_step")
            key = (stage, group, name)
            if (
                self.seen(seen, key, cells, "name")
                or self.seen(orders, (stage, group, full["position"]), cells, "order")
                or not cells.ok
            ):
                continue
            placed.append((key, full["position"], cells))
            in_use = (stage, group) in self.x.rubrics_in_use
            if in_use and key not in self.x.records["criteria"]:
                cells.bad("name", "rubric_locked")
                continue
            locked = {"max_points", "step", "position"} if in_use else set()
            self.merge("criteria", key, cells, self.present(table, full), full, locked=locked)
        self._positions("criteria", placed, lambda key: key[:2], lambda key: key[2])

    def _positions(self, kind: str, placed: list, scope, label) -> None:
        """Orders stay unique once the file's are applied: a row may not take the order of a
        record the file leaves alone."""
        in_file = {key for key, _, _ in placed}
        taken = {
            (scope(key), record["position"]): key
            for key, record in self.x.records[kind].items()
            if key not in in_file
        }
        for key, position, cells in placed:
            other = taken.get((scope(key), position))
            if other is not None:
                cells.bad("order", "position_taken", value=position, other=label(other))

    def awards(self, table: Table | None) -> None:
        """奖项: stage, group, order, name, quota, prize per (stage, group)."""
        seen: dict = {}
        counts: Counter = Counter()
        for cells in self.rows(table):
            stage = self.stage(cells, "stage")
            group = self.group(cells, "group")
            counts[(stage, group)] += 1
            position = cells.integer(
                "order", default=counts[(stage, group)], minimum=1, maximum=1000
            )
            full = {
                "name": cells.text("name", required=True, max_len=120),
                "quota": cells.integer("quota", required=True, minimum=0, maximum=10**6),
                "prize": self._money(cells, "prize"),
            }
            if not cells.ok or not (stage and group):
                continue
            key = (stage, group, position)
            if self.seen(seen, key, cells, "order"):
                continue
            self.merge("awards", key, cells, self.present(table, full), full)

    def _money(self, cells: Cells, column: str) -> Decimal:
        value = cells.decimal(column, default=Decimal(0), minimum=Decimal(0), maximum=MAX_MONEY)
        if not places_ok(value, 2):
            cells.bad(column, "not_number")
        return value.quantize(CENT)

    def special_awards(self, table: Table | None) -> None:
        """专项奖: name, rule (student_team_reached:<stage>), prize each."""
        seen: dict = {}
        for cells in self.rows(table):
            name = cells.text("name", required=True, max_len=120)
            text = cells.key("rule", required=True, max_len=120)
            rule = ""
            if text:
                try:
                    kind, argument = parse_special_rule(text)
                except ValueError:
                    cells.bad("rule", "bad_rule")
                else:
                    stage = self.stage_of(argument)
                    if stage is None:
                        cells.bad("rule", "unknown_stage")
                    else:
                        rule = f"{kind}:{stage}"
            full = {"rule": rule, "prize": self._money(cells, "prize")}
            if not cells.ok or not name or self.seen(seen, name, cells, "name"):
                continue
            self.merge("special_awards", name, cells, self.present(table, full), full)


def _quota(text: str) -> int | None:
    """An advancement quota typed as text: ASCII digits up to 10^6, else None."""
    if not (text.isascii() and text.isdigit() and len(text) <= 7):
        return None
    value = int(text)
    return value if value <= 10**6 else None
