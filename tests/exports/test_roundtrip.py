"""The round trip (issue 5, "must show"): export the demo contest, import the file into an
empty database, and the standings and awards of every stage and group are identical."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import pytest
import sqlalchemy as sa

from judging.awards import workflow
from judging.awards.queries import awards_result, snapshot_difference, stage_result
from judging.contests.models import Contest
from judging.contests.queries import get_contest
from judging.entries.models import Entry
from judging.exports import files
from judging.extensions import db
from judging.imports.reader import Book
from judging.imports.service import import_workbook
from judging.imports.spec import is_example_header
from judging.imports.table import HEADER_SCAN
from judging.seed import load_demo
from judging.standings.groups import clear_cache, group_standings
from tests.conftest import _empty_tables

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"


def outcome(contest: Contest) -> dict:
    """Standings (rank, code, score, tied, dropped totals) of every stage and group, the tier
    awards, the special awards and the prize totals, by codes (ids differ between databases)."""
    out = {}
    for stage in contest.stages:
        for group in contest.groups:
            out[(stage.code, group.code)] = [
                (row.rank, row.code, row.score, row.tied, tuple(t for _, t in row.dropped))
                for row in group_standings(stage, group).rows
            ]
    awards = awards_result(contest)
    out["tiers"] = sorted(
        (r.stage.code, a.group_code, a.rank, a.code, a.tier_name, a.prize)
        for r in awards.stages
        for g in r.groups
        if g.tiers
        for a in g.tiers.awards
    )
    out["specials"] = sorted(
        (s.name, awards.entries[s.entry_id].code, s.prize) for s in awards.specials
    )
    out["totals"] = (dict(awards.totals.by_group), awards.totals.overall, awards.totals.count)
    out["reached"] = sorted(
        db.session.execute(
            sa.select(Entry.code, Entry.status, Entry.is_student_team).where(
                Entry.contest_id == contest.id
            )
        ).all()
    )
    return out


def by_code(payload: dict) -> tuple:
    """A snapshot's rules and outcomes keyed by entry code (ids differ between databases)."""
    return payload["rules"], {e["code"]: e for e in payload["entries"].values()}


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_demo_exported_and_imported_into_an_empty_database_ranks_and_awards_the_same(
    app, english, lang
):
    load_demo(SEED_DIR)
    db.session.commit()
    before = outcome(get_contest("dalian-2020"))
    home = {
        code: by_code(
            workflow.current_publication(get_contest("dalian-2020").stage(code)).snapshot.payload
        )
        for code in ("prelim", "semi")
    }
    data = files.contest_workbook(get_contest("dalian-2020"), lang=lang, tz="Asia/Shanghai")
    # No sheet carries a template's example column (where the reader looks for a header).
    book = Book(data)
    for sheet in book.sheet_names:
        for _, values in islice(book.rows(sheet), HEADER_SCAN):
            assert not [v for v in values.values() if isinstance(v, str) and is_example_header(v)]

    db.session.remove()
    _empty_tables()
    clear_cache()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contest)) == 0

    result = import_workbook(data=data, kind="contest")
    db.session.commit()
    assert result.created["entries"] == 116 and result.created["judges"] == 29
    after = outcome(get_contest("dalian-2020"))

    for key in before:
        assert after[key] == before[key], key
    # The comparison is not empty: 初赛, 复赛 and 决赛 are ranked, and the final gives prizes.
    ranked = {k: sum(r[0] is not None for r in v) for k, v in before.items() if len(k) == 2}
    assert all(
        ranked[(stage, group)] for stage in ("prelim", "semi") for group in ("angel", "growth")
    )
    assert len(before["tiers"]) == 22 and len(before["specials"]) == 20
    # Importing the same export again changes nothing.
    assert not import_workbook(data=data, kind="contest").changed
    # The published stages arrive published as they were: confirmed, frozen, and the same
    # snapshot content as at home.
    for code in ("prelim", "semi"):
        stage = get_contest("dalian-2020").stage(code)
        publication = workflow.current_publication(stage)
        assert publication is not None and publication.snapshot is not None
        assert not snapshot_difference(stage_result(stage))[1]
        assert by_code(publication.snapshot.payload) == home[code]
