"""Helpers of the leaderboard tests: submitting through the service, reading pages."""

from __future__ import annotations

import re

from judging.extensions import db
from judging.scoring import services as scoring
from judging.scoring.rubric import rubric_specs


def submit(stage, judge, entry, total) -> None:
    """The judge submits a one-criterion sheet through the scoring service (bumps the version)."""
    rubric = rubric_specs(stage.id, entry.group_id)
    scoring.save_sheet(
        judge=judge,
        entry=entry,
        stage=stage,
        points={rubric[0].id: str(total)},
        comment="",
        expected_version=0,
        submit=True,
        rubric=rubric,
    )
    db.session.commit()


def text(response) -> str:
    """The visible text of an HTML response, whitespace collapsed."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
