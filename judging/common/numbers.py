"""Reading and showing decimals the way people write them."""

import re
from decimal import Decimal, InvalidOperation

#: Full-width forms (U+FF01–U+FF5E, and the ideographic space) as their ASCII
#: characters: what a Chinese input method types. Not NFKC, which also reads "²" or "⑤"
#: as digits.
HALF_WIDTH = {0xFF01 + i: 0x21 + i for i in range(0x5E)} | {0x3000: 0x20}

#: A number as a person types it, after ``HALF_WIDTH`` (full-width digits become ASCII): ASCII
#: digits with an optional sign and decimal point; no exponent, no NaN or Infinity, no
#: other script's digits (Decimal itself would read "٣", "1E+999999999" or "1e-999999999").
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")

#: The most characters a typed number may have (far beyond any score, weight or prize).
MAX_NUMBER_LENGTH = 40


def parse_number(raw) -> Decimal | None:
    """A number typed by a person: full-width digits and stray spaces are fine.

    None when nothing was typed; ValueError when the text is not a plain decimal number
    of ASCII digits (the one rule for points, weights, prizes and every decimal field).
    """
    if raw is None:
        return None
    if isinstance(raw, Decimal):  # a number cell of an imported file
        if not raw.is_finite() or not (
            raw.as_tuple().exponent >= -MAX_NUMBER_LENGTH and raw.adjusted() < MAX_NUMBER_LENGTH
        ):
            raise ValueError(str(raw)[:MAX_NUMBER_LENGTH])
        return raw
    text = str(raw).translate(HALF_WIDTH).strip().replace(" ", "")
    if text == "":
        return None
    if len(text) > MAX_NUMBER_LENGTH or not _NUMBER.fullmatch(text):
        raise ValueError(text[:MAX_NUMBER_LENGTH])
    return Decimal(text)


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
