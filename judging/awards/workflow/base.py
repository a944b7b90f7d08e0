"""The workflow's vocabulary: the states and their moves, refusals, reasons."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from judging.common.enums import StageState

MAX_REASON = 500

#: Forward along draft → open → closed → published, and one step back (with a reason):
#: withdraw published results, reopen a closed stage for late sheets, or take an open
#: stage back to draft.
TRANSITIONS: dict[StageState, tuple[StageState, ...]] = {
    StageState.DRAFT: (StageState.OPEN,),
    StageState.OPEN: (StageState.CLOSED, StageState.DRAFT),
    StageState.CLOSED: (StageState.PUBLISHED, StageState.OPEN),
    StageState.PUBLISHED: (StageState.CLOSED,),
}
_ORDER = [StageState.DRAFT, StageState.OPEN, StageState.CLOSED, StageState.PUBLISHED]

#: What each move is called on its button and page.
TRANSITION_LABELS = {
    (StageState.DRAFT, StageState.OPEN): _l("Open scoring"),
    (StageState.OPEN, StageState.CLOSED): _l("Close scoring"),
    (StageState.CLOSED, StageState.PUBLISHED): _l("Publish the results"),
    (StageState.PUBLISHED, StageState.CLOSED): _l("Withdraw the publication"),
    (StageState.CLOSED, StageState.OPEN): _l("Reopen scoring"),
    (StageState.OPEN, StageState.DRAFT): _l("Back to draft"),
}


def transition_label(source: StageState | str, target: StageState | str) -> str:
    """The name of a move between two states (its button), e.g. 撤回公布 for published →
    closed; "set to <state>" for a move that has no name."""
    try:
        label = TRANSITION_LABELS.get((StageState(source), StageState(target)))
    except ValueError:
        label = None
    if label is not None:
        return str(label)
    return _("Set to: %(state)s", state=StageState(target).title)


#: What the organizer can confirm on a results page.
CONFIRM_KINDS = ("advancement", "awards", "standings")


class WorkflowError(ValueError):
    """A refused change, with a message for the organizer; ``field`` names the form field
    the message is about (a missing reason), if any."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field

    #: the HTTP answer a page gives it
    status = 400


class ChangedMeanwhile(WorkflowError):
    """The results, or their confirmation, changed since the organizer's page was shown
    (another confirmation came first): 409."""

    status = 409


def is_backward(source: StageState, target: StageState) -> bool:
    """Whether a move goes back along the stage's life (and so needs a reason)."""
    return _ORDER.index(target) < _ORDER.index(source)


def clean_reason(text: str | None) -> str:
    """A reason as stored: stripped, NUL-free, at most ``MAX_REASON`` characters."""
    return (text or "").replace("\x00", "").strip()[:MAX_REASON]
