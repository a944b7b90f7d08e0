"""Rendered public responses, cached per process and keyed by the contest's data version.

Every change that can move what the public sees (a submitted or reopened sheet, a stage
published or withdrawn, an award confirmed, the live final's entry, timer or reveal)
increments ``contests.data_version`` in its own transaction. A public request reads that
version (one indexed query), then looks up the rendered bytes under (route, contest,
version, locale, arguments): a hit sends them without touching standings or templates,
a miss renders once — one thread per key, the others wait for it — and keeps the result.
Because the version lives in the database, every worker and host sees a commit at its
next request; an old version's entries are never looked up again and age out of the LRU.

The ETag is a hash of the bytes alone, so it changes exactly when the representation
does: a judge's sheet in the open final renews the cache but leaves the ETag of the
published 初赛 standings, and so every visitor's copy, valid.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from flask import Response, request

from judging.common.http import matches

JSON = "application/json"
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Rendered:
    """A response body ready to send, with its ETag; ``status`` 404 means "not public"."""

    status: int
    body: bytes
    etag: str
    content_type: str


def rendered(body: str | bytes, content_type: str, status: int = 200) -> Rendered:
    """Wrap a body with its strong ETag (a hash of the bytes)."""
    data = body.encode() if isinstance(body, str) else body
    digest = hashlib.blake2b(data, digest_size=12).hexdigest()
    return Rendered(status, data, f'"{digest}"', content_type)


NOT_PUBLIC = Rendered(404, b"", "", "")


class RenderCache:
    """A thread-safe LRU of rendered responses with one builder per key at a time."""

    def __init__(self, size: int = 512):
        self.size = size
        self.items: OrderedDict[Hashable, Rendered] = OrderedDict()
        self.lock = threading.Lock()
        self.building: dict[Hashable, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Rendered | None:
        """The cached response under key, or None."""
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
                self.hits += 1
            return value

    def put(self, key: Hashable, value: Rendered) -> None:
        """Keep value under key, forgetting the least recently used beyond the size."""
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def get_or_build(self, key: Hashable, build: Callable[[], Rendered]) -> Rendered:
        """The cached response, or build it once while other threads asking for it wait.

        A "not public" answer is not kept: made-up addresses must not push real pages out.
        """
        value = self.get(key)
        if value is not None:
            return value
        with self.lock:
            gate = self.building.setdefault(key, threading.Lock())
        with gate:
            value = self.get(key)
            if value is None:
                with self.lock:
                    self.misses += 1
                value = build()
                if value.status == 200:
                    self.put(key, value)
        with self.lock:
            self.building.pop(key, None)
        return value

    def clear(self) -> None:
        """Forget everything (tests)."""
        with self.lock:
            self.items.clear()
            self.hits = self.misses = 0


cache = RenderCache()


def send(item: Rendered, cache_control: str, *, vary: str | None = None) -> Response:
    """The response for a rendered item: 304 when the client's copy is current."""
    if matches(request.headers.get("If-None-Match"), item.etag):
        response = Response(status=304)
    else:
        response = Response(item.body, status=item.status, content_type=item.content_type)
    response.headers["ETag"] = item.etag
    response.headers["Cache-Control"] = cache_control
    if vary:
        response.headers["Vary"] = vary
    return response
