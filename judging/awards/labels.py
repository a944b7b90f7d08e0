"""Names of the outcome fields and rules a snapshot records, in the reader's language
(for differences, correction notices and exports)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

FIELD_LABELS = {
    "rank": _l("rank"),
    "score": _l("score"),
    "tied": _l("tie for the jury"),
    "advanced": _l("advances"),
    "tier": _l("award tier"),
    "specials": _l("special awards"),
    "prize": _l("prize money"),
    "parts": _l("stage parts"),
    "rule": _l("scoring rule"),
    "trim": _l("dropped at each end"),
    "min_sheets_to_trim": _l("fewest sheets to drop"),
    "threshold": _l("advancement threshold"),
    "quotas": _l("advancement quotas"),
    "tiers": _l("award tiers"),
    "special_awards": _l("special awards"),
    "weights": _l("stage weights"),
    "stage": _l("stage"),
}


def field_label(name: str) -> str:
    """The reader's name of a snapshot field or rule (the name itself when unknown)."""
    label = FIELD_LABELS.get(name)
    return str(label) if label is not None else name
