"""Issue 11, published means frozen: an import cannot change a published stage's results,
nor move any stage through its states (that is the workflow's), and writes nothing when
refused. A stage created already published arrives frozen and published."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from judging.awards import workflow
from judging.contests.queries import get_contest
from judging.extensions import db
from judging.imports.problems import ImportRejected
from judging.imports.service import import_workbook
from judging.seed import load_demo
from tests.conftest import database_state, give_every_organizer
from tests.exports.conftest import xlsx

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"


@pytest.fixture
def demo(app, english):
    load_demo(SEED_DIR)
    db.session.commit()
    give_every_organizer("dalian-2020")
    return get_contest("dalian-2020")


def _refused(data: bytes, contest, kind: str, **kw) -> list:
    before = database_state()
    with pytest.raises(ImportRejected) as err:
        import_workbook(data=data, kind=kind, contest=contest, update=True, **kw)
    db.session.rollback()
    assert database_state() == before
    return err.value.problems


def _unscored_prelim_pair(contest) -> tuple[str, str]:
    """A judge username and an entry code with no prelim sheet between them."""
    from judging.judges.models import Judge
    from judging.scoring.models import ScoreSheet

    prelim = contest.stage("prelim")
    scored = set(
        db.session.execute(
            sa.select(ScoreSheet.judge_id, ScoreSheet.entry_id).where(
                ScoreSheet.stage_id == prelim.id
            )
        ).all()
    )
    judge = db.session.scalar(sa.select(Judge).where(Judge.contest_id == contest.id))
    entry = next(e for e in contest.entries if (judge.id, e.id) not in scored)
    return judge.user.username, entry.code


def test_a_score_sheet_for_a_published_stage_is_refused(demo):
    judge, code = _unscored_prelim_pair(demo)
    rubric = [c.name for c in demo.stage("prelim").rubric(demo.group("angel"))]
    data = xlsx({"评分": [["赛段", "评委", "编号", *rubric], ["prelim", judge, code, *[1] * 5]]})
    problems = _refused(data, demo, "scores")
    assert [p.code for p in problems] == ["stage_published"]
    assert "初赛 is published" in problems[0].reason


def test_an_assignment_in_a_published_stage_is_refused(demo):
    judge, code = _unscored_prelim_pair(demo)
    data = xlsx(
        {
            "赛事": [["名称", "年份", "标识"], [demo.name, demo.year, demo.slug]],
            "分配": [["赛段", "评委", "编号"], ["prelim", judge, code]],
        }
    )
    problems = _refused(data, demo, "contest")
    assert "stage_published" in [p.code for p in problems]


def test_a_stage_state_is_never_changed_by_an_import(demo):
    stage = demo.stage("final")
    data = xlsx(
        {
            "赛事": [["名称", "年份", "标识"], [demo.name, demo.year, demo.slug]],
            "赛段": [
                ["顺序", "代码", "名称", "状态"],
                [stage.position, "final", stage.name, "已公布"],
            ],
        }
    )
    problems = _refused(data, demo, "contest")
    assert [p.code for p in problems] == ["state_by_workflow"]


def test_an_entry_of_a_published_stage_keeps_its_group_and_status(demo):
    data = xlsx(
        {
            "项目": [
                ["编号", "项目名称", "组别", "状态"],
                ["A-001", demo.entries[0].title, "成长组", "已报名"],
            ]
        }
    )
    problems = _refused(data, demo, "entries")
    assert [p.code for p in problems] == ["entry_published"]


def test_a_binding_conflict_over_a_published_sheet_is_refused(demo):
    from judging.scoring.models import ScoreSheet

    sheet = db.session.scalar(
        sa.select(ScoreSheet).where(ScoreSheet.stage_id == demo.stage("prelim").id).limit(1)
    )
    data = xlsx(
        {
            "赛事": [["名称", "年份", "标识"], [demo.name, demo.year, demo.slug]],
            "回避": [
                ["评委", "编号", "原因"],
                [sheet.judge.user.username, sheet.entry.code, "亲属"],
            ],
        }
    )
    problems = _refused(data, demo, "contest")
    assert [p.code for p in problems] == ["conflict_published"]


def test_re_importing_the_demo_export_changes_nothing_even_when_published(demo):
    from judging.exports import files

    data = files.contest_workbook(demo, lang="zh_CN", tz="Asia/Shanghai")
    assert not import_workbook(data=data, kind="contest", contest=demo, update=True).changed
    assert workflow.current_publication(demo.stage("prelim")) is not None
