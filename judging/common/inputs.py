"""What a request may carry, checked at the boundary (issue 16, "no 500 for any input").

- Ids: every id column is a 32-bit integer on PostgreSQL (and SQLite refuses integers past
  2^63), so an id beyond ``MAX_ID`` can name no row. ``<int:...>`` in a route is
  ``IdConverter`` (registered as ``int``): ASCII digits up to ``MAX_ID``, anything else
  is no route (404). A query or form value read by hand goes through ``db_id`` (as
  ``request.args.get(name, type=db_id)``: out of range reads as absent).
- Text: no NUL (PostgreSQL refuses it in any text), no lone surrogates (no database or
  password hash can encode them) and no bidirectional controls (U+202A–U+202E,
  U+2066–U+2069: they make a code or a name read differently from what it is). Every
  form of the app refuses them in its text fields with a message (``judging.common.forms``);
  a path holding a NUL is answered 404 before any view, NULs in query arguments are
  dropped, and a JSON body that is not an object of strings is answered 400.
"""

from __future__ import annotations

import re

from flask import Flask, abort, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

#: The largest id any table holds (PostgreSQL's ``integer``).
MAX_ID = 2**31 - 1

#: Characters no text field accepts: NUL, lone surrogates, bidirectional controls.
REFUSED_TEXT = re.compile("[\x00\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def refused_text(value: str | None) -> bool:
    """Whether ``value`` holds a character no text field accepts."""
    return bool(value) and REFUSED_TEXT.search(value) is not None


def db_id(raw) -> int:
    """An id typed in a query string or a form: ASCII digits from 1 to ``MAX_ID``.

    Raises ValueError otherwise, so ``request.args.get(name, type=db_id)`` reads a bad
    value as absent, as ``type=int`` reads a value that is not a number.
    """
    text = raw.strip() if isinstance(raw, str) else ""
    if not (0 < len(text) <= 10 and text.isascii() and text.isdigit()):
        raise ValueError(f"not an id: {raw!r:.40}")
    value = int(text)
    if not 1 <= value <= MAX_ID:
        raise ValueError(f"not an id: {raw!r:.40}")
    return value


class IdConverter(IntegerConverter):
    """``<int:name>`` in a route: ASCII digits (not any Unicode digit), at most ``MAX_ID``
    unless the rule gives its own ``max``; anything else matches no route (404)."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=False)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _flat(body) -> bool:
    """Whether a JSON body reads as a form: an object of strings (or lists of strings),
    none with a lone surrogate (a form post cannot carry one: it is not UTF-8)."""
    if not isinstance(body, dict):
        return False
    for key, value in body.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) and not _SURROGATE.search(v) for v in values):
            return False
        if _SURROGATE.search(key):
            return False
    return True


def _guard():
    """A path with a NUL names no page (404); NULs in query arguments are dropped; a JSON
    body that is not an object of strings is a bad request (the forms read JSON bodies as
    form data, and no form takes anything else)."""
    if "\x00" in request.path:
        abort(404)
    pairs = list(request.args.items(multi=True))
    if any("\x00" in key or "\x00" in value for key, value in pairs):
        # Query arguments are filters and page numbers: their NULs go (as the audit
        # log's filters always dropped them), the rest still applies.
        request.args = ImmutableMultiDict(
            [(k.replace("\x00", ""), v.replace("\x00", "")) for k, v in pairs]
        )
    writes = request.method not in ("GET", "HEAD", "OPTIONS")
    if writes and request.is_json and not _flat(request.get_json(silent=True)):
        abort(400)


def install(app: Flask) -> None:
    """Register the id converter (before any route is added) and the request guard."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(_guard)
