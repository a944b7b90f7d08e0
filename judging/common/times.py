"""Template filters for times of day and dates, in the app's time zone (Flask-Babel)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import format_datetime, format_time


def _moment(value):
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def clock(value) -> str:
    """A time of day (HH:mm) in the contest's time zone, from a datetime or ISO 8601 text."""
    return format_time(_moment(value), "HH:mm") if value else ""


def clock_date(value) -> str:
    """A date (yyyy-MM-dd) in the contest's time zone, from a datetime or ISO 8601 text."""
    return format_datetime(_moment(value), "yyyy-MM-dd") if value else ""
