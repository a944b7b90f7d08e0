"""Forms of the live control: each carries the CSRF token; the values come from buttons."""

from __future__ import annotations

from wtforms import HiddenField

from judging.common.forms import BaseForm


class LiveForm(BaseForm):
    """A live-control action: the entry it concerns (if any) and the timer phase (if any)."""

    entry = HiddenField()
    phase = HiddenField()
