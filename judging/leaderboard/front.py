"""The public cache's front door: cache hits answered before Flask dispatches the request.

A leaderboard page served from the cache still paid for the whole request machinery of
the app (request context, session, the rate limiter's hook, teardown) and for an ORM
round trip to read the data version: about five times a bare Flask endpoint. The front
door is a WSGI middleware the blueprint installs around the app. For a GET whose address
a public view has already answered, it reads the contest's versions (one indexed query
on a connection of its own) and, when the render cache holds that version, sends the
very bytes and headers the view would send — to every visitor, signed in or not: the
public pages hold nothing personal, and the only thing a cookie can change in them is
the language, which has a cookie of its own (``judging.common.language``). While a new
version is being rendered it sends the previous one, marked stale, for at most a second.
Everything else — a miss, any other method, an error — goes on to Flask unchanged, and
the view stays the only place that decides what is public and renders it.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.http import HTTP_STATUS_CODES

from judging.common.language import LANG_COOKIE, chosen_language, cookie_value
from judging.contests.versions import VERSIONS_BY_SLUG_SQL, Versions, versions_from_rows
from judging.leaderboard.cache import cache, matches

log = logging.getLogger(__name__)
_PARAM = {"qmark": "?", "format": "%s", "pyformat": "%s", "numeric": ":1", "named": ":slug"}


class VersionReader:
    """Reads a contest's id and versions by slug, on a few autocommit connections of its
    own (no ORM session, no transaction, no pool ping): one indexed SELECT per call.

    Not used for an in-memory SQLite database (tests), whose one connection the ORM holds.
    """

    def __init__(self, engine: Engine, size: int = 16):
        self.engine = engine
        self.size = size
        self.push = VersionPush(engine) if engine.dialect.name == "postgresql" else None
        self.idle: queue.LifoQueue = queue.LifoQueue()
        param = _PARAM[engine.dialect.paramstyle]
        # The placeholder is the driver's; the slug is always a bound parameter.
        self.sql = VERSIONS_BY_SLUG_SQL.format(param=param)
        self.lock = threading.Lock()
        self.opened: list = []
        event.listen(engine, "engine_disposed", lambda *_: self.close())

    @staticmethod
    def usable(engine: Engine) -> bool:
        """Whether the engine's database can be read from a separate connection."""
        if engine.dialect.name not in ("sqlite", "postgresql"):
            return False
        return not (
            engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")
        )

    def _connect(self):
        fairy = self.engine.raw_connection()  # the engine's connect-time settings apply
        dbapi = fairy.driver_connection
        fairy.detach()  # ours from now on; the pool makes another for the ORM
        if self.engine.dialect.name == "postgresql":
            dbapi.autocommit = True  # a plain SELECT, never an open transaction
        with self.lock:
            self.opened.append(dbapi)
        return dbapi

    def read(self, slug: str, *, pushed: bool = False) -> tuple[int, Versions] | None:
        """(contest id, versions), or None when no contest has this slug.

        ``pushed``: on PostgreSQL, answer from the versions this process keeps up to date
        by notification (see ``VersionPush``) when it can; else one query.
        """
        push = self.push if pushed else None
        if push is None or not push.healthy:
            return self._query(slug)
        known = push.known.get(slug)
        if known is not None:
            return known
        epoch = push.epoch
        found = self._query(slug)
        if found is not None:
            push.keep(slug, found, epoch)
        return found

    def _query(self, slug: str) -> tuple[int, Versions] | None:
        try:
            conn = self.idle.get_nowait()
        except queue.Empty:
            conn = self._connect()
        try:
            cursor = conn.cursor()
            cursor.execute(self.sql, (slug,))
            rows = cursor.fetchall()
            cursor.close()
        except Exception:
            self._discard(conn)
            raise
        if self.idle.qsize() < self.size:
            self.idle.put(conn)
        else:
            self._discard(conn)
        if not rows:
            return None
        return rows[0][0], versions_from_rows([r[1:] for r in rows])

    def _discard(self, conn) -> None:
        with self.lock:
            if conn in self.opened:
                self.opened.remove(conn)
        with contextlib.suppress(Exception):  # a broken connection is dropped either way
            conn.close()

    def close(self) -> None:
        """Close every connection (the engine was disposed)."""
        if self.push is not None:
            self.push.stop()
        with self.lock:
            opened, self.opened = self.opened, []
        while not self.idle.empty():
            self.idle.get_nowait()
        for conn in opened:
            with contextlib.suppress(Exception):
                conn.close()


