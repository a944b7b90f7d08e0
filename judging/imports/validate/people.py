"""Validating the people sheets: 项目 (entries) and 评委 (judges)."""

from __future__ import annotations

from judging.common.enums import EntryStatus
from judging.imports.spec import ENTRY_STATUS
from judging.imports.table import Table, split_list
from judging.imports.validate.base import ValidatorBase


class PeopleRows(ValidatorBase):
    """Entries and judges."""

    def entries(self, table: Table | None) -> None:
        """项目: code, title, group, field, organization, leader, student team, contact, …"""
        seen: dict = {}
        for cells in self.rows(table):
            code = cells.key("code", required=True, max_len=32)
            field_text = cells.key("field", max_len=120)
            field = ""
            if field_text:
                field = self.field(field_text) or ""
                if not field:
                    cells.bad("field", "unknown_field")
            advanced = cells.key("advanced_to")
            if advanced:
                advanced = self.stage_of(advanced) or (
                    cells.bad("advanced_to", "unknown_stage") or ""
                )
            full = {
                "title": cells.text("title", required=True),
                "group": self.group(cells, "group"),
                "field": field,
                "organization": cells.text("organization"),
                "leader": cells.text("leader", max_len=120),
                "is_student_team": cells.flag("student_team"),
                "phone": cells.text("phone", max_len=64),
                "email": cells.text("email"),
                "summary": cells.text("summary", max_len=10_000, multiline=True),
                "status": cells.choice("status", ENTRY_STATUS, default=EntryStatus.REGISTERED),
                "advanced_to": advanced,
            }
            if not code or self.seen(seen, code, cells, "code") or not cells.ok:
                continue
            values = self.present(table, full)
            existing = self.x.records["entries"].get(code)
            frozen = self.x.published_links()[1].get(code)
            if existing is not None and frozen:
                moved = [
                    f
                    for f in ("group", "status", "advanced_to")
                    if f in values and existing.get(f) != values[f]
                ]
                if moved:
                    cells.bad(moved[0], "entry_published", stage=self.published(frozen))
                    continue
            if table.has("advanced_to"):
                self.plan.explicit_advance.add(code)
            self.merge("entries", code, cells, values, full)

    def judges(self, table: Table | None) -> None:
        """评委: name, username, organization, title, expertise, email."""
        seen: dict = {}
        for cells in self.rows(table):
            name = cells.text("name", required=True, max_len=120)
            username = cells.key("username", max_len=80)
            expertise = []
            for item in split_list(cells.key("expertise", max_len=2000)):
                found = self.field(item)
                if found is None:
                    cells.bad("expertise", "unknown_field", value=item)
                elif found not in expertise:
                    expertise.append(found)
            full = {
                "name": name,
                "title": cells.text("title", max_len=120),
                "organization": cells.text("organization"),
                "email": cells.text("email"),
                "expertise": tuple(sorted(expertise, key=self._field_order)),
            }
            if not name or not cells.ok:
                continue
            if username:
                if " " in username:
                    cells.bad("username", "bad_username")
                    continue
                account = self.x.users.get(username)
                if account is not None and account[1] != "judge":
                    cells.bad("username", "organizer_username")
                    continue
                key = username
            else:
                matches = self._judges_named(name)
                if len(matches) > 1:
                    cells.bad("name", "ambiguous_judge")
                    continue
                key = matches[0] if matches else self._new_username()
            if self.seen(seen, key, cells, "username" if username else "name"):
                continue
            if key not in self.x.users:
                self.plan.create["users"][key] = {"display_name": name}
            self.merge("judges", key, cells, self.present(table, full), full)

    def _field_order(self, name: str):
        record = self.record("fields", name)
        return (record["position"] if record else 10**6, name)

    def _new_username(self) -> str:
        """A free username for a judge given without one: <contest slug>-judge<n>."""
        slug = next(iter(self.keys("contest")), "contest")
        if self._usernames_taken is None:
            self._usernames_taken = self.x.taken_usernames(f"{slug}-judge")
        n = 1
        while True:
            candidate = f"{slug}-judge{n:02d}"
            if (
                candidate not in self._usernames_taken
                and candidate not in self.plan.create["users"]
            ):
                self._usernames_taken.add(candidate)
                return candidate
            n += 1
