"""Rules 5 and 6 by hand and as properties: advancement, tiers, special awards, snapshots."""

import hashlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judging.awards.prizes import PrizeRow, prize_rows, prize_totals
from judging.awards.snapshots import canonical_json, content_hash, diff_snapshots, snapshot_payload
from judging.ranking import EntryInput, SheetInput, rank
from judging.ranking.rules import (
    SpecialEntry,
    SpecialInput,
    TierInput,
    allocate_tiers,
    apply_special_awards,
    parse_special_rule,
    propose_advancement,
)

D = Decimal
FAST = settings(max_examples=150, deadline=None)


def standings_of(*totals: str | None):
    """Standings of entries A-001, A-002, … with one sheet of the given total (None: no sheet)."""
    entries = [
        EntryInput(
            number,
            f"A-{number:03d}",
            () if total is None else (SheetInput(1, (D(total),)),),
        )
        for number, total in enumerate(totals, start=1)
    ]
    return rank(entries)


TIERS = [
    TierInput(11, "一等奖", 1, 1, D("10000")),
    TierInput(12, "二等奖", 2, 2, D("5000")),
    TierInput(13, "三等奖", 3, 3, D("2000")),
]


# ------------------------------------------------------------------ advancement


def test_a_tie_across_the_advancement_cut_advances_everyone_tied_and_is_flagged():
    # 95, 90, 85, 85, 80 → ranks 1, 2, 3, 3, 5. Quota 3: rank 3 is shared by A-003 and
    # A-004 and straddles the cut (3 ≤ 3 < 3 + 2 − 1), so both advance: 4 for a quota of 3.
    standings = standings_of("95", "90", "85", "85", "80")
    assert [s.rank for s in standings] == [1, 2, 3, 3, 5]
    proposal = propose_advancement(standings, quota=3)
    assert proposal.advancing == (1, 2, 3, 4)
    assert proposal.not_advancing == (5,)
    assert proposal.cut_tie == (3, 4)
    assert proposal.cut_tie_rank == 3
    assert proposal.over_quota == 1
    assert (
        proposal.reason
        == "2 entries share rank 3 across the cut at 3: all advance (4 for a quota of 3)"
    )


def test_a_cut_tie_can_be_held_back_for_the_jury():
    proposal = propose_advancement(
        standings_of("95", "90", "85", "85", "80"), quota=3, advance_cut_tie=False
    )
    assert proposal.advancing == (1, 2)
    assert proposal.cut_tie == (3, 4)
    assert "held back for the jury" in proposal.reason


def test_a_tie_that_ends_exactly_at_the_cut_is_no_cut_tie():
    # Quota 4 with ranks 1, 2, 3, 3, 5: both rank-3 entries fit (3 + 2 − 1 = 4 ≤ 4).
    proposal = propose_advancement(standings_of("95", "90", "85", "85", "80"), quota=4)
    assert proposal.advancing == (1, 2, 3, 4)
    assert proposal.cut_tie == ()
    assert proposal.over_quota == 0


def test_advancement_by_threshold_and_unranked_entries_never_advance():
    standings = standings_of("95", "90", "85", "85", "80", None)
    proposal = propose_advancement(standings, threshold=D("85"))
    assert proposal.advancing == (1, 2, 3, 4)  # 95, 90, 85, 85 ≥ 85
    assert proposal.not_advancing == (5, 6)  # 80, then the entry with no score
    assert propose_advancement(standings, threshold=D("0")).not_advancing == (6,)
    assert 6 not in propose_advancement(standings, quota=10).advancing
    with pytest.raises(ValueError, match="exactly one"):
        propose_advancement(standings, quota=3, threshold=D("80"))


# ------------------------------------------------------------------ tiers


