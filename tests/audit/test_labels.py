"""Action and field names in Chinese and English, and old → new as a readable field diff."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask_babel import force_locale

from judging.audit.diff import changes_text, field_changes
from judging.audit.labels import ACTIONS, action_choices, action_label, field_label

PACKAGE = Path(__file__).resolve().parents[2] / "judging"
# Being added in parallel (issue 11): named here before their writers land.


def _recorded_codes() -> set[str]:
    """Every action code the app passes to record() (or to the live room's _changed())."""
    codes: set[str] = set()

    def constants(node) -> list[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.IfExp):
            return constants(node.body) + constants(node.orelse)
        return []

    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            if node.func.id == "record" and node.args:
                codes.update(constants(node.args[0]))
            elif node.func.id == "_changed" and len(node.args) >= 3:
                codes.update(constants(node.args[2]))
    return codes


def test_every_action_the_app_records_has_a_name():
    codes = _recorded_codes()
    assert {"sheet_save", "sheet_submit", "live_timer", "excel_import"} <= codes, codes
    assert codes - set(ACTIONS) == set()
    assert {"results_confirm", "conflict_add", "reveal_withdraw", "sheet_delete"} <= codes


@pytest.mark.parametrize(
    ("code", "zh", "en"),
    [
        ("sheet_reopen", "重新开放评分表", "Sheet reopened"),
        ("sheet_submit", "提交评分表", "Sheet submitted"),
        ("live_reveal", "大屏亮分", "Score revealed on the big screen"),
        ("sheet_delete", "级联变更删除评分表", "Sheet deleted by a cascade"),
        ("conflict_accept", "接受建议回避", "Proposed conflict accepted"),
    ],
)
def test_action_names_in_chinese_and_english(app, code, zh, en):
    with force_locale("zh_CN"):
        assert action_label(code) == zh
    with force_locale("en"):
        assert action_label(code) == en


def test_an_unknown_action_or_field_shows_as_recorded(app):
    assert action_label("made_up_action") == "made_up_action"
    assert field_label("made_up_field") == "made_up_field"


def test_every_action_name_is_translated_and_the_select_is_sorted_by_name(app):
    with force_locale("en"):
        english = dict(action_choices())
    with force_locale("zh_CN"):
        choices = action_choices()
    assert [label for _, label in choices] == sorted(label for _, label in choices)
    assert [code for code, label in choices if label == english[code]] == []


def _lines(old, new, locale="zh_CN") -> list[str]:
    with force_locale(locale):
        return [change.text for change in field_changes(old, new)]


def test_only_the_fields_that_differ_flattened_to_paths(app):
    old = {
        "state": "submitted",
        "comment": "路演清楚",
        "version": 3,
        "points": {"技术与产品": "25.00", "商业模式": "18.50", "团队": "10.00"},
    }
    new = {
        "state": "draft",
        "comment": "路演清楚",
        "version": 4,
        "points": {"技术与产品": "27", "商业模式": "18.5", "团队": "10"},
    }
    assert _lines(old, new) == [
        "状态: 已提交 → 草稿",
        "版本: 3 → 4",
        "得分 › 技术与产品: 25 → 27",
    ]
    assert _lines(old, new, "en") == [
        "State: Submitted → Draft",
        "Version: 3 → 4",
        "Points › 技术与产品: 25 → 27",
    ]


def test_only_new_lists_the_new_values_and_only_old_the_old_ones(app):
    new = {"judge": "张文博", "reason": "同单位", "stage": "final"}
    assert _lines(None, new) == ["评委: 张文博", "原因: 同单位", "赛段: final"]
    assert _lines({"state": "open"}, None) == [f"状态: {_open_title()} → —"]


def _open_title() -> str:
    from judging.common.enums import StageState

    with force_locale("zh_CN"):
        return str(StageState.OPEN.title)


def test_fields_added_or_removed_between_old_and_new(app):
    lines = _lines({"points": {"团队": "8"}}, {"points": {"团队": "8", "财务": "9.5"}, "x": None})
    assert lines == ["得分 › 财务: — → 9.5", "x: — → —"]
    assert _lines({"comment": "旧评语"}, {}) == ["评语: 旧评语 → —"]


def test_lists_nested_dicts_and_values(app):
    new = {
        "judges": ["张文博", "李敏", "王强"],
        "cut_ties": {"angel": ["A-007", "A-012"]},
        "totals": ["88.00", "90.50"],
        "created": {"entries": 116, "judges": 29},
        "phase": "pitch",
        "kind": "contest",
        "student": True,
        "empty": [],
        "memo": "",
    }
    assert _lines(None, new) == [
        "评委: 张文博、李敏、王强",
        "晋级线并列 › angel: A-007、A-012",
        "各评分表总分: 88、90.5",
        "新建 › 项目: 116",
        "新建 › 评委: 29",
        "环节: 路演",
        "已导入: 赛事工作簿",
        "student: 是",
        "empty: —",
        "memo: —",
    ]


def test_a_value_that_is_not_a_dict(app):
    assert _lines(None, ["a", "b"]) == ["值: a、b"]
    assert _lines("old", "new") == ["值: old → new"]
    assert _lines({"a": 1}, {"a": 1}) == []


def test_the_text_form_is_one_line_per_change(app):
    with force_locale("zh_CN"):
        text = changes_text(field_changes({"version": 1}, {"version": 2, "comment": "好"}))
    assert text == "版本: 1 → 2\n评语: — → 好"


def test_recorded_codes_shown_by_name_when_names_are_given(app):
    names = {"stage": {"semi": "复赛"}, "into": {"final": "决赛"}}
    with force_locale("zh_CN"):
        changes = field_changes(
            None, {"stage": "semi", "into": "final", "advancing": 22}, names=names
        )
    assert [c.text for c in changes] == ["赛段: 复赛", "晋级至: 决赛", "晋级项目数: 22"]
