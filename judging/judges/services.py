"""Writes about judges: one-time sign-in links for judge cards and chat (the organizer's
conflict decisions are scoring's: ``judging.scoring.conflicts``)."""

from __future__ import annotations

from flask import current_app, has_request_context, url_for

from judging.auth.services import issue_login_token
from judging.judges.models import Judge

DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
MAX_REASON = 500


def login_link(judge: Judge) -> str:
    """Issue a fresh one-time sign-in link for a judge and return it as a full URL."""
    token = issue_login_token(
        user=judge.user,
        contest_id=judge.contest_id,
        hours=current_app.config["LOGIN_LINK_HOURS"],
    )
    base = current_app.config.get("PUBLIC_URL")
    if has_request_context() and not base:
        return url_for("auth.link_sign_in", token=token, _external=True)
    with current_app.test_request_context(base_url=base or DEFAULT_PUBLIC_URL):
        return url_for("auth.link_sign_in", token=token, _external=True)
