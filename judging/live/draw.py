"""Drawing a running order by lot (抽签): pure, so anyone can repeat a draw from its seed.

The draw of one group is Python's own shuffle, seeded with the text ``"<seed>:<group
code>"`` (one seed draws every group, each differently), over the group's entry codes
sorted in code order::

    import random
    codes = sorted(["A-003", "A-001", "A-002"])
    random.Random("482915:angel").shuffle(codes)   # codes is now the drawn order

``random.Random`` seeded with a text is the same on every platform and every Python since
3.2 (the text's SHA-512 is the seed), so the same seed, group and entries always give
the same order.
"""

from __future__ import annotations

import random
import secrets
import unicodedata
from collections.abc import Sequence

#: The longest seed an organizer may type.
SEED_MAX = 32


def normalize_seed(text: str) -> str:
    """A typed seed as it is drawn with: full-width forms folded (１２３ → 123), spaces at
    either end dropped."""
    return unicodedata.normalize("NFKC", text or "").strip()


def new_seed() -> str:
    """A fresh random seed: six digits, easy to read out and write down."""
    return f"{secrets.randbelow(1_000_000):06d}"


def draw_order(seed: str, group_code: str, codes: Sequence[str]) -> list[str]:
    """The codes in the order the seed draws for the group (see the module docstring)."""
    drawn = sorted(codes)
    random.Random(f"{seed}:{group_code}").shuffle(drawn)
    return drawn