def test_a_tie_across_a_tier_boundary_overfills_the_tier_and_is_flagged():
    # Ranks 1, 2, 3, 3, 5, 6, 7; tiers 一等奖 ×1, 二等奖 ×2, 三等奖 ×3 → cumulative 1, 3, 6.
    #   rank 1 → 一等奖 (1 ≥ 1); ranks 2, 3, 3 → 二等奖 (3 ≥ 3): 3 holders for 2 places,
    #   flagged with the two rank-3 entries; ranks 5, 6 → 三等奖 (6 ≥ 6): one place empty;
    #   rank 7 → nothing (7 > 6).
    standings = standings_of("99", "95", "90", "90", "85", "80", "75")
    assert [s.rank for s in standings] == [1, 2, 3, 3, 5, 6, 7]
    allocation = allocate_tiers(standings, TIERS, group_code="angel")
    first, second, third = allocation.tiers
    assert first.holders == (1,) and not first.is_flagged
    assert second.holders == (2, 3, 4)
    assert second.over_quota == 1
    assert (second.tied_rank, second.tied_entries) == (3, (3, 4))
    assert allocation.boundary_ties == (second,)
    assert third.holders == (5, 6) and third.shortfall == 1 and not third.is_flagged
    assert allocation.no_award == (7,)
    # 10,000 + 3 × 5,000 + 2 × 2,000 = 29,000
    totals = prize_totals(prize_rows([allocation]))
    assert totals.by_group == {"angel": D("29000")}
    assert totals.overall == D("29000")


def test_a_tie_for_first_uses_the_next_tiers_place():
    # 90, 90, 80 → ranks 1, 1, 3; 一等奖 ×1 and 二等奖 ×1 (cumulative 1, 2): both rank-1
    # entries take 一等奖 (flagged); rank 3 > 2 gets nothing; 二等奖 stays empty.
    tiers = [TierInput(1, "一等奖", 1, 1, D("10000")), TierInput(2, "二等奖", 2, 1, D("5000"))]
    allocation = allocate_tiers(standings_of("90", "90", "80"), tiers)
    assert [(a.entry_id, a.tier_name) for a in allocation.awards] == [(1, "一等奖"), (2, "一等奖")]
    assert allocation.tiers[0].tied_entries == (1, 2)
    assert allocation.tiers[1].holders == () and allocation.tiers[1].shortfall == 1
    assert allocation.no_award == (3,)


# ------------------------------------------------------------------ special awards


def test_student_teams_that_reached_the_semi_final_each_get_2000():
    # 学生团队优秀奖: 20 student teams reached 复赛 (semi); 5 other teams reached it too but
    # are not student teams; 3 student teams stopped at 初赛. 20 × ¥2,000 = ¥40,000.
    entries = [
        SpecialEntry(n, True, frozenset({"prelim", "semi"}), "angel" if n % 2 else "growth")
        for n in range(1, 21)
    ]
    entries += [SpecialEntry(n, False, frozenset({"prelim", "semi"})) for n in range(21, 26)]
    entries += [SpecialEntry(n, True, frozenset({"prelim"})) for n in range(26, 29)]
    award = SpecialInput(7, "学生团队优秀奖", "student_team_reached:semi", D("2000"))
    rows = apply_special_awards(entries, [award])
    assert [r.entry_id for r in rows] == list(range(1, 21))
    assert {r.name for r in rows} == {"学生团队优秀奖"}
    totals = prize_totals(rows)
    assert totals.count == 20
    assert totals.overall == D("40000")
    assert totals.by_group == {"angel": D("20000"), "growth": D("20000")}


def test_an_unknown_special_rule_is_refused_by_name():
    entries = [SpecialEntry(1, True, frozenset({"semi"}))]
    with pytest.raises(ValueError, match="student_team_won:final"):
        apply_special_awards(entries, [SpecialInput(1, "冠军", "student_team_won:final", D("1"))])
    with pytest.raises(ValueError, match="student_team_reached:'"):
        parse_special_rule("student_team_reached:")
    assert parse_special_rule(" student_team_reached: semi ") == ("student_team_reached", "semi")