class VersionPush:
    """PostgreSQL: contest versions kept per process, forgotten the moment one changes.

    A thread LISTENs on ``VERSION_CHANNEL``, which triggers on ``contests`` and
    ``stage_versions`` notify on every change of their rows, the bumps included, whoever
    makes them
    (PostgreSQL delivers it once the transaction commits). ``known`` maps a
    slug to its (contest id, versions); any notification empties it, so the next
    request reads the version again. A version read while a notification arrived is not
    kept (``epoch``), so a read that raced a commit can never be kept over it. While the
    listening connection is down (``healthy`` false) nothing is kept and every request
    reads the database, as without this class.

    What it saves: the front door's one query per cache hit, a round trip that on
    PostgreSQL cost more than the rest of the hit (measured by bench/contest_day.py).
    The price: a visitor may get the previous page for the moment between a commit
    and its notification (well under a millisecond on one host); the process that made
    the change forgets at once, on its own commit. Views (every miss) still read the
    version from the database.
    """

    def __init__(self, engine: Engine, retry_seconds: float = 1.0):
        self.engine = engine
        self.retry_seconds = retry_seconds
        self.known: dict[str, tuple[int, Versions]] = {}
        self.epoch = 0
        self.healthy = False
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.notified = 0
        self.thread = threading.Thread(target=self._listen, name="version-push", daemon=True)
        self.thread.start()
        from judging.contests.versions import on_local_bump

        on_local_bump(self)

    def version_bumped(self) -> None:
        """This process committed a bump: forget at once, not when its notification comes."""
        self._forget(healthy=self.healthy)

    def keep(self, slug: str, found, epoch: int) -> None:
        """Keep a version read from the database, unless a notification came meanwhile."""
        with self.lock:
            if self.healthy and self.epoch == epoch:
                self.known[slug] = found

    def _forget(self, healthy: bool) -> None:
        with self.lock:
            self.known = {}
            self.epoch += 1
            self.healthy = healthy

    def _listen(self) -> None:
        from judging.contests.models import VERSION_CHANNEL

        while not self.stopped.is_set():
            conn = None
            try:
                fairy = self.engine.raw_connection()
                conn = fairy.driver_connection
                fairy.detach()
                conn.autocommit = True
                conn.execute(f"LISTEN {VERSION_CHANNEL}")
                self._forget(healthy=True)  # anything kept before may have missed a change
                while not self.stopped.is_set():
                    for _ in conn.notifies(timeout=self.retry_seconds):
                        self.notified += 1
                        self._forget(healthy=True)
            except Exception:  # the connection broke: read the database until it is back
                log.warning("version notifications interrupted; reconnecting", exc_info=True)
                self._forget(healthy=False)
                self.stopped.wait(self.retry_seconds)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
        self._forget(healthy=False)

    def stop(self) -> None:
        """Stop listening (the engine was disposed)."""
        self.stopped.set()


@dataclass(frozen=True, slots=True)
class Route:
    """What a public view answered an address with: how to find it in the render cache.

    ``lang`` is the language the address names (``?lang=``), else None: the visitor's
    chosen language applies (``localized``) or none does (JSON). ``scope`` says what
    the content depends on: ``meta`` the contest's own version only (a published stage's
    frozen results, the contest's page, the prize list), ``all`` every version of the
    contest (the live final).
    """

    slug: str
    kind: str
    lang: str | None
    localized: bool
    args: tuple
    cache_control: str
    vary: str | None
    server_time: bool
    scope: str

    def language(self, chosen: str) -> str | None:
        """The language the response is in, for a visitor who chose ``chosen``."""
        if self.lang is not None:
            return self.lang
        return chosen if self.localized else None

    def ident(self, contest_id: int, lang: str | None) -> Hashable:
        """The route's identity across versions (what a stale answer is looked up by)."""
        return (self.kind, contest_id, lang, self.lang is not None, self.args)

    def key(self, contest_id: int, versions: Versions, lang: str | None) -> Hashable:
        """The render cache key, exactly as the view builds it."""
        version = versions.meta if self.scope == "meta" else versions
        return (self.kind, contest_id, version, lang, self.lang is not None, self.args)


