"""The Excel commands: import-contest, import-entries, import-judges, import-scores, export
and excel-template; errors as a table on standard error and a non-zero exit status."""

from __future__ import annotations

import sqlalchemy as sa

from judging.common.enums import StageState
from judging.contests.queries import get_contest
from judging.entries.models import Entry
from judging.extensions import db
from judging.scoring.models import ScoreSheet
from tests.exports.conftest import counts, read, xlsx
from tests.fixtures.excel.make_bad_files import BASE, SLUG, base_contest


def test_import_contest_then_again(runner, tmp_path):
    path = tmp_path / "contest.xlsx"
    path.write_bytes(base_contest())
    result = runner.invoke(args=["import-contest", str(path), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Imported contest.xlsx → fixture-2024" in result.output
    assert "entries 3" in result.output
    assert get_contest(SLUG) is not None
    before = counts()
    result = runner.invoke(args=["import-contest", str(path), "--lang", "en"])
    assert result.exit_code == 0 and "unchanged:" in result.output and "added" not in result.output
    assert counts() == before


def test_import_errors_print_a_table_and_exit_non_zero(base, runner, tmp_path, bad_files):
    before = counts()
    result = runner.invoke(
        args=[
            "import-entries",
            "--contest",
            SLUG,
            str(bad_files["unknown_group.xlsx"]),
            "--lang",
            "en",
        ]
    )
    assert result.exit_code == 1
    lines = result.stderr.splitlines() if hasattr(result, "stderr") else result.output.splitlines()
    assert lines[0].split() == ["Sheet", "Row", "Column", "Value", "Reason"]
    assert lines[1].split()[:5] == ["项目", "2", "C", "组别", "老年组"]
    assert "nothing was written" in result.output
    result = runner.invoke(
        args=["import-entries", "--contest", SLUG, str(bad_files["zip_bomb.xlsx"]), "--lang", "en"]
    )
    assert result.exit_code == 1 and "refused" in result.output
    assert counts() == before


def test_import_entries_judges_and_scores(base, runner, tmp_path):
    entries = tmp_path / "entries.xlsx"
    entries.write_bytes(xlsx({"项目": [BASE["项目"][0], ["A-030", "新", "angel"]]}))
    judges = tmp_path / "judges.xlsx"
    judges.write_bytes(xlsx({"评委": [["姓名", "用户名"], ["赵六", "zhao"]]}))
    scores = tmp_path / "scores.xlsx"
    scores.write_bytes(xlsx({"评分": [["评委", "编号", "路演"], ["zhao", "A-030", 60]]}))
    for args in (
        ["import-entries", "--contest", SLUG, str(entries)],
        ["import-judges", "--contest", SLUG, str(judges)],
        ["import-scores", "--contest", SLUG, "--stage", "final", str(scores)],
    ):
        result = runner.invoke(args=[*args, "--lang", "en"])
        assert result.exit_code == 0, result.output
    final = get_contest(SLUG).stage("final")
    assert db.session.scalar(sa.select(sa.func.count()).where(ScoreSheet.stage_id == final.id)) == 1
    result = runner.invoke(
        args=["import-scores", "--contest", SLUG, "--stage", "semi", str(scores), "--lang", "en"]
    )
    assert result.exit_code == 1 and "Unknown stage" in result.output


def test_dry_run_writes_nothing(base, runner, tmp_path):
    path = tmp_path / "entries.xlsx"
    path.write_bytes(xlsx({"项目": [BASE["项目"][0], ["A-031", "新", "angel"]]}))
    result = runner.invoke(args=["import-entries", "--contest", SLUG, str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(Entry).where(Entry.code == "A-031")) is None


def test_export_whole_stage_and_public(base, runner, tmp_path):
    out = tmp_path / "all.xlsx"
    result = runner.invoke(args=["export", "--contest", SLUG, "-o", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "entries" in read(out.read_bytes()).sheetnames
    out = tmp_path / "prelim.xlsx"
    result = runner.invoke(args=["export", "--contest", SLUG, "--stage", "prelim", "-o", str(out)])
    assert result.exit_code == 0 and out.stat().st_size > 0
    result = runner.invoke(
        args=["export", "--contest", SLUG, "--stage", "prelim", "--public", "-o", str(out)]
    )
    assert result.exit_code != 0  # not published yet
    get_contest(SLUG).stage("prelim").state = StageState.PUBLISHED
    db.session.commit()
    result = runner.invoke(
        args=["export", "--contest", SLUG, "--stage", "prelim", "--public", "-o", str(out)]
    )
    assert result.exit_code == 0
    result = runner.invoke(args=["export", "--contest", "nope", "-o", str(out)])
    assert result.exit_code != 0 and "no contest" in result.output


def test_excel_template(base, runner, tmp_path):
    out = tmp_path / "t.xlsx"
    result = runner.invoke(
        args=["excel-template", "scores", "--contest", SLUG, "--stage", "final", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    ws = read(out.read_bytes())["评分"]
    assert [c.value for c in ws[2]][:5] == ["示例行", "赛段", "评委", "编号", "路演"]


def test_an_untouched_template_is_refused_by_every_import_command(base, runner, tmp_path):
    before = counts()
    for kind, args in (
        ("contest", ["import-contest"]),
        ("contest", ["import-contest", "--dry-run"]),
        ("entries", ["import-entries", "--contest", SLUG]),
        ("judges", ["import-judges", "--contest", SLUG, "--dry-run"]),
        ("scores", ["import-scores", "--contest", SLUG, "--stage", "prelim"]),
    ):
        path = tmp_path / f"template-{kind}.xlsx"
        assert runner.invoke(args=["excel-template", kind, "-o", str(path)]).exit_code == 0
        result = runner.invoke(args=[*args, str(path), "--lang", "en"])
        assert result.exit_code == 1, (args, result.output)
        assert "This is an example row of the template" in result.output
        assert "nothing was written" in result.output
    assert counts() == before