def test_an_entry_holds_one_tier_award_plus_special_awards():
    standings = standings_of("99", "95")
    allocation = allocate_tiers(standings, TIERS, group_code="angel")
    specials = apply_special_awards(
        [SpecialEntry(1, True, frozenset({"semi"}), "angel")],
        [
            SpecialInput(1, "学生团队优秀奖", "student_team_reached:semi", D("2000")),
            SpecialInput(2, "最佳路演奖", "student_team_reached:semi", D("500")),
        ],
    )
    rows = prize_rows([allocation], specials)
    assert sorted((r.entry_id, r.award_name) for r in rows) == [
        (1, "一等奖"),
        (1, "学生团队优秀奖"),
        (1, "最佳路演奖"),
        (2, "二等奖"),
    ]
    # 10,000 + 2,000 + 500 + 5,000
    assert prize_totals(rows).overall == D("17500")


def test_prize_totals_refuse_floats():
    with pytest.raises(TypeError):
        prize_totals([PrizeRow("angel", 1, "一等奖", 0.1)])  # type: ignore[arg-type]


# ------------------------------------------------------------------ snapshots


def test_content_hash_is_sha256_of_canonical_json():
    payload = {"b": D("1.5"), "a": [1, "一等奖", None, True]}
    text = '{"a":[1,"一等奖",null,true],"b":"1.50"}'
    assert canonical_json(payload) == text
    assert content_hash(payload) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    # key order does not matter; a weight with 3 places keeps them
    assert content_hash({"a": [1, "一等奖", None, True], "b": D("1.50")}) == content_hash(payload)
    assert canonical_json({"w": D("0.125")}) == '{"w":"0.125"}'
    with pytest.raises(TypeError):
        content_hash({"score": 85.5})


def results(*totals: str, rule: str = "trimmed"):
    """A snapshot payload for one group with 2 tiers and a special award to A-001."""
    standings = standings_of(*totals)
    tiers = TIERS[:2]
    specials = apply_special_awards(
        [SpecialEntry(1, True, frozenset({"semi"}), "angel")],
        [SpecialInput(1, "学生团队优秀奖", "student_team_reached:semi", D("2000"))],
    )
    return snapshot_payload(
        rules={"rule": rule, "trim": 1, "weights": {"semi": D("0.3"), "final": D("0.7")}},
        standings={"angel": standings},
        advancement={"angel": propose_advancement(standings, quota=2)},
        tiers={"angel": allocate_tiers(standings, tiers, group_code="angel")},
        specials=specials,
    )


def test_snapshot_records_each_entrys_outcome():
    payload = results("90", "85", "80")
    assert payload["entries"]["1"] == {
        "code": "A-001",
        "group": "angel",
        "rank": 1,
        "score": "90.00",
        "tied": False,
        "advanced": True,
        "tier": "一等奖",
        "specials": ["学生团队优秀奖"],
        "prize": "12000.00",
    }
    assert payload["entries"]["3"]["advanced"] is False
    # 10,000 + 5,000 + 5,000 (二等奖 ×2) + 2,000
    assert payload["prize_totals"] == {"by_group": {"angel": "22000.00"}, "overall": "22000.00"}
    assert content_hash(payload) == content_hash(results("90", "85", "80"))


def test_snapshot_diff_lists_what_changed():
    old = results("90", "85", "80")
    new = results("90", "79", "80", rule="median")  # A-002 drops below A-003
    diff = diff_snapshots(old, new)
    assert content_hash(old) != content_hash(new)
    assert [(c.code, c.kind) for c in diff.entries] == [("A-002", "changed"), ("A-003", "changed")]
    a002 = diff.entries[0]
    assert [(c.field, c.old, c.new) for c in a002.changes] == [
        ("rank", 2, 3),
        ("score", "85.00", "79.00"),
        ("advanced", True, False),
    ]
    assert (
        a002.describe() == "A-002 changed: rank 2 → 3, score 85.00 → 79.00, advanced True → False"
    )
    assert [(c.field, c.old, c.new) for c in diff.rules] == [("rule", "trimmed", "median")]
    assert not diff_snapshots(old, results("90", "85", "80"))


