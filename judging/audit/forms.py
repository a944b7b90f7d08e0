"""The log page's filters, read from the query string.

Not a WTForms form: each value is optional and a bad one is ignored with a message (the
rest of the filter still applies), and nothing the visitor types ever reaches the
database unchecked (a judge id must be one of the contest's, a date a real date).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from judging.audit.labels import ACTIONS
from judging.audit.queries import AuditFilter, entry_exists
from judging.judges.models import Judge

_NUMBER = re.compile(r"[0-9]{1,9}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_CODE = 64


def _text(args: Mapping[str, str], name: str, limit: int = 100) -> str:
    """A query argument without control characters (NUL included) or surrounding spaces."""
    value = args.get(name) or ""
    return "".join(ch for ch in value[: limit * 4] if ch.isprintable()).strip()[:limit]


def page_number(args: Mapping[str, str]) -> int:
    """The requested page; 1 for anything but a plain number."""
    value = _text(args, "page", 20)
    return int(value) if _NUMBER.fullmatch(value) else 1


def _day(value: str) -> date | None:
    if not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _moment(day: date, zone: ZoneInfo) -> datetime | None:
    """The start of a local day in UTC; None past the ends of the calendar."""
    try:
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    except OverflowError:
        return None


def read_filters(
    args: Mapping[str, str], *, contest_id: int, judges: Sequence[Judge], tz: str
) -> tuple[AuditFilter, dict[str, str], list[str]]:
    """The filter the query string asks for, the arguments kept (for the form and the page
    links), and a message for each value that was ignored or matches nothing."""
    kept: dict[str, str] = {}
    messages: list[str] = []
    user_id = entry_code = action = since = until = None

    judge = _text(args, "judge", 20)
    if judge:
        by_id = {j.id: j for j in judges}
        if _NUMBER.fullmatch(judge) and int(judge) in by_id:
            user_id = by_id[int(judge)].user_id
            kept["judge"] = judge
        else:
            messages.append(_("There is no such judge in this contest; that filter was ignored."))

    code = _text(args, "entry", MAX_CODE)
    if code:
        entry_code = kept["entry"] = code
        if not entry_exists(contest_id, code):
            messages.append(_("No entry has the code %(code)s.", code=code))

    wanted = _text(args, "action", 64)
    if wanted:
        if wanted in ACTIONS:
            action = kept["action"] = wanted
        else:
            messages.append(_("There is no such action; that filter was ignored."))

    zone = ZoneInfo(tz)
    start_day = end_day = None
    for name, label in (("from", _("From date")), ("to", _("To date"))):
        value = _text(args, name, 20)
        if not value:
            continue
        day = _day(value)
        if day is None:
            messages.append(_("%(field)s is not a date (YYYY-MM-DD); it was ignored.", field=label))
            continue
        kept[name] = value
        if name == "from":
            start_day, since = day, _moment(day, zone)
        else:
            end_day = day
            until = None if day == date.max else _moment(day + timedelta(days=1), zone)
    if start_day and end_day and start_day > end_day:
        messages.append(_("The from date is after the to date: no event can match."))

    where = AuditFilter(
        user_id=user_id, entry_code=entry_code, action=action, since=since, until=until
    )
    return where, kept, messages
