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

from flask import current_app, send_file

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
