"""Writes about judges: one-time sign-in links for judge cards and chat (the organizer's
conflict decisions are scoring's: ``judging.scoring.conflicts``)."""

from __future__ import annotations

from judging.auth.services import issue_login_link
from judging.judges.models import Judge

MAX_REASON = 500


def login_link(judge: Judge) -> str:
    """Issue a fresh one-time sign-in link for a judge and return it as a full URL."""
    return issue_login_link(user=judge.user, contest_id=judge.contest_id)