def test_snapshot_diff_sees_added_and_removed_entries():
    old = results("90", "85")
    new = results("90", "85", "70")
    (added,) = diff_snapshots(old, new).entries
    assert (added.entry_id, added.kind) == (3, "added")
    (removed,) = diff_snapshots(new, old).entries
    assert (removed.entry_id, removed.kind) == (3, "removed")


# ------------------------------------------------------------------ properties

totals_lists = st.lists(st.none() | st.integers(0, 6).map(str), min_size=0, max_size=12)
tier_lists = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 100).map(lambda k: Decimal(k) * 50)),
    min_size=0,
    max_size=4,
)


@FAST
@given(totals_lists, tier_lists)
def test_no_tier_holds_more_than_its_quota_unless_a_flagged_tie_says_why(totals, tier_specs):
    standings = standings_of(*totals)
    tiers = [
        TierInput(100 + i, f"T{i}", i, quota, prize) for i, (quota, prize) in enumerate(tier_specs)
    ]
    allocation = allocate_tiers(standings, tiers)
    rank_of = {s.entry_id: s.rank for s in standings}
    sharing = {}
    for s in standings:
        sharing.setdefault(s.rank, []).append(s.entry_id)
    for fill in allocation.tiers:
        if len(fill.holders) <= fill.quota:
            assert not fill.is_flagged
            continue
        assert fill.is_flagged
        tied = fill.tied_entries
        assert set(tied) <= set(fill.holders)
        assert {rank_of[e] for e in tied} == {fill.tied_rank}
        assert sorted(tied) == sorted(sharing[fill.tied_rank])  # the whole tie, not a part
        assert len(fill.holders) - len(tied) < fill.quota  # the tier was not full without it
    # one tier award at most per entry; exactly the ranked entries within the total quota
    awarded = [a.entry_id for a in allocation.awards]
    assert len(awarded) == len(set(awarded))
    total_quota = sum(t.quota for t in tiers)
    assert sorted(awarded) == sorted(
        s.entry_id for s in standings if s.rank is not None and s.rank <= total_quota
    )
    # a better rank never gets a later tier
    position = {t.tier_id: t.position for t in tiers}
    ordered = sorted(allocation.awards, key=lambda a: a.rank)
    assert [position[a.tier_id] for a in ordered] == sorted(position[a.tier_id] for a in ordered)


@FAST
@given(
    st.lists(
        st.tuples(st.sampled_from(["angel", "growth", "天使组"]), st.integers(0, 10**9)),
        max_size=40,
    )
)
def test_prize_totals_equal_the_sum_of_the_rows(specs):
    rows = [
        PrizeRow(group, n, "奖", Decimal(cents).scaleb(-2))
        for n, (group, cents) in enumerate(specs)
    ]
    totals = prize_totals(rows)
    assert totals.overall == sum((r.prize for r in rows), Decimal(0))
    assert totals.count == len(rows)
    for group in {r.group_code for r in rows}:
        assert totals.by_group[group] == sum(
            (r.prize for r in rows if r.group_code == group), Decimal(0)
        )
        assert totals.count_by_group[group] == sum(1 for r in rows if r.group_code == group)
    assert sum(totals.by_group.values(), Decimal(0)) == totals.overall


@FAST
@given(totals_lists, st.integers(0, 8))
def test_advancement_takes_every_rank_within_the_quota_and_explains_any_excess(totals, quota):
    standings = standings_of(*totals)
    proposal = propose_advancement(standings, quota=quota)
    ranked = [s for s in standings if s.rank is not None]
    assert set(proposal.advancing) == {s.entry_id for s in ranked if s.rank <= quota}
    assert len(proposal.advancing) >= min(quota, len(ranked))
    if len(proposal.advancing) > quota:
        assert 0 < len(proposal.advancing) - quota < len(proposal.cut_tie)
        assert set(proposal.cut_tie) <= set(proposal.advancing)
    assert set(proposal.advancing).isdisjoint(proposal.not_advancing)
    assert len(proposal.advancing) + len(proposal.not_advancing) == len(standings)
