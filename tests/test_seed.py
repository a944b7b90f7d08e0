"""The demo contest: the seed files load, and their numbers obey the contest's rules.

Scores are recomputed here with Decimal, independently of seed/generate.py.
"""

from __future__ import annotations

import filecmp
import importlib.util
import sys
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from judging.auth.models import User
from judging.auth.passwords import verify_password
from judging.common.enums import ConflictStatus, Role, SheetState, StageState
from judging.contests.models import (
    AwardTier,
    Contest,
    ContestOrganizer,
    Criterion,
    SpecialAward,
    Stage,
)
from judging.contests.organizers import contests_for
from judging.entries.models import Entry, Participation
from judging.extensions import db
from judging.judges.models import Assignment, Conflict, Judge
from judging.scoring.models import Score, ScoreSheet
from judging.seed import SeedError, demo_sign_ins, load_demo

SEED_DIR = Path(__file__).resolve().parent.parent / "seed"
HTPO = "特种高性能复合热塑性弹性体HTPO产业化技术研究"
ZKHY = "中科海洋——构筑海洋生物入侵的第一道防线"


@pytest.fixture
def demo(app):
    """The demo loaded into the fresh database; yields the load summary."""
    summary = load_demo(SEED_DIR)
    db.session.commit()
    return summary


def _contest() -> Contest:
    return db.session.scalar(sa.select(Contest).where(Contest.slug == "dalian-2020"))


def _count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _quotas() -> dict[str, dict[str, int]]:
    data = yaml.safe_load((SEED_DIR / "contest.yaml").read_text(encoding="utf-8"))
    return {s["code"]: s["advance"] for s in data["stages"] if s.get("advance")}


def _taking_part(stage: Stage) -> set[int]:
    return set(
        db.session.scalars(sa.select(Assignment.entry_id).where(Assignment.stage_id == stage.id))
    )


def _official_scores(stage: Stage) -> dict[int, Decimal]:
    """Rule 2, from the raw points: submitted, non-conflicted sheets; trimmed mean; half-up."""
    binding = set(
        db.session.execute(
            sa.select(Conflict.judge_id, Conflict.entry_id).where(
                Conflict.status == ConflictStatus.BINDING
            )
        ).all()
    )
    totals: dict[int, Decimal] = defaultdict(Decimal)
    owner: dict[int, tuple[int, int]] = {}
    rows = db.session.execute(
        sa.select(ScoreSheet.id, ScoreSheet.judge_id, ScoreSheet.entry_id, Score.points)
        .join(Score, Score.sheet_id == ScoreSheet.id)
        .where(ScoreSheet.stage_id == stage.id, ScoreSheet.state == SheetState.SUBMITTED)
    )
    for sheet_id, judge_id, entry_id, points in rows:
        assert isinstance(points, Decimal)
        totals[sheet_id] += points
        owner[sheet_id] = (judge_id, entry_id)
    per_entry: dict[int, list[Decimal]] = defaultdict(list)
    for sheet_id, total in totals.items():
        if owner[sheet_id] not in binding:
            per_entry[owner[sheet_id][1]].append(total)
    result = {}
    for entry_id, values in per_entry.items():
        values.sort()
        k = stage.trim if len(values) >= stage.min_sheets_to_trim else 0
        kept = values[k : len(values) - k]
        result[entry_id] = (sum(kept, Decimal(0)) / len(kept)).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    return result


