"""Blank templates of the contest workbook and of each single sheet: a line of instructions,
the header (in the reader's language) and example rows, plus a guide to every column.

Each sheet's first column (示例行 / example row) marks its example rows with 示例 / EXAMPLE,
and an import refuses a row so marked: an untouched template cannot pass for real data.
The mark is a cell value because styles do not survive people's spreadsheets (LibreOffice
drops named styles, a copied format spreads the grey italics); a real row leaves it blank.
"""

from __future__ import annotations

from flask_babel import gettext as _

from judging.common.enums import SheetState
from judging.exports.formats import headers_of, yes_no
from judging.exports.workbook import Sheet, Styled
from judging.imports import spec as vocab
from judging.imports.spec import EXAMPLE, SheetSpec, example_mark

EXAMPLE_RUBRIC = [("技术与产品", "30"), ("商业模式", "20"), ("行业与市场", "20"), ("团队", "30")]


def _examples(lang: str) -> dict[str, list[list]]:
    zh = lang.startswith("zh")
    c = vocab
    return {
        "contest": [
            [
                "2024年某某创新创业大赛",
                2024,
                "demo-2024",
                "某某大学",
                c.CONTEST_STATUS.label(c.CONTEST_STATUS.enum.SETUP, lang),
            ]
        ],
        "groups": [["angel", "天使组"], ["growth", "成长组"]],
        "fields": [["物联网"], ["大数据"]],
        "stages": [
            [
                1,
                "prelim",
                "初赛",
                c.STAGE_KIND.label(c.STAGE_KIND.enum.ONLINE, lang),
                5,
                c.RULE.label(c.RULE.enum.TRIMMED, lang),
                1,
                5,
                "angel:24、growth:20",
                None,
                None,
                None,
                8,
                7,
            ],
            [
                2,
                "final",
                "决赛",
                c.STAGE_KIND.label(c.STAGE_KIND.enum.ROADSHOW, lang),
                9,
                c.RULE.label(c.RULE.enum.TRIMMED, lang),
                1,
                5,
                None,
                None,
                None,
                None,
                8,
                7,
            ],
        ],
        "criteria": [
            [stage, "angel", n, name, top, "0.5", "评分说明" if zh else "What the judges look at"]
            for stage in ("prelim", "final")
            for n, (name, top) in enumerate(EXAMPLE_RUBRIC, 1)
        ],
        "awards": [
            ["final", "angel", 1, "一等奖", 1, "50000"],
            ["final", "angel", 2, "二等奖", 2, "30000"],
        ],
        "special_awards": [["学生团队优秀奖", "student_team_reached:final", "2000"]],
        "entries": [
            [
                "A-001",
                "示例项目",
                "天使组",
                "物联网",
                "示例大学",
                "张三",
                yes_no(True, lang),
                "13800000000",
                "a-001@example.com",
                "一句话介绍项目" if zh else "One line about the project",
                None,
                None,
            ]
        ],
        "judges": [
            ["李四", "judge01", "示例研究院", "教授", "物联网、大数据", "judge01@example.com"],
            ["王五", "judge02", "示例大学", "副教授", "大数据", "judge02@example.com"],
        ],
        "conflicts": [["judge02", "A-001", "同单位" if zh else "same organization", None, None]],
        "assignments": [["prelim", "judge01", "A-001"]],
    }


def _instructions(spec: SheetSpec, lang: str) -> str:
    required = "、".join(c.label(lang) for c in spec.required)
    return _(
        "Fill in from the row below the header and delete the example rows, marked in the "
        "first column (%(mark)s): a file that still has one is refused. Leave that column "
        "blank on your own rows. Required columns: %(columns)s. Chinese or English headers, "
        "in any order.",
        mark=EXAMPLE.label(lang),
        columns=required,
    )


def template_sheets(
    kind: str, *, lang: str, stage_names: list[str] | None = None, stage_code: str = ""
) -> list[Sheet]:
    """A blank template: for "contest" every sheet, else the one sheet of entries, judges or
    score sheets; each with a line of instructions, the header and marked example rows."""
    examples = _examples(lang)
    if kind == "contest":
        specs = list(vocab.CONTEST_WORKBOOK)
        sheets = [guide_sheet(lang)]
    else:
        specs = [vocab.SHEETS[kind]]
        sheets = []
    for spec in specs:
        if spec is vocab.SCORES:
            names = stage_names or [name for name, _ in EXAMPLE_RUBRIC]
            after = ["comment", "state", "submitted_at"]
            header = (
                headers_of(spec, lang, ["stage", "judge", "entry"])
                + names
                + headers_of(spec, lang, after)
            )
            example = [stage_code or "prelim", "judge01", "A-001"]
            example += ["25" if n == 0 else None for n in range(len(names))]
            example += ["", vocab.SHEET_STATE.label(SheetState.DRAFT, lang), None]
            rows = [example]
        else:
            header = headers_of(spec, lang)
            rows = examples[spec.key]
        mark = Styled(example_mark(lang), "note")
        sheets.append(
            Sheet(
                spec.label(lang),
                [EXAMPLE.label(lang), *header],
                [
                    [mark, *(Styled(v, "note") if v is not None else None for v in row)]
                    for row in rows
                ],
                title_lines=[_instructions(spec, lang)],
                landscape=False,
            )
        )
    return sheets


def guide_sheet(lang: str) -> Sheet:
    """说明: what each sheet and column of the contest workbook means."""
    rows = []
    for spec in vocab.CONTEST_WORKBOOK:
        for column in spec.columns:
            rows.append(
                [
                    spec.label(lang),
                    column.label(lang),
                    _("required") if column.required else _("optional"),
                    f"{column.zh} / {column.en}",
                ]
            )
    return Sheet(
        _("Guide"),
        [_("Sheet"), _("Column"), _("Required"), _("Accepted headers")],
        rows,
        title_lines=[
            _(
                "One workbook describes a whole contest. Group and stage cells take the code "
                "or the name; yes/no cells take 是/否, yes/no, 1/0; a stage's score rows imply "
                "the assignments they need."
            ),
            _(
                "The example rows of every sheet are marked in its first column (%(mark)s): a "
                "file that still has one is refused. Delete them, or replace them with your "
                "data and clear the mark.",
                mark=EXAMPLE.label(lang),
            ),
        ],
        landscape=False,
    )
