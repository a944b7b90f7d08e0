"""Enumerations of the contest domain, each value with a translatable display title."""

import enum

from flask_babel import lazy_gettext as _l


class TitledEnum(enum.StrEnum):
    """A string enum whose members carry a translatable title for the UI."""

    def __new__(cls, value: str, title):
        member = str.__new__(cls, value)
        member._value_ = value
        member.title = title
        return member

    def __str__(self) -> str:
        return self.value

    @classmethod
    def choices(cls):
        """Return (value, title) pairs for form select fields."""
        return [(m.value, m.title) for m in cls]


class Role(TitledEnum):
    """What a user account may do."""

    ORGANIZER = "organizer", _l("Organizer")
    JUDGE = "judge", _l("Judge")


class ContestStatus(TitledEnum):
    """Where a contest is in its life."""

    SETUP = "setup", _l("Setting up")
    RUNNING = "running", _l("Running")
    FINISHED = "finished", _l("Finished")


class StageKind(TitledEnum):
    """How a stage is judged."""

    ONLINE = "online", _l("Online review")
    ROADSHOW = "roadshow", _l("Live roadshow")


class StageState(TitledEnum):
    """A stage moves draft → open → closed → published."""

    DRAFT = "draft", _l("Draft")
    OPEN = "open", _l("Open for scoring")
    CLOSED = "closed", _l("Closed")
    PUBLISHED = "published", _l("Published")


class AggregationRule(TitledEnum):
    """How an entry's sheets become its stage score."""

    TRIMMED = "trimmed", _l("Drop highest and lowest, average the rest")
    MEAN = "mean", _l("Mean")
    MEDIAN = "median", _l("Median")
    ZSCORE = "zscore", _l("Judge-normalised (z-score) mean")


class EntryStatus(TitledEnum):
    """Whether an entry is still in the contest."""

    REGISTERED = "registered", _l("Registered")
    WITHDRAWN = "withdrawn", _l("Withdrawn")
    DISQUALIFIED = "disqualified", _l("Disqualified")


class ParticipationSource(TitledEnum):
    """How an entry came to take part in a stage."""

    ADVANCED = "advanced", _l("Advanced by the organizer")
    IMPORTED = "imported", _l("Imported")


class SheetState(TitledEnum):
    """A score sheet is a draft until the judge submits it."""

    DRAFT = "draft", _l("Draft")
    SUBMITTED = "submitted", _l("Submitted")


class ConflictStatus(TitledEnum):
    """A proposed conflict binds only once accepted."""

    PROPOSED = "proposed", _l("Proposed")
    BINDING = "binding", _l("Binding")
    DISMISSED = "dismissed", _l("Dismissed")


class ConflictSource(TitledEnum):
    """Who raised a conflict."""

    JUDGE = "judge", _l("Declared by the judge")
    ORGANIZER = "organizer", _l("Set by the organizer")
    SYSTEM = "system", _l("Proposed by the system (same organization)")