def test_structure(demo):
    """Contest, groups, fields, stages, rubrics of 100, award tiers and the special award."""
    contest = _contest()
    assert contest.name.startswith("甘井子科创中心杯")
    assert contest.year == 2020
    assert "大连理工大学" in contest.organizers and "甘井子区人民政府" in contest.organizers
    assert [g.code for g in contest.groups] == ["angel", "growth"]
    assert [g.name for g in contest.groups] == ["天使组", "成长组"]
    assert {"物联网", "大数据", "新材料", "生物技术"} <= {f.name for f in contest.fields}
    assert [(s.code, s.name) for s in contest.stages] == [
        ("prelim", "初赛"),
        ("semi", "复赛"),
        ("final", "决赛"),
    ]
    assert [s.judges_per_entry for s in contest.stages] == [5, 7, 9]
    assert [s.state for s in contest.stages] == [
        StageState.PUBLISHED,
        StageState.PUBLISHED,
        StageState.OPEN,
    ]
    for stage in contest.stages:
        assert (stage.rule.value, stage.trim, stage.min_sheets_to_trim) == ("trimmed", 1, 5)
        assert stage.advance_quota is None  # per-group quotas live in contest.yaml
        for group in contest.groups:
            rubric = stage.rubric(group)
            assert sum(c.max_points for c in rubric) == Decimal(100)
            assert all(c.step == Decimal("0.5") and c.description for c in rubric)
    assert _quotas() == {"prelim": {"angel": 24, "growth": 20}, "semi": {"angel": 12, "growth": 10}}
    final = contest.stage("final")
    assert (final.pitch_minutes, final.qa_minutes) == (8, 7)
    tiers = db.session.scalars(sa.select(AwardTier).where(AwardTier.stage_id == final.id)).all()
    quota = defaultdict(int)
    for tier in tiers:
        quota[tier.group.code] += tier.quota
        assert isinstance(tier.prize, Decimal) and tier.prize > 0
    assert dict(quota) == {"angel": 12, "growth": 10}
    (special,) = db.session.scalars(sa.select(SpecialAward)).all()
    assert (special.name, special.rule, special.prize) == (
        "学生团队优秀奖",
        "student_team_reached:semi",
        Decimal("2000.00"),
    )


def test_entries_judges_and_accounts(demo):
    """116 entries (64 + 52), 29 judges, the real titles, and working demo sign-ins."""
    contest = _contest()
    split = {g.code: _count(Entry, Entry.group_id == g.id) for g in contest.groups}
    assert split == {"angel": 64, "growth": 52}
    assert demo["entries"] == split and demo["judges"] == 29 and demo["stages"] == 3
    assert _count(Judge, Judge.contest_id == contest.id) == 29
    assert all(1 <= len(j.expertise) <= 3 for j in contest.judges)
    entries = {e.title: e for e in contest.entries}
    assert entries[HTPO].group.code == "growth" and entries[HTPO].field.name == "新材料"
    assert entries[ZKHY].group.code == "angel"
    assert entries[ZKHY].field.name in ("生物技术", "海洋科技")
    assert all(
        e.email.endswith("@example.com") and e.phone.startswith("1380000") for e in contest.entries
    )
    organizer = db.session.scalar(sa.select(User).where(User.username == "organizer"))
    assert organizer.role == Role.ORGANIZER and organizer.display_name == "组委会"
    # the demo organizer runs the demo contest, and it is the only one who does
    assert [c.slug for c in contests_for(organizer)] == [contest.slug]
    assert _count(ContestOrganizer) == 1
    assert _count(User, User.role == Role.JUDGE) == 29
    sign_ins = demo_sign_ins(SEED_DIR)
    assert sign_ins[0] == ("organizer", "organizer", "demo-organizer", "组委会")
    assert ("judge", "judge01", "demo-judge", "张文博") in sign_ins
    # Every account the demo made, and nothing else: the organizer and all 29 judges.
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    assert sorted(username for _, username, _, _ in sign_ins) == sorted(users)
    checked = set()  # one Argon2 check per distinct hash and password (they are slow)
    for role, username, password, name in sign_ins:
        user = users[username]
        assert user.role.value == role and user.display_name == name
        if (user.password_hash, password) not in checked:
            assert verify_password(user.password_hash, password)
            checked.add((user.password_hash, password))


def _participations_by_stage(contest) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for stage_id, entry_id in db.session.execute(
        sa.select(Participation.stage_id, Participation.entry_id)
        .join(Entry, Entry.id == Participation.entry_id)
        .where(Entry.contest_id == contest.id)
    ):
        found.setdefault(stage_id, []).append(entry_id)
    return found


