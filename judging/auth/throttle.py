"""How many failed sign-ins are allowed: per address and per account, counted in the rate
limiter's storage (``RATELIMIT_STORAGE_URI``: Redis shares the counts between workers and
hosts; ``memory://`` keeps them per process).

Two counts, so that neither blocks what it should not: an account locked after
``SIGNIN_ACCOUNT_LIMIT`` failures (whoever tries) leaves the other accounts behind the same
address alone, as a venue's judges behind one NAT are; an address past
``SIGNIN_RATE_LIMIT`` failures (set high enough for that venue) is refused for every
account, so one machine cannot try a password on every account in turn. Only failures
count: signing in, and signing out and in again, uses up nothing.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from flask import current_app
from limits import RateLimitItem, parse_many

from judging.extensions import limiter

#: The two counts: by the client's address, and by the username tried.
ADDRESS = "address"
ACCOUNT = "account"
_SETTINGS = {ADDRESS: "SIGNIN_RATE_LIMIT", ACCOUNT: "SIGNIN_ACCOUNT_LIMIT"}


@dataclass(frozen=True)
class Lockout:
    """A refused attempt: which count is spent, and in how many seconds it allows again."""

    scope: str
    retry_after: int

    @property
    def minutes(self) -> int:
        """The wait in whole minutes, at least one."""
        return max(1, math.ceil(self.retry_after / 60))


@lru_cache(maxsize=16)
def _parsed(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(text))


def _limits(scope: str) -> tuple[RateLimitItem, ...]:
    return _parsed(current_app.config[_SETTINGS[scope]])


def _key(scope: str, value: str) -> str:
    # Hashed: a username can be any text, and the storage's key is not the place for it.
    if scope == ACCOUNT:
        value = value.strip().casefold()
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _identifiers(scope: str, value: str) -> tuple[str, str]:
    return f"sign-in-{scope}", _key(scope, value)


def _spent(scope: str, value: str) -> Lockout | None:
    ids = _identifiers(scope, value)
    strategy = limiter.limiter
    for item in _limits(scope):
        if not strategy.test(item, *ids):
            reset_at = strategy.get_window_stats(item, *ids).reset_time
            return Lockout(scope, max(1, math.ceil(reset_at - time.time())))
    return None


def locked(*, username: str, address: str) -> Lockout | None:
    """Whether an attempt for username from address is refused before any password is
    checked (the address's count first: it is the wider one)."""
    return _spent(ADDRESS, address) or _spent(ACCOUNT, username)


def count_failure(*, username: str, address: str) -> list[Lockout]:
    """Count a failed attempt for username from address; returns the lockouts it starts
    (a count it spends to the last attempt), to be recorded once each."""
    started = []
    for scope, value in ((ADDRESS, address), (ACCOUNT, username)):
        for item in _limits(scope):
            limiter.limiter.hit(item, *_identifiers(scope, value))
        lockout = _spent(scope, value)
        if lockout is not None:
            started.append(lockout)
    return started
