"""The Excel audit sheet: the same action names and field diffs as the page, formula-safe."""

from __future__ import annotations

import io

from flask_babel import force_locale
from openpyxl import load_workbook

from judging.common.audit import record
from judging.exports.records import audit_sheet
from judging.exports.workbook import build_workbook
from judging.extensions import db
from tests.conftest import create_contest, create_entry, create_group

INJECTION = '=HYPERLINK("http://x","y")'


def _rows(contest, locale="zh_CN"):
    with force_locale(locale):
        data = build_workbook([audit_sheet(contest, tz="Asia/Shanghai")])
    ws = load_workbook(io.BytesIO(data)).active
    return ws, [[cell for cell in row] for row in ws.iter_rows()]


def test_the_audit_sheet_names_actions_and_lists_changed_fields(app):
    contest = create_contest()
    entry = create_entry(contest, create_group(contest), "A-007")
    record(
        "sheet_reopen",
        contest_id=contest.id,
        entry_id=entry.id,
        object_type="ScoreSheet",
        object_id=5,
        old={"state": "submitted", "version": 2, "points": {"技术与产品": "25.00"}},
        new={"state": "draft", "version": 3, "points": {"技术与产品": "25.00"}},
        reason="录入错误",
    )
    record("judge_links_issued", contest_id=contest.id, new={"judges": ["张文博", "李敏"]})
    db.session.commit()
    ws, rows = _rows(contest)
    header = [c.value for c in rows[0]]
    assert header == ["#", "时间", "操作人", "来源", "操作", "项目", "对象", "变更", "原因"]
    first = [c.value for c in rows[1]]
    assert first[4] == "重新开放评分表" and first[5] == "A-007" and first[6] == "ScoreSheet 5"
    assert first[7] == "状态: 已提交 → 草稿\n版本: 2 → 3" and first[8] == "录入错误"
    assert rows[1][7].alignment.wrap_text, "several changes: one per line, wrapped"
    second = [c.value for c in rows[2]]
    assert second[4] == "签发评委登录链接" and second[7] == "评委: 张文博、李敏"
    _, rows = _rows(contest, "en")
    assert rows[1][4].value == "Sheet reopened" and rows[0][7].value == "Changes"


def test_the_audit_sheet_stores_formula_like_text_as_text(app):
    contest = create_contest()
    record("brand_new", contest_id=contest.id, new={INJECTION: "x"}, reason=INJECTION)
    db.session.commit()
    _, rows = _rows(contest)
    changes, reason = rows[1][7], rows[1][8]
    assert changes.value == f"{INJECTION}: x" and reason.value == INJECTION
    assert changes.data_type == "s" and changes.quotePrefix
    assert reason.data_type == "s" and reason.quotePrefix
    assert rows[1][4].value == "brand_new", "an unknown action: its code"
