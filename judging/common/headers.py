"""Security headers on every response, and ``no-store`` on every private one.

The security headers are added by a WSGI middleware around everything the app answers —
Flask's pages, its error pages and static files, and the leaderboard's front door
(``judging.leaderboard.front``), which answers cache hits before Flask ever sees them —
so no path can send a page without them.

The policy allows no inline script and no inline style: every script and stylesheet is a
file under static/, and the judge cards' QR codes are ``data:`` images. A page in a frame
is refused (``frame-ancestors 'none'`` and the older X-Frame-Options), so the sign-in
and scoring forms cannot be clickjacked.

Caching: a view that may be kept by browsers and proxies says so itself with ``public``
(the leaderboard, the big screen, the API, a published stage's workbook: they hold
nothing personal). Every other answer of a view — pages for a signed-in user, the sign-in
pages, organizer and judge downloads, error pages — is sent ``no-store``, so a judge's
sheet or an organizer's contact list does not stay in a shared computer's cache or in a
proxy. Static files keep Flask's revalidation.
"""

from __future__ import annotations

from flask import Flask, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
#: Sent with every response.
HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("X-Content-Type-Options", "nosniff"),
)
#: Sent when the site is served over HTTPS (two years; browsers then refuse plain HTTP).
HSTS = ("Strict-Transport-Security", "max-age=63072000")
PRIVATE = "no-store"


class SecurityHeaders:
    """WSGI middleware adding ``HEADERS`` to every response (a header the app already set
    is kept), and ``HSTS`` when ``https`` is set (the app is configured for HTTPS: HTTPS or
    SESSION_COOKIE_SECURE in the environment, ``judging.config``) or the
    request came over HTTPS (``wsgi.url_scheme``, which ProxyFix sets from the proxy's
    X-Forwarded-Proto when one is configured)."""

    def __init__(self, wsgi_app, *, https: bool):
        self.wsgi_app = wsgi_app
        self.https = https

    def __call__(self, environ, start_response):
        secure = self.https or environ.get("wsgi.url_scheme") == "https"

        def start(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            extra = [h for h in HEADERS if h[0].lower() not in present]
            if secure and HSTS[0].lower() not in present:
                extra.append(HSTS)
            return start_response(status, [*headers, *extra], exc_info)

        return self.wsgi_app(environ, start)


def no_store_unless_public(response):
    """``after_request``: ``no-store`` unless the view made the answer ``public``."""
    if request.endpoint == "static":
        return response
    if not response.cache_control.public:
        response.headers["Cache-Control"] = PRIVATE
    return response


def install(app: Flask) -> SecurityHeaders:
    """Add the caching rule to the app and the headers around its WSGI callable (call it
    after every other middleware but ProxyFix, so the front door's answers get them too)."""
    app.after_request(no_store_unless_public)
    config = app.config
    https = bool(config.get("SESSION_COOKIE_SECURE")) or config["PREFERRED_URL_SCHEME"] == "https"
    middleware = SecurityHeaders(app.wsgi_app, https=https)
    app.wsgi_app = middleware
    return middleware
