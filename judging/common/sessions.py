"""The session: Flask's signed cookie, with its signing serializer made once per key set,
and the stamps that end a signed-in session (epoch, lifetime, idle time)."""

from __future__ import annotations

import hashlib
import time

from flask.sessions import SecureCookieSessionInterface


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, unchanged on the wire.

    Flask makes a new signing serializer twice per request (to read the cookie, and to
    write it after a change, as a judge's submission makes with its message): a tenth of
    the cookie's cost in a submission (bench/scoring_profile.py). The serializer holds
    nothing but the keys and settings, so one is kept per key set.
    """

    digest_method = staticmethod(hashlib.sha1)

    def __init__(self) -> None:
        self._serializer = None
        self._keys: tuple = ()

    def get_signing_serializer(self, app):
        """The serializer of the app's current keys (the secret key and its fallbacks)."""
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        if self._serializer is None or keys != self._keys:
            self._serializer = super().get_signing_serializer(app)
            self._keys = keys
        return self._serializer


# ------------------------------------------------------------------ a signed-in session's life
#
# The cookie is signed, not stored: a copy of it stays valid as long as what it says is
# accepted. So a signed-in session carries three stamps, checked on every request against
# the user's row that Flask-Login loads anyway (no query of their own):
#   the account's session epoch when it signed in: the account raises its epoch to end
#   every session at once (sign-out, a new password, an organizer's "sign out everywhere");
#   when it signed in: no session lives longer than SESSION_ABSOLUTE_HOURS;
#   when it was last seen: one left alone SESSION_IDLE_MINUTES ends. Refreshed at most once
#   a minute, so most requests leave the cookie as it is.

EPOCH = "_epoch"
SIGNED_IN_AT = "_signed_in_at"
SEEN_AT = "_seen_at"
#: Seconds between two refreshes of the last-seen stamp (each one rewrites the cookie).
SEEN_EVERY = 60


def now() -> int:
    """The clock the session stamps use (whole seconds since the epoch; tests move it)."""
    return int(time.time())


def stamp(session, epoch: int) -> None:
    """Stamp a session that has just signed in with the account's epoch and the time."""
    moment = now()
    session[EPOCH] = epoch
    session[SIGNED_IN_AT] = moment
    session[SEEN_AT] = moment


def restamp(session, epoch: int) -> None:
    """Carry this session over to the account's new epoch (its own password change), its
    sign-in time kept."""
    session[EPOCH] = epoch
    session[SEEN_AT] = now()


def still_valid(session, epoch: int, *, absolute_seconds: int, idle_seconds: int) -> bool:
    """Whether a signed-in session may go on: stamped with the account's current epoch,
    signed in less than ``absolute_seconds`` ago, seen less than ``idle_seconds`` ago.
    Refreshes the last-seen stamp when it is a minute old or more."""
    signed_in_at = session.get(SIGNED_IN_AT)
    seen_at = session.get(SEEN_AT)
    if session.get(EPOCH) != epoch or type(signed_in_at) is not int or type(seen_at) is not int:
        return False  # an older epoch, or a session from before the stamps: ended
    moment = now()
    if moment - signed_in_at >= absolute_seconds or moment - seen_at >= idle_seconds:
        return False
    if moment - seen_at >= SEEN_EVERY:
        session[SEEN_AT] = moment
    return True
