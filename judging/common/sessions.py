"""The session: Flask's signed cookie, with its signing serializer made once per key set."""

from __future__ import annotations

from flask.sessions import SecureCookieSessionInterface


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, unchanged on the wire.

    Flask makes a new signing serializer twice per request (to read the cookie, and to
    write it after a change, as a judge's submission makes with its message): a tenth of
    the cookie's cost in a submission (bench/scoring_profile.py). The serializer holds
    nothing but the keys and settings, so one is kept per key set.
    """

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