def test_progress_and_student_teams(demo):
    """24 + 20 semi-finalists with 20 student teams, 12 + 10 finalists, participation set."""
    contest = _contest()
    semi, final = contest.stage("semi"), contest.stage("final")
    in_semi, in_final = _taking_part(semi), _taking_part(final)
    assert in_final < in_semi
    entries = {e.id: e for e in contest.entries}

    def per_group(ids: set[int]) -> dict[str, int]:
        return {g.code: sum(entries[i].group_id == g.id for i in ids) for g in contest.groups}

    assert per_group(in_semi) == {"angel": 24, "growth": 20}
    assert per_group(in_final) == {"angel": 12, "growth": 10}
    assert demo["finalists"] == {"angel": 12, "growth": 10}
    assert sum(entries[i].is_student_team for i in in_semi) == 20 == demo["semi_student_teams"]
    assert any(e.is_student_team and e.id not in in_semi for e in entries.values())
    # Recorded per stage: every finalist was advanced into the semi-final and the final.
    advanced = {stage_id: set(ids) for stage_id, ids in _participations_by_stage(contest).items()}
    assert advanced[semi.id] == in_semi and advanced[final.id] == in_final
    assert contest.stages[0].id not in advanced
    titles = {entries[i].title for i in in_final}
    assert {HTPO, ZKHY} <= titles


def test_assignments_and_sheets(demo):
    """Exact panels, no conflicted judge, complete sheets except judge01's in the final."""
    contest = _contest()
    binding = set(
        db.session.execute(
            sa.select(Conflict.judge_id, Conflict.entry_id).where(
                Conflict.status == ConflictStatus.BINDING
            )
        ).all()
    )
    assert 4 <= len(binding) <= 8
    for conflict in db.session.scalars(sa.select(Conflict)):
        assert conflict.judge.organization == conflict.entry.organization
    judge01 = db.session.scalar(sa.select(Judge).join(User).where(User.username == "judge01"))
    for stage in contest.stages:
        pairs = db.session.execute(
            sa.select(Assignment.judge_id, Assignment.entry_id).where(
                Assignment.stage_id == stage.id
            )
        ).all()
        assert not set(pairs) & binding
        per_entry = defaultdict(int)
        for _, entry_id in pairs:
            per_entry[entry_id] += 1
        assert set(per_entry.values()) == {stage.judges_per_entry}
        sheets = {
            (s.judge_id, s.entry_id): s
            for s in db.session.scalars(
                sa.select(ScoreSheet).where(ScoreSheet.stage_id == stage.id)
            )
        }
        assert set(sheets) <= set(pairs)
        for sheet in sheets.values():
            assert sheet.state == SheetState.SUBMITTED
            assert sheet.submitted_at.tzinfo is not None
            assert (sheet.submitted_at.year, sheet.submitted_at.month) == (
                2020,
                {"prelim": 8, "semi": 9, "final": 10}[stage.code],
            )
            rubric = {c.id: c for c in stage.rubric(sheet.entry.group)}
            assert {s.criterion_id for s in sheet.scores} == set(rubric)
            for score in sheet.scores:
                limit = rubric[score.criterion_id]
                assert 0 <= score.points <= limit.max_points
                assert score.points % limit.step == 0
        if stage.code == "final":
            assert sum(j == judge01.id for j, _ in pairs) == 22  # both panels
            assert not any(j == judge01.id for j, _ in sheets)
            assert set(sheets) == {p for p in pairs if p[0] != judge01.id}
            panel = {
                g.code: {j for j, e in pairs if db.session.get(Entry, e).group_id == g.id}
                for g in contest.groups
            }
            assert all(len(p) == 9 for p in panel.values())
            assert panel["angel"] & panel["growth"] == {judge01.id}
        else:
            assert set(sheets) == set(pairs)
            load = defaultdict(int)
            for judge_id, _ in pairs:
                load[judge_id] += 1
            assert len(load) == 29 and max(load.values()) - min(load.values()) <= 1


