"""Serving public pages and documents from the render cache (``judging.leaderboard.cache``).

A public view names what it serves (a ``Route``: contest, kind, language, arguments) and how
to build it; the contest's data version (one query, on the front door's own connection
when it has one) keys the cache; a hit sends the stored bytes with their ETag (304 when
the client has them), and the front door learns the address so the next request without
cookies is answered before Flask. Pages render without anything personal (no CSRF token,
no account name), so one copy serves every visitor of a language.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, request, session
from flask_babel import force_locale

from judging.common.http import api_error, json_body
from judging.contests.models import Contest
from judging.extensions import db
from judging.leaderboard.cache import HTML, JSON, NOT_PUBLIC, cache, rendered, send
from judging.leaderboard.front import FrontDoor, Route, version_token

PUBLISHED_CACHE = "public, max-age=10"
LIVE_CACHE = "public, no-cache"
_VERSION = sa.select(Contest.id, Contest.data_version, Contest.created_at).where(
    Contest.slug == sa.bindparam("slug")
)


def page_locale() -> tuple[str, bool]:
    """The page language: ?lang= (kept in the page's links), else the session's, else Chinese."""
    languages = current_app.config["LANGUAGES"]
    lang = request.args.get("lang")
    if lang in languages:
        return lang, True
    lang = session.get("lang")
    return (lang if lang in languages else current_app.config["BABEL_DEFAULT_LOCALE"]), False


def _front() -> FrontDoor | None:
    return current_app.extensions.get("leaderboard_front")


def _version(slug: str):
    """(contest id, version token) of the contest with this slug, or None — one query, on the
    front door's own connection when it has one, else through the session."""
    front = _front()
    if front is not None:
        try:
            found = front.version_of(slug)
        except Exception:  # e.g. a connection the database closed: the session reconnects
            current_app.logger.warning("version reader failed", exc_info=True)
            found = False
        if found is not False:
            return found
    row = db.session.execute(_VERSION, {"slug": slug}).first()
    if row is None:
        return None
    return row[0], version_token(row[1], row[2])


def _remember(route: Route) -> None:
    """Let the front door answer this address next time, if it can see all the request did."""
    front = _front()
    if front is not None and request.method == "GET" and not request.cookies:
        front.remember(request.path, request.query_string.decode("latin-1"), route)


def _cached(route: Route, make_key_item):
    found = _version(route.slug)
    if found is None:
        return None
    contest_id, version = found
    item = cache.get_or_build(route.key(contest_id, version), lambda: make_key_item(*found))
    if item.status == 200:
        _remember(route)
    return item


def cached_html(kind: str, slug: str, args: tuple, build, cache_control: str, **kw):
    """An HTML page or fragment from the render cache; 404 when the contest or stage is not
    public. ``build(contest, version, lang_arg)`` returns a str, or None for "not public"."""
    lang, explicit = page_locale()
    route = Route(slug, kind, lang, explicit, args, cache_control, "Cookie", kw.get("clock", False))

    def make(contest_id, version):
        contest = db.session.get(Contest, contest_id)
        with force_locale(lang):
            body = build(contest, version, lang if explicit else None)
        return NOT_PUBLIC if body is None else rendered(body, HTML)

    item = _cached(route, make)
    if item is None or item.status == 404:
        abort(404)
    return send(item, cache_control, vary="Cookie")


def cached_json(kind: str, slug: str, args: tuple, build, cache_control: str, **kw):
    """A JSON document from the render cache; ``build(contest, version)`` returns data or None."""
    # Vary: Cookie as on every response of the app (Flask-Login reads the session after each
    # request); the front door must send the same headers as this view.
    route = Route(slug, kind, None, False, args, cache_control, "Cookie", kw.get("clock", False))

    def make(contest_id, version):
        data = build(db.session.get(Contest, contest_id), version)
        return NOT_PUBLIC if data is None else rendered(json_body(data), JSON)

    item = _cached(route, make)
    if item is None or item.status == 404:
        return api_error(404, "not found")
    return send(item, cache_control, vary="Cookie")
