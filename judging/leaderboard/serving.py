"""Serving public pages and documents from the render cache (``judging.leaderboard.cache``).

A public view names what it serves (a ``Route``: contest, kind, language, arguments, and
what its content depends on) and how to build it; the contest's versions (one query, on
the front door's own connection when it has one) key the cache; a hit sends the stored
bytes with their ETag (304 when the client has them), and the front door learns the
address so the next request is answered before Flask. Pages render without anything
personal (no CSRF token, no account name), so one copy serves every visitor of a
language, signed in or not.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa
from flask import abort, copy_current_request_context, current_app, request
from flask_babel import force_locale

from judging.common.http import api_error, json_body
from judging.common.language import LANG_COOKIE, chosen_language
from judging.contests.models import Contest
from judging.contests.versions import VERSIONS_BY_SLUG_SQL, versions_from_rows
from judging.extensions import db
from judging.leaderboard.cache import HTML, JSON, NOT_PUBLIC, cache, rendered, send
from judging.leaderboard.front import FrontDoor, Route

PUBLISHED_CACHE = "public, max-age=10"
LIVE_CACHE = "public, no-cache"
_VERSIONS = sa.text(VERSIONS_BY_SLUG_SQL.format(param=":slug"))


def page_locale() -> tuple[str, bool]:
    """The page language: ?lang= (kept in the page's links), else the visitor's chosen one
    (its cookie, as the front door reads it), else Chinese."""
    config = current_app.config
    lang = request.args.get("lang")
    if lang in config["LANGUAGES"]:
        return lang, True
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen_language(chosen, config["LANGUAGES"], config["BABEL_DEFAULT_LOCALE"]), False


def _front() -> FrontDoor | None:
    return current_app.extensions.get("leaderboard_front")


def _version(slug: str):
    """(contest id, versions) of the contest with this slug, or None — one query, on the
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
    rows = db.session.execute(_VERSIONS, {"slug": slug}).all()
    if not rows:
        return None
    return rows[0][0], versions_from_rows([r[1:] for r in rows])


def _background(work) -> None:
    """Run ``work`` in a thread of its own, in a copy of this request's context (the
    language, ``url_for``), with its own database session, removed at the end."""

    def run() -> None:
        try:
            work()
        finally:
            db.session.remove()

    threading.Thread(target=copy_current_request_context(run), name="render", daemon=True).start()


def _remember(route: Route) -> None:
    """Let the front door answer this address next time."""
    front = _front()
    if front is not None and request.method == "GET":
        front.remember(request.path, request.query_string.decode("latin-1"), route)


def _cached(route: Route, lang: str | None, make):
    """(item, stale) for the route in ``lang``, or (None, False) when there is no contest."""
    found = _version(route.slug)
    if found is None:
        return None, False
    contest_id, versions = found
    key = route.key(contest_id, versions, lang)
    item, stale = cache.get_or_build(
        key, lambda: make(contest_id, versions), route.ident(contest_id, lang), _background
    )
    if item.status == 200:
        _remember(route)
    return item, stale


def cached_html(
    kind: str, slug: str, args: tuple, build, cache_control: str, *, scope: str, clock=False
):
    """An HTML page or fragment from the render cache; 404 when the contest or stage is not
    public. ``build(contest, versions, lang_arg)`` returns a str, or None for "not public";
    ``scope`` is what its content depends on (``Route``)."""
    lang, explicit = page_locale()
    route = Route(
        slug, kind, lang if explicit else None, True, args, cache_control, "Cookie", clock, scope
    )

    def make(contest_id, versions):
        contest = db.session.get(Contest, contest_id)
        with force_locale(lang):
            body = build(contest, versions, lang if explicit else None)
        return NOT_PUBLIC if body is None else rendered(body, HTML)

    item, stale = _cached(route, lang, make)
    if item is None or item.status == 404:
        abort(404)
    return send(item, cache_control, vary="Cookie", stale=stale)


def cached_json(
    kind: str, slug: str, args: tuple, build, cache_control: str, *, scope: str, clock=False
):
    """A JSON document from the render cache; ``build(contest, versions)`` returns data or
    None; ``scope`` as for ``cached_html``."""
    # Vary: Cookie as on every response of the app (Flask-Login reads the session after each
    # request); the front door must send the same headers as this view.
    route = Route(slug, kind, None, False, args, cache_control, "Cookie", clock, scope)

    def make(contest_id, versions):
        data = build(db.session.get(Contest, contest_id), versions)
        return NOT_PUBLIC if data is None else rendered(json_body(data), JSON)

    item, stale = _cached(route, None, make)
    if item is None or item.status == 404:
        return api_error(404, "not found")
    return send(item, cache_control, vary="Cookie", stale=stale)