def test_advancement_follows_the_scores(demo):
    """Each next stage holds exactly the previous stage's top N per group, with a gap."""
    contest = _contest()
    quotas = _quotas()
    for stage_code, next_code in (("prelim", "semi"), ("semi", "final")):
        stage, nxt = contest.stage(stage_code), contest.stage(next_code)
        scores = _official_scores(stage)
        advanced = _taking_part(nxt)
        for group in contest.groups:
            ids = [e.id for e in contest.entries if e.group_id == group.id and e.id in scores]
            ranked = sorted(ids, key=lambda i: scores[i], reverse=True)
            n = quotas[stage_code][group.code]
            assert set(ranked[:n]) == {i for i in advanced if i in set(ids)}
            assert scores[ranked[n - 1]] - scores[ranked[n]] >= Decimal("0.5")
            near = [scores[i] for i in ranked[max(0, n - 3) : n + 3]]
            assert len(set(near)) == len(near)


def test_final_winners_whatever_judge01_enters(demo):
    """Both first-prize entries stay first for any totals judge01 may still enter."""
    contest = _contest()
    final = contest.stage("final")
    scores_now = _official_scores(final)
    totals: dict[int, list[Decimal]] = defaultdict(list)
    for sheet in db.session.scalars(sa.select(ScoreSheet).where(ScoreSheet.stage_id == final.id)):
        totals[sheet.entry_id].append(sheet.total)

    def with_judge01(entry_id: int, total: Decimal) -> Decimal:
        values = sorted([*totals[entry_id], total])
        kept = values[1:-1]  # nine sheets: one highest and one lowest dropped
        return (sum(kept, Decimal(0)) / len(kept)).quantize(Decimal("0.01"), ROUND_HALF_UP)

    for title, group_code in ((HTPO, "growth"), (ZKHY, "angel")):
        winner = next(e for e in contest.entries if e.title == title)
        rivals = [
            e.id
            for e in contest.entries
            if e.group.code == group_code and e.id in totals and e.id != winner.id
        ]
        assert len(totals[winner.id]) == 8 and len(rivals) == (9 if group_code == "growth" else 11)
        worst = with_judge01(winner.id, Decimal(0))
        best_rival = max(with_judge01(r, Decimal(100)) for r in rivals)
        assert worst - best_rival >= 1
        assert scores_now[winner.id] == max(scores_now[i] for i in [winner.id, *rivals])
        assert len({scores_now[i] for i in rivals}) > 1


def test_loading_twice_changes_nothing(demo):
    """A second load reports the same and adds no rows."""
    models = [
        Contest,
        Entry,
        Judge,
        User,
        Stage,
        Criterion,
        AwardTier,
        SpecialAward,
        Conflict,
        Assignment,
        ScoreSheet,
        Score,
    ]
    before = {m.__name__: _count(m) for m in models}
    again = load_demo(SEED_DIR)
    db.session.commit()
    assert again["created"] is False and demo["created"] is True
    assert {k: v for k, v in again.items() if k != "created"} == {
        k: v for k, v in demo.items() if k != "created"
    }
    assert {m.__name__: _count(m) for m in models} == before


def test_generator_reproduces_the_committed_files(tmp_path, capsys):
    """seed/generate.py is deterministic and the committed files are its output."""
    spec = importlib.util.spec_from_file_location("seed_generate", SEED_DIR / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    try:
        spec.loader.exec_module(module)
        module.main(["generate.py", str(tmp_path)])
    finally:
        del sys.modules[spec.name]
    assert "final_growth" in capsys.readouterr().out
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "contest.yaml" in names and "scores.csv" in names
    match, mismatch, errors = filecmp.cmpfiles(SEED_DIR, tmp_path, names, shallow=False)
    assert (mismatch, errors) == ([], []), "run `python seed/generate.py` and commit the result"


def test_loader_refuses_a_conflicted_assignment(app, tmp_path):
    """An assignment against a binding conflict is an error, and nothing is loaded."""
    for path in SEED_DIR.iterdir():
        if path.suffix in (".csv", ".yaml"):
            (tmp_path / path.name).write_bytes(path.read_bytes())
    judge, entry = (
        (SEED_DIR / "conflicts.csv").read_text(encoding="utf-8").split("\n")[1].split(",")[:2]
    )
    with (tmp_path / "assignments.csv").open("a", encoding="utf-8") as fh:
        fh.write(f"prelim,{judge},{entry}\n")
    with pytest.raises(SeedError, match="binding conflict"):
        load_demo(tmp_path)
    db.session.rollback()
    assert _count(Contest) == 0