class FrontDoor:
    """WSGI middleware serving GETs of known public addresses from the cache."""

    def __init__(self, wsgi_app, reader_factory, *, languages, default_language, size=2048):
        self.wsgi_app = wsgi_app
        self.reader_factory = reader_factory
        self.reader: VersionReader | None = None
        self.ready = False
        self.routes: OrderedDict[tuple[str, str], Route] = OrderedDict()
        self.size = size
        self.languages = tuple(languages)
        self.default_language = default_language
        self.cookie_languages: OrderedDict[str, str] = OrderedDict()
        self.lock = threading.Lock()
        self.served = 0
        self.stale = 0

    def version_of(self, slug: str, *, pushed: bool = False):
        """(contest id, versions) through the reader, or False when there is no reader."""
        if not self.ready:
            with self.lock:
                if not self.ready:
                    self.reader = self.reader_factory()
                    self.ready = True
        if self.reader is None:
            return False
        return self.reader.read(slug, pushed=pushed)

    def remember(self, path: str, query: str, route) -> None:
        """Note the route of an address a view answered: a ``Route``, or an object whose
        ``respond(front, environ, start_response)`` answers it or returns None."""
        with self.lock:
            self.routes[(path, query)] = route
            self.routes.move_to_end((path, query))
            while len(self.routes) > self.size:
                self.routes.popitem(last=False)

    def chosen_language(self, cookie_header: str | None) -> str:
        """The language a request's cookies choose (``judging.common.language``), kept per
        distinct header so that parsing it is paid once."""
        if not cookie_header:
            return self.default_language
        lang = self.cookie_languages.get(cookie_header)
        if lang is None:
            value = cookie_value(cookie_header, LANG_COOKIE)
            lang = chosen_language(value, self.languages, self.default_language)
            with self.lock:
                self.cookie_languages[cookie_header] = lang
                while len(self.cookie_languages) > 4 * self.size:
                    self.cookie_languages.popitem(last=False)
        return lang

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "GET":
            route = self.routes.get((environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")))
            if route is not None:
                try:
                    if isinstance(route, Route):
                        answer = self._answer(route, environ, start_response)
                    else:  # a route of another kind answers for itself (a built download)
                        answer = route.respond(self, environ, start_response)
                        if answer is not None:
                            self.served += 1
                except Exception:  # the view will answer, and report any real problem
                    log.debug("front door fell through", exc_info=True)
                    answer = None
                if answer is not None:
                    return answer
        return self.wsgi_app(environ, start_response)

    def _answer(self, route: Route, environ, start_response):
        found = self.version_of(route.slug, pushed=True)
        if not found:
            return None
        contest_id, versions = found
        lang = route.language(self.chosen_language(environ.get("HTTP_COOKIE")))
        key = route.key(contest_id, versions, lang)
        item = cache.get(key)
        stale = False
        if item is None:
            item = cache.stale_for(route.ident(contest_id, lang), key)
            if item is None:
                return None
            stale = True
        if item.status != 200:
            return None
        if matches(environ.get("HTTP_IF_NONE_MATCH"), item.etag):
            status, body, headers = 304, b"", []
        else:
            status, body = 200, item.body
            headers = [("Content-Type", item.content_type), ("Content-Length", str(len(body)))]
        headers += [("ETag", item.etag), ("Cache-Control", route.cache_control)]
        if route.vary:
            headers.append(("Vary", route.vary))
        if stale:
            headers.append(("X-Cache", "stale"))
            self.stale += 1
        if route.server_time:
            headers.append(("X-Server-Time", f"{time.time():.3f}"))
        self.served += 1
        start_response(f"{status} {HTTP_STATUS_CODES[status].upper()}", headers)
        return [body]


def install(app) -> FrontDoor:
    """Put the front door around the app's WSGI callable (called by ``create_app``)."""
    from judging.extensions import db

    def reader():
        with app.app_context():
            engine = db.engine
        return VersionReader(engine) if VersionReader.usable(engine) else None

    from judging.leaderboard.cache import configure

    configure(app)
    front = FrontDoor(
        app.wsgi_app,
        reader,
        languages=app.config["LANGUAGES"],
        default_language=app.config["BABEL_DEFAULT_LOCALE"],
    )
    app.wsgi_app = front
    app.extensions["leaderboard_front"] = front
    return front
