"""An audit event's old → new as a list of changed fields, for the log page and the Excel
sheet: nested values flattened to paths (得分 › 技术与产品: 25 → 27), only what differs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

from judging.audit.labels import DATA_KEYS, POINT_FIELDS, field_label, value_title
from judging.common.numbers import plain

PATH_SEPARATOR = " › "
LIST_SEPARATOR = "、"
NOTHING = "—"
_ABSENT = object()


@dataclass(frozen=True)
class FieldChange:
    """One field of an event: its name (a path in words) and its old and new value as text
    (``—`` where the field was not there); None for a side the event does not have."""

    label: str
    old: str | None
    new: str | None

    @property
    def text(self) -> str:
        """The change as one line: ``label: old → new`` (``label: new`` for a new value)."""
        if self.old is None:
            return f"{self.label}: {self.new}"
        return f"{self.label}: {self.old} → {NOTHING if self.new is None else self.new}"


def field_changes(
    old: Any, new: Any, *, names: Mapping[str, Mapping[str, str]] | None = None
) -> list[FieldChange]:
    """The fields that differ between old and new, flattened to paths, in recorded order.

    With only ``new`` every new value is listed; with only ``old`` every old one.
    ``names`` shows recorded values of a field by name, e.g. {"stage": {"semi": "复赛"}}.
    """
    names = names or {}
    before = _flatten(old) if old is not None else {}
    after = _flatten(new) if new is not None else {}
    changes = []
    for path in {**before, **after}:
        was, now = before.get(path, _ABSENT), after.get(path, _ABSENT)
        if was is not _ABSENT and now is not _ABSENT and _same(path, was, now):
            continue
        changes.append(
            FieldChange(
                _path_label(path),
                None if old is None else NOTHING if was is _ABSENT else _show(path, was, names),
                None if new is None else NOTHING if now is _ABSENT else _show(path, now, names),
            )
        )
    return changes


def changes_text(changes: Iterable[FieldChange]) -> str:
    """The changes as text, one per line (the Excel sheet's cell)."""
    return "\n".join(change.text for change in changes)


def _flatten(value: Any, path: tuple[str, ...] = (), out: dict | None = None) -> dict:
    """{path: leaf value} of a nested dict; anything but a dict is a leaf."""
    out = {} if out is None else out
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, (*path, str(key)), out)
    else:
        out[path] = value
    return out


def _translated(path: tuple[str, ...]) -> list[bool]:
    """Which keys of a path are field names (translated), not data such as criterion names."""
    flags, data = [], False
    for key in path:
        flags.append(not data)
        data = not data and key in DATA_KEYS
    return flags


def _path_label(path: tuple[str, ...]) -> str:
    if not path:
        return _("Value")
    return PATH_SEPARATOR.join(
        field_label(key) if named else key
        for key, named in zip(path, _translated(path), strict=True)
    )


def _is_points(path: tuple[str, ...]) -> bool:
    return any(
        named and key in POINT_FIELDS for key, named in zip(path, _translated(path), strict=True)
    )


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _same(path: tuple[str, ...], was: Any, now: Any) -> bool:
    if was == now:
        return True
    # Points come back from the database as "25.00" and from a form as "25".
    if _is_points(path):
        a, b = _decimal(was), _decimal(now)
        return a is not None and a == b
    return False


def _show(path: tuple[str, ...], value: Any, names: Mapping[str, Mapping[str, str]]) -> str:
    """A recorded value as text: enum values by title, points plainly, lists joined."""
    key = path[-1] if path and _translated(path)[-1] else ""
    if value is None or value == "":
        return NOTHING
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return LIST_SEPARATOR.join(_show(path, item, names) for item in value) or NOTHING
    if isinstance(value, dict):
        return ", ".join(
            f"{field_label(k)}: {_show((*path, k), v, names)}" for k, v in value.items()
        )
    if _is_points(path) and (number := _decimal(value)) is not None:
        return plain(number)
    if isinstance(value, str):
        return names.get(key, {}).get(value) or value_title(key, value) or value
    return str(value)
