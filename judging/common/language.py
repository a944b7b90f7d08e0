"""The visitor's chosen language: a cookie of its own, not a value inside the session.

Kept apart from the session so that a public page can be answered from the cache for a
signed-in visitor exactly as for anyone else of the same language: the front door
(``judging.leaderboard.front``) reads this cookie without opening the session, and the
views read the same cookie through ``chosen_language``.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


def chosen_language(value: str | None, languages, default: str) -> str:
    """The language a cookie value names, or the default for anything else."""
    return value if value in languages else default


def cookie_value(header: str, name: str) -> str | None:
    """One cookie's value from a raw ``Cookie`` header, or None (malformed headers too)."""
    if name not in header:
        return None
    try:
        jar = SimpleCookie()
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None
