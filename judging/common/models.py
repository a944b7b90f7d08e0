"""Column helpers shared by the domain models."""

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

from judging.ranking.models import CENT

# Points: up to 9999.99; money: up to 9,999,999,999.99 yuan. Both exact decimals.
POINTS = sa.Numeric(6, 2, asdecimal=True)
MONEY = sa.Numeric(12, 2, asdecimal=True)


def utcnow() -> datetime:
    """Return the current time in UTC, timezone-aware."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone; PostgreSQL's ``timestamptz`` does. This type makes both
    hand back aware UTC datetimes so comparisons never mix naive and aware values.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use judging.common.models.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_type(enum_cls, length: int = 20) -> sa.Enum:
    """Store a TitledEnum as its string value, with a CHECK constraint listing the values."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        name=enum_cls.__name__.lower(),
    )


def money(value) -> Decimal:
    """Return value as a Decimal with two places (yuan and fen)."""
    return Decimal(value).quantize(CENT)
