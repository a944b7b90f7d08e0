"""The results workflow (SPEC, "The results workflow"), one module for pages and commands.

- A stage moves draft → open → closed → published; every move back needs a reason,
  recorded in the audit log. Closing lists what is missing: the needed sheets not
  submitted, per judge (``readiness``).
- Confirming advancement, awards or results needs a closed stage with every needed sheet
  submitted, or an override with a reason, kept with the snapshot and shown on the
  results page and in exports. Nothing is confirmed on a published stage.
- Advancement is recorded per (entry, stage): confirming writes only the next stage's
  participants. A confirmation that would change entries which already have sheets,
  assignments or participation in later stages is refused, listing them, unless the
  organizer cascades it with a reason.
- Publishing needs a confirmed snapshot equal to the live results; the public then sees
  that snapshot, frozen. Publishing again after a withdrawal records a dated correction
  with the old and new values.

Every change is planned first (``plan_transition``, ``plan_confirmation``): a plan says
what will happen and what blocks it; the confirmation pages show it, and applying a
change plans it again and refuses what the plan refuses. Services flush; the request or
command commits once.
"""

from judging.awards.workflow.base import (
    CONFIRM_KINDS,
    MAX_REASON,
    TRANSITION_LABELS,
    TRANSITIONS,
    ChangedMeanwhile,
    WorkflowError,
    clean_reason,
    is_backward,
    transition_label,
)
from judging.awards.workflow.confirmations import (
    AdvancementChanges,
    ConfirmPlan,
    Footprint,
    advancement_changes,
    confirm,
    plan_confirmation,
)
from judging.awards.workflow.readiness import MissingSheet, Readiness, readiness
from judging.awards.workflow.reopening import reopen_sheet
from judging.awards.workflow.states import (
    TransitionPlan,
    change_state,
    current_publication,
    last_publication,
    plan_transition,
    publish_as_loaded,
)

__all__ = [
    "CONFIRM_KINDS",
    "MAX_REASON",
    "TRANSITIONS",
    "TRANSITION_LABELS",
    "AdvancementChanges",
    "ChangedMeanwhile",
    "ConfirmPlan",
    "Footprint",
    "MissingSheet",
    "Readiness",
    "TransitionPlan",
    "WorkflowError",
    "advancement_changes",
    "change_state",
    "clean_reason",
    "confirm",
    "current_publication",
    "is_backward",
    "last_publication",
    "plan_confirmation",
    "plan_transition",
    "publish_as_loaded",
    "readiness",
    "reopen_sheet",
    "transition_label",
]
