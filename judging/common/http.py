"""HTTP helpers shared by the public pages and the live control: ETags and the server clock."""

from __future__ import annotations

import json
import time

from flask import current_app

JSON = "application/json"


def matches(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names etag (weak comparison, as RFC 9110 asks)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def with_server_time(response):
    """Add ``X-Server-Time`` (seconds since the epoch): the clients count timers down from
    the server's clock, sent in a header so the body (and its ETag) stay the same."""
    response.headers["X-Server-Time"] = f"{time.time():.3f}"
    return response


def json_body(data) -> str:
    """Compact JSON text with the characters as they are (no \\u escapes for Chinese)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def api_error(status: int, message: str):
    """A JSON error response: ``{"error": message}``."""
    return current_app.response_class(
        json_body({"error": message}), status=status, content_type=JSON
    )
