"""A published group's standings a page at a time, for the page and the JSON API.

A group may hold 100,000 entries: one page of them is rendered, not a 20 MB table. The
whole standings (``queries.leaderboard``) are built once per published version and kept
here, so the next pages and the API slice them instead of building them again; one
builder per key at a time, the other requests wait for it (the render cache in front of
this serves its previous version for a moment meanwhile).

A published stage's standings depend only on the contest's own version (``Versions.meta``:
what the organizer publishes), as the routes' ``scope="meta"`` says.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from judging.contests.models import Contest, Group, Stage
from judging.contests.versions import Versions
from judging.leaderboard import queries
from judging.leaderboard.cache import cache

#: Rows on one page of the standings, and the most the API gives on one.
PAGE_SIZE = 100
MAX_PER_PAGE = 1000


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which page, and how many rows on it."""

    page: int = 1
    per_page: int = PAGE_SIZE


def positive_int(raw: str | None, default: int, *, most: int | None = None) -> int | None:
    """``raw`` as an integer from 1 (to ``most``); ``default`` when absent; None when it is
    anything else (the caller answers 404 or 400)."""
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return None
    value = int(raw)
    if value < 1 or (most is not None and value > most):
        return None
    return value


class BoardMemo:
    """The last few whole standings built, by key; one build per key at a time.

    Bounded by rows, not boards: a few small groups or one very large one (``weight`` says
    how many rows a kept value counts for).
    """

    def __init__(self, max_rows: int = 250_000, weight=lambda board: len(board["rows"])):
        self.max_rows = max_rows
        self.weight = weight
        self.items: OrderedDict[Hashable, dict] = OrderedDict()
        self.lock = threading.Lock()
        self.gates: dict[Hashable, threading.Lock] = {}
        self.builds = 0

    def get_or_build(self, key: Hashable, build) -> dict:
        with self.lock:
            board = self.items.get(key)
            if board is not None:
                self.items.move_to_end(key)
                return board
            gate = self.gates.setdefault(key, threading.Lock())
        with gate:
            with self.lock:
                board = self.items.get(key)
            if board is None:
                board = build()
                with self.lock:
                    self.builds += 1
                    self._keep(key, board)
        with self.lock:
            self.gates.pop(key, None)
        return board

    def _keep(self, key: Hashable, board: dict) -> None:
        self.items[key] = board
        rows = sum(self.weight(b) for b in self.items.values())
        while len(self.items) > 1 and rows > self.max_rows:
            _old, dropped = self.items.popitem(last=False)
            rows -= self.weight(dropped)

    def clear(self) -> None:
        """Forget everything (tests)."""
        with self.lock:
            self.items.clear()
            self.builds = 0


memo = BoardMemo()
cache.cleared_with.append(memo.clear)
#: The live final's public view (Rule 8) per contest version: the big screen, its polled
#: body and the live API show the same data, built once per version for all three.
live_memo = BoardMemo(max_rows=8, weight=lambda _live: 1)
cache.cleared_with.append(live_memo.clear)


def live(contest: Contest, versions: Versions) -> dict | None:
    """``queries.live`` of the contest at these versions, built once for every route."""
    return live_memo.get_or_build((contest.id, versions), lambda: queries.live(contest))


def whole_board(contest: Contest, stage: Stage, group: Group, versions: Versions) -> dict:
    """The group's whole published standings (``queries.leaderboard``), built once per
    version of what the organizer published."""
    key = (contest.id, versions.meta, stage.id, group.id)
    return memo.get_or_build(key, lambda: queries.leaderboard(contest, stage, group, versions))


def board_page(board: dict, wanted: PageRequest) -> dict | None:
    """The board with only the rows of the wanted page, and where that page is: ``page``,
    ``pages``, ``per_page``, ``total`` (rows in the group) and ``first`` (the position of
    the page's first row, from 1). None when there is no such page (an empty group has one,
    empty, page)."""
    rows = board["rows"]
    total = len(rows)
    pages = max(1, -(-total // wanted.per_page))
    if wanted.page > pages:
        return None
    start = (wanted.page - 1) * wanted.per_page
    return {
        **board,
        "rows": rows[start : start + wanted.per_page],
        "page": wanted.page,
        "pages": pages,
        "per_page": wanted.per_page,
        "total": total,
        "first": start + 1,
    }


def page_numbers(page: int, pages: int, around: int = 2) -> list[int | None]:
    """The page links to show: the first, the last, and ``around`` on each side of the
    current one; None where two or more numbers are left out (shown as …)."""
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - numbers[-1] == 2:  # one page left out: show it, not …
            numbers.append(number - 1)
        elif numbers and number - numbers[-1] > 2:
            numbers.append(None)
        numbers.append(number)
    return numbers
