"""Importing valid files: what gets written, that the same file twice changes nothing, that
existing rows change only when asked, and that score rows bring their assignments."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from judging.auth.models import User
from judging.common.audit import AuditEvent
from judging.common.enums import Role, SheetState
from judging.contests.models import AdvanceQuota, Contest, Criterion
from judging.contests.versions import data_version
from judging.entries.models import Entry, Participation
from judging.extensions import db
from judging.imports.problems import ImportRejected
from judging.imports.service import import_workbook
from judging.judges.models import Assignment, Judge
from judging.scoring.models import Score, ScoreSheet
from judging.standings.groups import group_standings
from tests.exports.conftest import counts, xlsx
from tests.fixtures.excel.make_bad_files import BASE, SLUG, base_contest


def test_the_base_contest_is_built_from_its_workbook(base):
    assert [g.code for g in base.groups] == ["angel", "growth"]
    assert [(s.code, s.position, str(s.rule)) for s in base.stages] == [
        ("prelim", 1, "trimmed"),
        ("final", 2, "mean"),
    ]
    prelim = base.stage("prelim")
    quotas = db.session.execute(
        sa.select(AdvanceQuota.quota).where(AdvanceQuota.stage_id == prelim.id)
    ).scalars()
    assert sorted(quotas) == [1, 1]
    assert [(c.name, c.max_points) for c in prelim.rubric(base.group("angel"))] == [
        ("技术", Decimal("30")),
        ("团队", Decimal("20")),
    ]
    # Judges get accounts without a password: they sign in with a one-time link.
    zhang = db.session.scalar(sa.select(User).where(User.username == "zhang"))
    assert zhang.role == Role.JUDGE and zhang.password_hash is None
    # Three score rows: three submitted sheets and the assignments they imply.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScoreSheet)) == 3
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 3
    a001 = db.session.scalar(sa.select(Entry).where(Entry.code == "A-001"))
    standings = group_standings(prelim, base.group("angel"))
    row = next(r for r in standings.rows if r.code == "A-001")
    # Two sheets (25 + 15.5 and 22 + 16): fewer than 5, so the plain mean of 40.5 and 38.
    assert row.score == Decimal("39.25") and row.entry_id == a001.id


def test_the_same_file_twice_changes_nothing(base):
    before = counts()
    version = data_version(base.id)
    result = import_workbook(data=base_contest(), kind="contest")
    db.session.commit()
    assert not result.changed
    assert result.unchanged["entries"] == 3 and result.unchanged["sheets"] == 3
    assert counts() == before
    assert data_version(base.id) == version


def test_an_import_is_audited_and_moves_the_data_version(base):
    version = data_version(base.id)
    data = xlsx({"项目": [BASE["项目"][0], ["A-010", "新项目", "angel", None, None, "否", None]]})
    import_workbook(data=data, kind="entries", contest=base, user_id=None, filename="new.xlsx")
    db.session.commit()
    assert data_version(base.id).contest == version.contest + 1
    event = db.session.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.action == "excel_import")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    assert event.new["kind"] == "entries" and event.new["file"] == "new.xlsx"
    assert event.new["created"] == {"entries": 1}


def test_a_differing_row_changes_only_when_asked(base):
    data = xlsx({"项目": [["编号", "项目名称", "组别"], ["A-002", "海洋微塑料快速检测", "angel"]]})
    with pytest.raises(ImportRejected) as caught:
        import_workbook(data=data, kind="entries", contest=base)
    db.session.rollback()
    assert caught.value.problems[0].code == "duplicate_in_database"
    result = import_workbook(data=data, kind="entries", contest=base, update=True)
    db.session.commit()
    assert result.updated == {"entries": 1}
    entry = db.session.scalar(sa.select(Entry).where(Entry.code == "A-002"))
    # Only the columns the file has change: the organization stays.
    assert (entry.title, entry.organization) == ("海洋微塑料快速检测", "大连海洋大学")


def test_a_dry_run_writes_nothing(base):
    before = counts()
    data = xlsx({"项目": [["编号", "项目名称", "组别"], ["A-011", "x", "angel"]]})
    result = import_workbook(data=data, kind="entries", contest=base, dry_run=True)
    db.session.rollback()
    assert result.created == {"entries": 1}
    assert counts() == before


def test_judges_are_matched_by_username_or_name_and_get_accounts(base):
    data = xlsx(
        {
            "评委": [
                ["用户名", "姓名", "职称", "专业领域"],
                ["zhang", "张文博", "教授", "物联网、大数据"],  # unchanged
                [None, "李静怡", None, "大数据"],  # matched by name (li)
                [None, "王建国", "研究员", "物联网"],  # new: a username is made up
            ]
        }
    )
    result = import_workbook(data=data, kind="judges", contest=base, update=True)
    db.session.commit()
    assert result.created == {"users": 1, "judges": 1}
    wang = db.session.scalar(sa.select(Judge).where(Judge.name == "王建国"))
    assert wang.user.username == f"{SLUG}-judge01"
    assert [f.name for f in wang.expertise] == ["物联网"]
    li = db.session.scalar(sa.select(Judge).where(Judge.name == "李静怡"))
    assert li.user.username == "li" and li.title == ""
    # Imported again: the made-up username is found by the name.
    again = import_workbook(data=data, kind="judges", contest=base)
    assert not again.changed


def test_paper_score_sheets_for_one_stage(base):
    data = xlsx(
        {
            "评分表": [
                ["决赛评分汇总"],
                ["评委", "编号", "路演", "备注", "状态"],
                ["zhang", "A-001", "８８", "现场表现好", "已提交"],
                ["li", "A-002", 90, None, "草稿"],
                ["张文博", "A-002", None, None, "draft"],
            ]
        }
    )
    result = import_workbook(data=data, kind="scores", contest=base, stage_code="决赛")
    db.session.commit()
    assert result.created == {"assignments": 3, "sheets": 3}
    final = base.stage("final")
    sheets = db.session.scalars(sa.select(ScoreSheet).where(ScoreSheet.stage_id == final.id)).all()
    states = sorted((s.judge.user.username, s.entry.code, str(s.state)) for s in sheets)
    assert states == [
        ("li", "A-002", "draft"),
        ("zhang", "A-001", "submitted"),
        ("zhang", "A-002", "draft"),
    ]
    submitted = next(s for s in sheets if s.state == SheetState.SUBMITTED)
    assert submitted.submitted_at is not None and submitted.comment == "现场表现好"
    assert [sc.points for sc in submitted.scores] == [Decimal("88")]
    # A001 now takes part in the final: it was advanced into it, as the demo loader does.
    a001 = db.session.scalar(sa.select(Entry).where(Entry.code == "A-001"))
    advanced = db.session.scalars(
        sa.select(Participation.stage_id).where(Participation.entry_id == a001.id)
    ).all()
    assert final.id in advanced
    # Drafts may be completed by a later file with the update flag; submitted ones may not.
    done = xlsx({"评分": [["赛段", "评委", "编号", "路演"], ["final", "li", "A-002", 91]]})
    import_workbook(data=done, kind="scores", contest=base, update=True)
    db.session.commit()
    sheet = db.session.scalar(
        sa.select(ScoreSheet)
        .join(Judge, Judge.id == ScoreSheet.judge_id)
        .where(ScoreSheet.stage_id == final.id, Judge.name == "李静怡")
    )
    assert (sheet.state, sheet.version, [s.points for s in sheet.scores]) == (
        SheetState.SUBMITTED,
        2,
        [Decimal("91")],
    )
    assert (
        db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "sheet_import")).old[
            "state"
        ]
        == "draft"
    )


def test_a_row_for_another_stage_than_the_import_is_refused(base):
    data = xlsx({"评分": [["赛段", "评委", "编号", "路演"], ["prelim", "zhang", "A-002", 20]]})
    with pytest.raises(ImportRejected) as caught:
        import_workbook(data=data, kind="scores", contest=base, stage_code="final")
    assert caught.value.problems[0].code == "stage_mismatch"


def test_a_rubric_with_sheets_cannot_change(base):
    changed = [row[:] for row in BASE["评分项"]]
    changed[1][4] = 40  # prelim · angel · 技术: 30 → 40, but sheets exist
    data = xlsx({**BASE, "评分项": changed})
    with pytest.raises(ImportRejected) as caught:
        import_workbook(data=data, kind="contest", update=True)
    db.session.rollback()
    [problem] = caught.value.problems
    assert (problem.code, problem.sheet, problem.row, problem.column) == (
        "rubric_locked",
        "评分项",
        2,
        "E",
    )
    criterion = db.session.scalar(sa.select(Criterion).where(Criterion.name == "技术"))
    assert criterion.max_points == Decimal("30")


def test_a_contest_workbook_cannot_be_uploaded_into_another_contest(base):
    other = Contest(slug="other", name="Other", year=2024)
    db.session.add(other)
    db.session.commit()
    with pytest.raises(ImportRejected) as caught:
        import_workbook(data=base_contest(), kind="contest", contest=other)
    assert [(p.code, p.sheet, p.column) for p in caught.value.problems] == [
        ("slug_mismatch", "赛事", "C")
    ]


def test_scores_need_every_criterion_only_when_submitted(base):
    data = xlsx(
        {
            "评分": [
                ["赛段", "评委", "编号", "技术", "团队", "状态"],
                ["prelim", "li", "A-002", 20, None, "草稿"],
            ]
        }
    )
    import_workbook(data=data, kind="scores", contest=base)
    db.session.commit()
    sheet = db.session.scalar(sa.select(ScoreSheet).where(ScoreSheet.state == SheetState.DRAFT))
    assert db.session.scalar(sa.select(sa.func.count()).where(Score.sheet_id == sheet.id)) == 1
