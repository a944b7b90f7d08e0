"""Showing decimals the way people write them."""

from decimal import Decimal, InvalidOperation


def plain(value: Decimal | int | None) -> str:
    """A decimal without trailing zeros or exponent: 40.00 → "40", 27.50 → "27.5"."""
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text in ("-0", "") else text


def yuan(value: Decimal | int | None) -> str:
    """Money with thousands separators and fen: 50000 → "50,000.00"."""
    if value is None:
        return ""
    return f"{Decimal(value):,.2f}"


def more_places(value: Decimal, places: str) -> bool:
    """Whether a number typed into a form has more decimals than ``places`` ("0.01")
    allows, or cannot be held at all (not finite, or too large to round there)."""
    if not value.is_finite():
        return True
    try:
        return value != value.quantize(Decimal(places))
    except InvalidOperation:
        return True
