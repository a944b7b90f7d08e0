"""Workbook downloads built once per version, kept on disk, streamed, and limited.

Building a workbook costs seconds of CPU at a large contest (11–16 s at 100,000 entries,
issue 13) and used to run on every download, so two continuous downloaders halved the
public pages' throughput. Here a download is looked up under a key that holds everything
its content depends on (the contest's versions, language, time zone, who exports it):

- a file built for that key is sent as it is, streamed from disk (the server's
  ``wsgi.file_wrapper``, sendfile under gunicorn), with an ETag (304 when unchanged);
- otherwise one process builds it (a file lock per key: the other workers and threads
  wait for that file instead of building their own) while holding one of ``DOWNLOAD_BUILDS``
  build slots shared by every worker of the host, so builds never take more than that
  many cores from the pages; the file is written beside and renamed into place;
- at most ``DOWNLOAD_THREADS`` threads of a process wait for or build a file at once, so
  downloads can never hold every thread the pages need; beyond that, and when no build
  slot frees within ``DOWNLOAD_WAIT`` seconds, the answer is 503 with Retry-After.

The directory (``DOWNLOAD_CACHE_DIR``, default ``instance/downloads``) is private to the
service (0700, files 0600): the organizer's workbooks hold contact data. A key's older
versions are removed when its new file is in place.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Callable, Hashable
from pathlib import Path

from flask import current_app, request, send_file
from werkzeug.http import http_date

from judging.common.http import matches

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Busy(Exception):
    """Too many downloads at once: try again shortly (503 with Retry-After)."""


def _digest(value) -> str:
    return hashlib.blake2b(repr(value).encode(), digest_size=16).hexdigest()


class Downloads:
    """Built files per key, on disk, shared by the workers of one host."""

    def __init__(self, root: Path, *, builds: int = 1, threads: int = 2, wait: float = 30.0):
        self.root = Path(root)
        self.builds = max(1, builds)
        self.wait = wait
        self.preparing = threading.BoundedSemaphore(max(1, threads))
        self.built = 0

    def _dir(self, route: Hashable) -> Path:
        folder = self.root / _digest(route)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder

    def existing(self, route: Hashable, version: Hashable) -> Path | None:
        """The file of (route, version) if it is built, else None."""
        path = self.root / _digest(route) / f"{_digest(version)}.xlsx"
        return path if path.exists() else None

    def path(self, route: Hashable, version: Hashable, build: Callable[[], bytes]) -> Path:
        """The file of (route, version), built first if no process has built it yet."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder = self._dir(route)
        path = folder / f"{_digest(version)}.xlsx"
        if path.exists():
            return path
        if not self.preparing.acquire(timeout=2.0):
            raise Busy()
        try:
            return self._built(folder, path, build)
        finally:
            self.preparing.release()

    def _built(self, folder: Path, path: Path, build: Callable[[], bytes]) -> Path:
        with open(folder / f"{path.stem}.lock", "a") as gate:
            fcntl.flock(gate, fcntl.LOCK_EX)  # one builder per key; the others wait here
            try:
                if path.exists():
                    return path
                with self._build_slot():
                    data = build()
                self._write(path, data)
                self.built += 1
                for old in folder.iterdir():
                    if old != path and old.suffix in (".xlsx", ".lock") and old.stem != path.stem:
                        with contextlib.suppress(OSError):
                            old.unlink()
            finally:
                fcntl.flock(gate, fcntl.LOCK_UN)
        return path

    @contextlib.contextmanager
    def _build_slot(self):
        """One of ``builds`` slots shared by every process of the host, or Busy."""
        deadline = time.monotonic() + self.wait
        while True:
            for index in range(self.builds):
                slot = open(self.root / f"build-slot-{index}", "a")  # noqa: SIM115
                try:
                    fcntl.flock(slot, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    slot.close()
                    continue
                try:
                    yield
                finally:
                    fcntl.flock(slot, fcntl.LOCK_UN)
                    slot.close()
                return
            if time.monotonic() > deadline:
                raise Busy()
            time.sleep(0.05)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def send(
        self,
        route: Hashable,
        version: Hashable,
        build: Callable[[], bytes],
        *,
        name: str,
        cache_control: str,
        before_send: Callable[[], None] | None = None,
    ):
        """The download response: streamed from the built file, 304 when the client has it;
        raises Busy when too many are under way."""
        path = self.path(route, version, build)
        if before_send is not None:
            before_send()
        response = send_file(
            path,
            mimetype=XLSX,
            as_attachment=True,
            download_name=name,
            etag=path.stem,
            conditional=True,
            max_age=None,
        )
        response.headers["Cache-Control"] = cache_control
        return response


class FileRoute:
    """A public download the front door (``judging.leaderboard.front``) may send before
    Flask: when the file of the contest's current version is built, it is streamed with
    the headers the view sends; anything else (not built yet, a range or date condition,
    an error) goes on to the view, which stays the one that decides what is public."""

    def __init__(self, slug: str, store: Downloads, route: Hashable, headers: list):
        self.slug = slug
        self.store = store
        self.route = route
        self.headers = headers  # the view's headers that do not depend on the file

    def respond(self, front, environ, start_response):
        if environ.get("HTTP_RANGE") or environ.get("HTTP_IF_MODIFIED_SINCE"):
            return None
        found = front.version_of(self.slug, pushed=True)
        if not found:
            return None
        path = self.store.existing(self.route, found[1].meta)
        if path is None:
            return None
        etag = f'"{path.stem}"'
        if matches(environ.get("HTTP_IF_NONE_MATCH"), etag):
            keep = ("Content-Disposition", "Cache-Control", "Accept-Ranges", "Vary")
            headers = [(k, v) for k, v in self.headers if k in keep] + [("ETag", etag)]
            start_response("304 NOT MODIFIED", headers)
            return [b""]
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed by the server with the answer
        except OSError:  # replaced by a newer version meanwhile
            return None
        stat = os.fstat(handle.fileno())
        headers = [
            *self.headers,
            ("Content-Length", str(stat.st_size)),
            ("Last-Modified", http_date(stat.st_mtime)),
            ("ETag", etag),
        ]
        start_response("200 OK", headers)
        wrapper = environ.get("wsgi.file_wrapper")
        if wrapper is not None:
            return wrapper(handle, 64 * 1024)
        return _chunks(handle)


def _chunks(handle):
    with handle:
        while chunk := handle.read(64 * 1024):
            yield chunk


def remember_public(slug: str, store: Downloads, route: Hashable, response) -> None:
    """Let the front door send this address's file next time (a public download)."""
    front = current_app.extensions.get("leaderboard_front")
    if front is None or request.method != "GET" or response.status_code != 200:
        return
    skip = {"Content-Length", "Last-Modified", "ETag", "Date"}
    headers = [(k, v) for k, v in response.headers.items() if k not in skip]
    front.remember(
        request.path,
        request.query_string.decode("latin-1"),
        FileRoute(slug, store, route, headers),
    )


def downloads() -> Downloads:
    """The app's download store (made on first use from the configuration)."""
    store = current_app.extensions.get("downloads")
    if store is None:
        config = current_app.config
        root = config.get("DOWNLOAD_CACHE_DIR") or os.path.join(
            current_app.instance_path, "downloads"
        )
        store = Downloads(
            Path(root),
            builds=int(config.get("DOWNLOAD_BUILDS", 1)),
            threads=int(config.get("DOWNLOAD_THREADS", 2)),
            wait=float(config.get("DOWNLOAD_WAIT", 30)),
        )
        current_app.extensions["downloads"] = store
    return store
