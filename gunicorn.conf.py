"""gunicorn's settings for production: ``gunicorn -c gunicorn.conf.py wsgi:app`` (``make serve``).

Every value can come from the environment:

    BIND              where to listen                     127.0.0.1:8000 (several: comma-separated)
    WEB_CONCURRENCY   worker processes                    2 × cores + 1, at most 8
    THREADS           threads per worker (gthread)        4
    TIMEOUT           a worker silent this long is killed 60 s (a workbook build can take tens)
    GRACEFUL_TIMEOUT  a stopping worker finishes requests 30 s
    KEEPALIVE         idle keep-alive connections kept    5 s (behind a proxy on the same host)
    ACCESS_LOG        where requests are logged           - (stderr); empty: no access log
    FORWARDED_ALLOW_IPS  proxies trusted for the scheme    127.0.0.1 (see also PROXY_FIX_X_FOR)

No worker outlives its master: if the master dies without stopping them (SIGKILL, the OOM
killer), the kernel signals each worker at once (Linux's parent-death signal): SIGTERM to
a serving worker, which closes its listening sockets and finishes its requests, SIGKILL to
one still loading the app. On other systems gunicorn's own check of the parent remains
(each loop of a worker: every second for gthread). What kept a restart from binding the
port ("Connection in use") was those workers, still listening on it; connections of the
dead master left in TIME_WAIT do not, as gunicorn always sets SO_REUSEADDR.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = [b.strip() for b in os.environ.get("BIND", "127.0.0.1:8000").split(",") if b.strip()]
workers = _int("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8))
worker_class = "gthread"
threads = _int("THREADS", 4)
timeout = _int("TIMEOUT", 60)
graceful_timeout = _int("GRACEFUL_TIMEOUT", 30)
keepalive = _int("KEEPALIVE", 5)
reuse_port = False  # one master owns the port: never two sets of workers sharing it
accesslog = os.environ.get("ACCESS_LOG", "-") or None
errorlog = "-"
# Client address, time, request line, status, size, time taken (ms), referrer, agent.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'
preload_app = False  # each worker builds the app: its own engine, connections, threads
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "judging"

PR_SET_PDEATHSIG = 1


def _die_with_parent(sig: int) -> bool:
    """Ask Linux to send this process ``sig`` when its parent (the master) dies; False
    where the call is not available (another system)."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0


def post_fork(server, worker):
    """In the new worker, before it loads the app: die at once with the master (SIGKILL:
    a worker still loading serves nothing, but it holds the listening socket a new master
    needs). The master may have died between the fork and the call, in which case no
    signal comes: check once by hand."""
    if not _die_with_parent(signal.SIGKILL):
        server.log.warning("parent-death signal unavailable: relying on the parent check")
    if os.getppid() != worker.ppid:
        os._exit(0)


def post_worker_init(worker):
    """The worker is ready to serve: from now on the master's death is a SIGTERM, so it
    closes its listening sockets at once and finishes the requests under way (within
    GRACEFUL_TIMEOUT) before it exits."""
    _die_with_parent(signal.SIGTERM)
    if os.getppid() != worker.ppid:
        worker.alive = False
    worker.log.info("Worker %s ready", worker.pid)


def worker_exit(server, worker):
    """A worker whose master died ends here, its requests finished: leave at once, without
    the interpreter's orderly teardown of every module (seconds of CPU on a busy host,
    measured at over 5 s under load), so a new master finds no old worker around."""
    if os.getppid() != worker.ppid:
        server.log.info("Worker %s exiting: its master is gone", worker.pid)
        sys.stderr.flush()
        os._exit(0)
