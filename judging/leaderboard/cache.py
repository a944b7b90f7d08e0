"""Rendered public responses, cached per process (and in Redis when configured), keyed by
the versions their content depends on (``judging.contests.versions``).

A public request reads the contest's versions (one indexed query), then looks up the
rendered bytes under (route, contest, versions, locale, arguments): a hit sends them
without touching standings or templates. A miss renders once per version:

- in this process, one thread per key renders while the others wait for it, or, for at
  most ``STALE_SECONDS`` after the render began, get the route's previous version marked
  stale (``X-Cache: stale``) instead of waiting — never an error;
- a route whose last render took ``slow_render`` seconds or more (a group of 100,000
  entries) is rendered again in the background when its version changes, and even the
  request that started it gets the previous version, marked stale: the first screen
  after a change is as quick as a hit. Quick routes (the live final's) render in the
  request, so a change shows at the next poll;
- across workers and hosts, with ``CACHE_REDIS_URL`` set, the first process to take a
  short lock in Redis renders and stores the bytes there; the others wait for them
  (``SharedStore``). Without Redis each process renders a version once.

Because the versions live in the database, every worker and host sees a commit at its
next request; an old version's entries are never looked up again and age out of the LRU.

The ETag is a hash of the bytes alone, so it changes exactly when the representation
does.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from flask import Response, request

from judging.common.http import matches

log = logging.getLogger(__name__)
JSON = "application/json"
HTML = "text/html; charset=utf-8"
#: How long after a render of a route's new version began its previous version may still
#: be sent (marked stale) to the requests that would otherwise wait for the render.
STALE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Rendered:
    """A response body ready to send, with its ETag; ``status`` 404 means "not public"."""

    status: int
    body: bytes
    etag: str
    content_type: str

    def dumps(self) -> bytes:
        """The bytes stored in the shared store."""
        head = f"{self.status}\n{self.content_type}\n{self.etag}\n".encode()
        return head + self.body

    @classmethod
    def loads(cls, data: bytes) -> Rendered:
        """The inverse of ``dumps``."""
        status, content_type, etag, body = data.split(b"\n", 3)
        return cls(int(status), body, etag.decode(), content_type.decode())


def rendered(body: str | bytes, content_type: str, status: int = 200) -> Rendered:
    """Wrap a body with its strong ETag (a hash of the bytes)."""
    data = body.encode() if isinstance(body, str) else body
    digest = hashlib.blake2b(data, digest_size=12).hexdigest()
    return Rendered(status, data, f'"{digest}"', content_type)


NOT_PUBLIC = Rendered(404, b"", "", "")


class SharedStore:
    """Rendered responses in Redis, shared by every worker and host: one render per version
    across them. Any Redis failure is logged and the caller renders for itself."""

    def __init__(self, url: str, *, ttl: int = 3600, lock_seconds: float = 10.0):
        import redis  # a declared dependency; imported only when configured

        self.client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.ttl = ttl
        self.lock_ms = int(lock_seconds * 1000)
        self.prefix = "judging:render:"

    def name(self, key: Hashable) -> str:
        """The Redis key of a cache key (its repr is stable: tuples of str, int, Versions)."""
        return self.prefix + hashlib.blake2b(repr(key).encode(), digest_size=16).hexdigest()

    def get(self, name: str) -> Rendered | None:
        data = self.client.get(name)
        return None if data is None else Rendered.loads(data)

    def put(self, name: str, value: Rendered) -> None:
        self.client.set(name, value.dumps(), ex=self.ttl)

    def lock(self, name: str) -> bool:
        """Whether this process takes the render of ``name`` (others wait for it)."""
        return bool(self.client.set(name + ":lock", b"1", nx=True, px=self.lock_ms))

    def unlock(self, name: str) -> None:
        self.client.delete(name + ":lock")


class RenderCache:
    """A thread-safe LRU of rendered responses with one builder per key at a time."""

    def __init__(self, size: int = 512):
        self.size = size
        self.items: OrderedDict[Hashable, Rendered] = OrderedDict()
        self.lock = threading.Lock()
        self.building: dict[Hashable, tuple[threading.Lock, float]] = {}
        self.latest: dict[Hashable, Hashable] = {}  # route → the key last stored for it
        self.shared: SharedStore | None = None
        self.shared_wait = 3.0
        self.hits = 0
        self.misses = 0
        self.renders = 0
        self.stale = 0
        self.cleared_with: list[Callable[[], None]] = []
        #: seconds: a route whose last render took this long renders in the background
        #: (None: never); how long each route's last render took
        self.slow_render: float | None = None
        self.render_seconds: dict[Hashable, float] = {}

    def get(self, key: Hashable) -> Rendered | None:
        """The cached response under key, or None."""
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
                self.hits += 1
            return value

    def put(self, key: Hashable, value: Rendered, route: Hashable = None) -> None:
        """Keep value under key, forgetting the least recently used beyond the size."""
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            if route is not None:
                self.latest[route] = key
            while len(self.items) > self.size:
                self.items.popitem(last=False)
            if len(self.latest) > 4 * self.size:
                self.latest = {r: k for r, k in self.latest.items() if k in self.items}

    def stale_for(self, route: Hashable, key: Hashable) -> Rendered | None:
        """The route's previous version, while ``key`` (its new version) is being rendered
        and for at most ``STALE_SECONDS`` since that began; else None."""
        with self.lock:
            building = self.building.get(key)
            if building is None or time.monotonic() - building[1] > STALE_SECONDS:
                return None
            previous = self.latest.get(route)
            value = self.items.get(previous) if previous is not None and previous != key else None
            if value is not None:
                self.stale += 1
            return value

    def get_or_build(
        self,
        key: Hashable,
        build: Callable[[], Rendered],
        route: Hashable = None,
        background: Callable[[Callable[[], None]], None] | None = None,
    ) -> tuple[Rendered, bool]:
        """(response, stale): the cached response, or one rendered once while the other
        threads asking for it wait — or, with ``route`` given, get the route's previous
        version for a moment (stale true). With ``background`` (which runs a function in
        another thread), a slow route's new version is rendered there and this request
        gets the previous one too.

        A "not public" answer is not kept: made-up addresses must not push real pages out.
        """
        value = self.get(key)
        if value is not None:
            return value, False
        if route is not None:
            value = self.stale_for(route, key)
            if value is not None:
                return value, True
            if background is not None:
                value = self._in_background(key, build, route, background)
                if value is not None:
                    return value, True
        with self.lock:
            gate, _began = self.building.setdefault(key, (threading.Lock(), time.monotonic()))
        with gate:
            value = self.get(key)
            if value is None:
                with self.lock:
                    self.misses += 1
                value = self._timed(key, build, route)
        with self.lock:
            self.building.pop(key, None)
        return value, False

    def _timed(self, key: Hashable, build: Callable[[], Rendered], route: Hashable) -> Rendered:
        """Render (or fetch from the shared store), keep it, and note how long it took."""
        began = time.monotonic()
        value = self._shared_or_build(key, build)
        if value.status == 200:
            self.put(key, value, route)
        if route is not None:
            with self.lock:
                self.render_seconds[route] = time.monotonic() - began
                if len(self.render_seconds) > 4 * self.size:
                    self.render_seconds.clear()
        return value

    def _in_background(self, key, build, route, background) -> Rendered | None:
        """The route's previous version, with its new one started in the background; None
        (render in the request) when the route is quick, has no previous version, or a
        render of the key is already under way."""
        limit = self.slow_render
        with self.lock:
            if limit is None or self.render_seconds.get(route, 0.0) < limit:
                return None
            previous = self.latest.get(route)
            value = self.items.get(previous) if previous is not None else None
            if value is None or key in self.building:
                return None
            gate = threading.Lock()
            gate.acquire()
            self.building[key] = (gate, time.monotonic())
            self.misses += 1
            self.stale += 1

        def work() -> None:
            try:
                self._timed(key, build, route)
            except Exception:  # the next request renders it in the foreground, and fails there
                log.exception("background render failed")
            finally:
                with self.lock:
                    self.building.pop(key, None)
                gate.release()

        try:
            background(work)
        except Exception:  # no thread to be had: render in the request
            log.warning("background render not started", exc_info=True)
            with self.lock:
                self.building.pop(key, None)
            gate.release()
            return None
        return value

    def _shared_or_build(self, key: Hashable, build: Callable[[], Rendered]) -> Rendered:
        shared = self.shared
        if shared is None:
            return self._build(build)
        name = shared.name(key)
        locked = False
        try:
            found = shared.get(name)
            if found is not None:
                return found
            locked = shared.lock(name)
            if not locked:  # another process renders it: wait for its bytes
                deadline = time.monotonic() + self.shared_wait
                while time.monotonic() < deadline:
                    time.sleep(0.01)
                    found = shared.get(name)
                    if found is not None:
                        return found
        except Exception:  # Redis away: render here, as without it
            log.warning("shared render cache unavailable", exc_info=True)
            shared = None
        value = self._build(build)
        if shared is not None:
            try:
                if value.status == 200:
                    shared.put(name, value)
                if locked:
                    shared.unlock(name)
            except Exception:
                log.warning("shared render cache unavailable", exc_info=True)
        return value

    def _build(self, build: Callable[[], Rendered]) -> Rendered:
        with self.lock:
            self.renders += 1
        return build()

    def clear(self) -> None:
        """Forget everything (tests), and what is built for it (``cleared_with``)."""
        with self.lock:
            self.items.clear()
            self.latest.clear()
            self.hits = self.misses = self.renders = self.stale = 0
            self.render_seconds.clear()
        for forget in self.cleared_with:
            forget()


cache = RenderCache()


def configure(app) -> None:
    """Share rendered responses through Redis when ``CACHE_REDIS_URL`` is set."""
    url = app.config.get("CACHE_REDIS_URL")
    cache.shared = SharedStore(url) if url else None
    cache.slow_render = app.config.get("RENDER_SLOW_SECONDS")


def send(
    item: Rendered, cache_control: str, *, vary: str | None = None, stale: bool = False
) -> Response:
    """The response for a rendered item: 304 when the client's copy is current."""
    if matches(request.headers.get("If-None-Match"), item.etag):
        response = Response(status=304)
    else:
        response = Response(item.body, status=item.status, content_type=item.content_type)
    response.headers["ETag"] = item.etag
    response.headers["Cache-Control"] = cache_control
    if vary:
        response.headers["Vary"] = vary
    if stale:
        response.headers["X-Cache"] = "stale"
    return response
