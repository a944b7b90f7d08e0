"""Names of the audit log's actions, fields and values, in the visitor's language.

To name a new action, add its code to ``ACTIONS``; a new field of ``old``/``new``, to
``FIELDS``; values of a field shown by title (an enum), to ``VALUES``. Anything not
listed is shown as it was recorded.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from judging.common.enums import (
    AggregationRule,
    ConflictSource,
    ConflictStatus,
    ContestStatus,
    EntryStatus,
    SheetState,
    StageKind,
    StageState,
)
from judging.live.models import LivePhase

#: Every action code the app records, with its name.
ACTIONS = {
    "sign_in": _l("Signed in with a password"),
    "sign_in_link": _l("Signed in with a one-time link"),
    "sign_in_failure": _l("Failed sign-in"),
    "sign_in_lockout": _l("Sign-ins locked after repeated failures"),
    "sign_out": _l("Signed out (every session of the account)"),
    "judge_sessions_end": _l("Judge signed out everywhere by the organizer"),
    "judge_links_issued": _l("Judge sign-in links issued"),
    "sheet_save": _l("Sheet saved as a draft"),
    "sheet_submit": _l("Sheet submitted"),
    "sheet_reopen": _l("Sheet reopened"),
    "sheet_import": _l("Sheet imported from Excel"),
    "sheet_delete": _l("Sheet deleted by a cascade"),
    "conflict_declare": _l("Conflict declared by the judge"),
    "conflict_add": _l("Conflict added by the organizer"),
    "conflict_withdraw": _l("Conflict withdrawn"),
    "conflict_accept": _l("Proposed conflict accepted"),
    "conflict_dismiss": _l("Proposed conflict dismissed"),
    "conflict_review": _l("Conflict reviewed"),
    "advancement_confirm": _l("Advancement confirmed"),
    "awards_confirm": _l("Awards confirmed"),
    "results_confirm": _l("Results confirmed"),
    "stage_state": _l("Stage state changed"),
    "live_on_stage": _l("Entry put on stage"),
    "live_timer": _l("Live timer started or stopped"),
    "live_reveal": _l("Score revealed on the big screen"),
    "reveal_withdraw": _l("Revealed score withdrawn"),
    "excel_export": _l("Exported to Excel"),
    "excel_import": _l("Imported from Excel"),
    "assignment_save": _l("Judge assignment saved"),
    "contest_settings": _l("Contest settings changed"),
    "contest_create": _l("Contest created"),
    "contest_edit": _l("Contest changed"),
    "group_save": _l("Group saved"),
    "field_save": _l("Field saved"),
    "stage_save": _l("Stage saved"),
    "tier_save": _l("Award tier saved"),
    "special_save": _l("Special award saved"),
    "rubric_save": _l("Rubric saved"),
    "running_order_save": _l("Running order set by hand"),
    "running_order_draw": _l("Running order drawn by lot"),
    "password_change": _l("Password changed by its user"),
    "organizer_invite": _l("Organizer invited"),
    "organizer_link": _l("Organizer invitation link issued again"),
    "organizer_grant": _l("Organizer given the contest"),
    "organizer_revoke": _l("Organizer removed from the contest"),
    "account_deactivate": _l("Account deactivated"),
    "account_reactivate": _l("Account reactivated"),
    "entry_add": _l("Entry added"),
    "entry_edit": _l("Entry edited"),
    "entry_withdraw": _l("Entry withdrawn from the contest"),
    "entry_disqualify": _l("Entry disqualified"),
    "entry_reinstate": _l("Entry reinstated"),
    "judge_add": _l("Judge added"),
    "judge_edit": _l("Judge edited"),
    "judge_password_set": _l("Temporary password set for a judge"),
    "judge_link_reissue": _l("Judge card link reissued"),
    "database_restore": _l("Database restored from a backup"),
}

#: Keys of ``old``/``new`` (at any depth), with their names.
FIELDS = {
    "state": _l("State"),
    "status": _l("Status"),
    "source": _l("Source"),
    "comment": _l("Comment"),
    "version": _l("Version"),
    "points": _l("Points"),
    "score": _l("Score"),
    "totals": _l("Sheet totals"),
    "total": _l("Prize total"),
    "dropped_each_end": _l("Dropped at each end"),
    "stage": _l("Stage"),
    "into": _l("Advancing into"),
    "advancing": _l("Entries advancing"),
    "cut_ties": _l("Ties at the cut"),
    "awards": _l("Awards"),
    "hash": _l("Snapshot hash"),
    "judge": _l("Judge"),
    "judges": _l("Judges"),
    "entry": _l("Entry"),
    "group": _l("Group"),
    "reason": _l("Reason"),
    "phase": _l("Phase"),
    "seconds": _l("Timer (seconds)"),
    "export": _l("Export"),
    "file": _l("File"),
    "revision": _l("Schema revision"),
    "kind": _l("Imported"),
    "created": _l("Created"),
    "updated": _l("Updated"),
    # what an import creates or updates, counted per kind of record
    "contest": _l("Contest"),
    "groups": _l("Groups"),
    "fields": _l("Fields"),
    "stages": _l("Stages"),
    "criteria": _l("Criteria"),
    "special_awards": _l("Special awards"),
    "users": _l("Accounts"),
    "entries": _l("Entries"),
    "conflicts": _l("Conflicts"),
    "assignments": _l("Assignments"),
    "sheets": _l("Sheets"),
    # the results workflow
    "added": _l("Joining"),
    "removed": _l("Leaving"),
    "override": _l("Override reason"),
    "cascade": _l("Cascade"),
    "corrections": _l("Corrections"),
    "missing": _l("Missing sheets"),
    "removes": _l("Sheets no longer counted (stages)"),
    "restores": _l("Sheets counted again (stages)"),
    "note": _l("Note"),
    "reviewed": _l("Reviewed"),
    # judge assignment and contest settings
    "kept": _l("Kept"),
    "per_entry": _l("Judges per entry"),
    "load_min": _l("Fewest entries per judge"),
    "load_max": _l("Most entries per judge"),
    "expertise_matches": _l("Expertise matches"),
    "public": _l("Public"),
    # the setup pages
    "slug": _l("Address (slug)"),
    "name": _l("Called"),
    "year": _l("Year"),
    "organizers": _l("Organizers"),
    "starts_on": _l("First day"),
    "ends_on": _l("Last day"),
    "panel": _l("Panel"),
    "code": _l("Code"),
    "position": _l("Order"),
    "stage_kind": _l("Kind"),
    "judges_per_entry": _l("Judges per entry"),
    "rule": _l("Rule"),
    "trim": _l("Dropped at each end"),
    "min_sheets_to_trim": _l("Sheets needed to drop"),
    "pitch_minutes": _l("Pitch (minutes)"),
    "qa_minutes": _l("Q&A (minutes)"),
    "advance_quota": _l("Entries advancing"),
    "advance_threshold": _l("Advancement threshold (score)"),
    "weight": _l("Weight in the combined score"),
    "quotas": _l("Entries advancing per group"),
    "quota": _l("How many"),
    "prize": _l("Prize"),
    "reopened": _l("Sheets reopened"),
    # the running order of a roadshow stage
    "order": _l("Running order"),
    "seed": _l("Draw seed"),
    # people: accounts, judges and entries one by one
    "username": _l("Username"),
    "by_link": _l("Invited by a one-time link"),
    "active": _l("Active"),
    "ended": _l("Sign-in links ended"),
    "lockout": _l("Locked"),
    "minutes": _l("For (minutes)"),
    "title": _l("Title"),
    "field": _l("Field"),
    "organization": _l("Organization"),
    "leader": _l("Leader"),
    "is_student_team": _l("Student team"),
    "phone": _l("Phone"),
    "email": _l("Email"),
    "summary": _l("Summary"),
    "job_title": _l("Job title"),
    "expertise": _l("Expertise"),
}

#: Fields whose keys below them are data (criterion names, group codes), never translated.
DATA_KEYS = frozenset({"points", "cut_ties", "order"})

#: Fields whose values are points, shown the way people write them (27.50 → 27.5).
POINT_FIELDS = frozenset({"points", "score", "totals", "total"})


def _titles(*enums) -> dict:
    return {member.value: member.title for enum in enums for member in enum}


#: Values shown by their title, per field.
VALUES = {
    "state": _titles(SheetState, StageState),
    "status": {
        **_titles(ConflictStatus, ContestStatus, EntryStatus),
        "auto": _l("Follows the stages"),
    },
    "source": {
        **_titles(ConflictSource),
        "solver": _l("The solver's proposal"),
        "grid": _l("Arranged by hand"),
    },
    "phase": _titles(LivePhase),
    "stage_kind": _titles(StageKind),
    "rule": _titles(AggregationRule),
    "kind": {
        "contest": _l("Contest workbook"),
        "entries": _l("Entries"),
        "judges": _l("Judges"),
        "scores": _l("Scores"),
    },
    "lockout": {
        "account": _l("This account, from any address"),
        "address": _l("Every account, from this address"),
    },
    "export": {
        "contest": _l("Contest workbook"),
        "stage": _l("Stage workbook"),
        "progress": _l("Stage progress"),
    },
}


def action_label(code: str) -> str:
    """The name of an action code in the visitor's language; an unknown code as it is."""
    label = ACTIONS.get(code)
    return str(label) if label is not None else code


def action_choices() -> list[tuple[str, str]]:
    """(code, name) of every named action, by name, for a select."""
    return sorted(((code, str(label)) for code, label in ACTIONS.items()), key=lambda c: c[1])


def field_label(key: str) -> str:
    """The name of a field key; an unknown key as it is."""
    label = FIELDS.get(key)
    return str(label) if label is not None else key


def value_title(key: str, value: str) -> str | None:
    """The title of a field's recorded value (an enum's), or None when it has none."""
    title = VALUES.get(key, {}).get(value)
    return None if title is None else str(title)
