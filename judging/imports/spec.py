"""The contest workbook's vocabulary (SPEC § The contest workbook): sheets, columns, choices.

Each sheet and column has a Chinese and an English name; either is accepted on import, in
any order, and exports and templates write the one of the reader's language. A few
columns beyond the SPEC's list (marked "extra") let an export be imported again without
losing what standings depend on: an entry's status and furthest stage, a conflict's status,
a stage's state and threshold.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from judging.common.enums import (
    AggregationRule,
    ConflictSource,
    ConflictStatus,
    ContestStatus,
    EntryStatus,
    SheetState,
    StageKind,
    StageState,
)


@dataclass(frozen=True)
class Column:
    """One column: its key in code, its Chinese and English headers, other accepted headers."""

    key: str
    zh: str
    en: str
    required: bool = False
    aliases: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        """The header to write for a language ("zh…" or anything else for English)."""
        return self.zh if lang.startswith("zh") else self.en


@dataclass(frozen=True)
class SheetSpec:
    """One sheet of the contest workbook."""

    key: str
    zh: str
    en: str
    columns: tuple[Column, ...]
    aliases: tuple[str, ...] = ()
    lookup: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lookup = {}
        for column in self.columns:
            for name in (column.zh, column.en, column.key, *column.aliases):
                lookup[header_key(name)] = column.key
        object.__setattr__(self, "lookup", lookup)

    def label(self, lang: str) -> str:
        """The sheet name to write for a language."""
        return self.zh if lang.startswith("zh") else self.en

    def names(self) -> set[str]:
        """Every accepted sheet name, normalized."""
        return {header_key(n) for n in (self.zh, self.en, self.key, *self.aliases)}

    def column(self, key: str) -> Column:
        """The column with this key."""
        return next(c for c in self.columns if c.key == key)

    @property
    def required(self) -> list[Column]:
        """The columns a header row must have."""
        return [c for c in self.columns if c.required]


def header_key(text: str) -> str:
    """A header or sheet name reduced for matching: NFKC, case-folded, without spaces,
    underscores, hyphens, asterisks or a trailing note in brackets ("学生团队（是/否）")."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    for opening in ("(", "["):
        if opening in text and not text.startswith(opening):
            text = text[: text.index(opening)]
    return "".join(ch for ch in text if not ch.isspace() and ch not in "_-*:·.")


def header_keys(text: str) -> list[str]:
    """The keys a header cell may stand for: itself, and each part of "编号/code"."""
    keys = [header_key(text)]
    normalized = unicodedata.normalize("NFKC", str(text))
    if "/" in normalized:
        keys.extend(header_key(part) for part in normalized.split("/"))
    return [k for k in keys if k]


C = Column

CONTEST = SheetSpec(
    "contest",
    "赛事",
    "contest",
    (
        C("name", "名称", "name", True, ("赛事名称", "contest name")),
        C("year", "年份", "year", True, ("年度",)),
        C("slug", "标识", "slug", True, ("代码", "code")),
        C("organizers", "主办单位", "organizers", aliases=("主办方", "organizer")),  # extra
        C("status", "状态", "status"),  # extra
    ),
    ("大赛",),
)
GROUPS = SheetSpec(
    "groups",
    "组别",
    "groups",
    (
        C("code", "代码", "code", True, ("编号", "组别代码")),
        C("name", "名称", "name", True, ("组别", "组别名称", "group")),
    ),
    ("group",),
)
FIELDS = SheetSpec(
    "fields",
    "领域",
    "fields",
    (C("name", "名称", "name", True, ("领域", "field")),),
    ("field",),
)
STAGES = SheetSpec(
    "stages",
    "赛段",
    "stages",
    (
        C("order", "顺序", "order", aliases=("序号", "position")),
        C("code", "代码", "code", True, ("编号",)),
        C("name", "名称", "name", True, ("赛段", "stage")),
        C("kind", "类型", "kind", aliases=("形式",)),
        C("judges_per_entry", "每项目评委数", "judges_per_entry", aliases=("评委数",)),
        C("rule", "计分规则", "rule", aliases=("规则",)),
        C("trim", "去掉最高最低个数", "trim", aliases=("去掉个数",)),
        C("min_sheets_to_trim", "最少评分数", "min_sheets_to_trim"),
        C("advance", "晋级名额", "advance", aliases=("名额", "quota")),
        C("weight", "权重", "weight"),
        C("threshold", "晋级分数线", "threshold", aliases=("分数线",)),  # extra
        C("state", "状态", "state", aliases=("status",)),  # extra
        C("pitch_minutes", "路演分钟", "pitch_minutes", aliases=("路演时长",)),  # extra
        C("qa_minutes", "答辩分钟", "qa_minutes", aliases=("答辩时长",)),  # extra
    ),
    ("stage",),
)
CRITERIA = SheetSpec(
    "criteria",
    "评分项",
    "criteria",
    (
        C("stage", "赛段", "stage", True, ("阶段",)),
        C("group", "组别", "group", True),
        C("order", "顺序", "order", aliases=("序号", "position")),
        C("name", "名称", "name", True, ("评分项", "criterion")),
        C("max", "满分", "max", True, ("分值", "最高分", "max_points")),
        C("step", "步长", "step"),
        C("description", "说明", "description", aliases=("评分标准", "描述")),
    ),
    ("rubric", "评分标准"),
)
AWARDS = SheetSpec(
    "awards",
    "奖项",
    "awards",
    (
        C("stage", "赛段", "stage", True, ("阶段",)),
        C("group", "组别", "group", True),
        C("order", "顺序", "order", aliases=("序号", "position")),
        C("name", "名称", "name", True, ("奖项", "award", "tier")),
        C("quota", "名额", "quota", True, ("数量",)),
        C("prize", "奖金", "prize", aliases=("奖金元", "金额")),
    ),
    ("award_tiers", "tiers"),
)
SPECIAL_AWARDS = SheetSpec(
    "special_awards",
    "专项奖",
    "special_awards",
    (
        C("name", "名称", "name", True, ("奖项",)),
        C("rule", "规则", "rule", True),
        C("prize", "奖金", "prize", aliases=("金额",)),
    ),
    ("specials",),
)
ENTRIES = SheetSpec(
    "entries",
    "项目",
    "entries",
    (
        C("code", "编号", "code", True, ("项目编号", "entry code", "entry")),
        C("title", "项目名称", "title", True, ("名称", "项目", "project", "entry title")),
        C("group", "组别", "group", True, ("参赛组别",)),
        C("field", "领域", "field", aliases=("所属领域", "技术领域")),
        C("organization", "单位", "organization", aliases=("单位名称", "所在单位", "org")),
        C("leader", "负责人", "leader", aliases=("项目负责人", "team leader")),
        C("student_team", "学生团队", "student_team", aliases=("是否学生团队", "student")),
        C("phone", "联系电话", "phone", aliases=("电话", "手机", "手机号", "mobile", "tel")),
        C("email", "邮箱", "email", aliases=("电子邮箱", "e-mail", "mail")),
        C("summary", "简介", "summary", aliases=("项目简介",)),
        C("status", "状态", "status"),  # extra
        C("advanced_to", "晋级至", "advanced_to", aliases=("晋级",)),  # extra
    ),
    ("entry", "报名表", "registrations"),
)
JUDGES = SheetSpec(
    "judges",
    "评委",
    "judges",
    (
        C("name", "姓名", "name", True, ("评委姓名", "judge")),
        C("username", "用户名", "username", aliases=("账号", "login")),
        C("organization", "单位", "organization", aliases=("工作单位", "所在单位", "org")),
        C("title", "职称", "title", aliases=("职务", "职称职务")),
        C("expertise", "专业领域", "expertise", aliases=("领域", "专业", "fields")),
        C("email", "邮箱", "email", aliases=("电子邮箱", "e-mail", "mail")),
    ),
    ("judge", "评委名单", "jury"),
)
CONFLICTS = SheetSpec(
    "conflicts",
    "回避",
    "conflicts",
    (
        C("judge", "评委", "judge", True, ("评委用户名", "用户名", "username")),
        C("entry", "编号", "entry", True, ("项目编号", "code")),
        C("reason", "原因", "reason", aliases=("回避原因",)),
        C("status", "状态", "status"),  # extra
        C("source", "来源", "source"),  # extra
    ),
    ("conflict",),
)
ASSIGNMENTS = SheetSpec(
    "assignments",
    "分配",
    "assignments",
    (
        C("stage", "赛段", "stage", True, ("阶段",)),
        C("judge", "评委", "judge", True, ("评委用户名", "用户名", "username")),
        C("entry", "编号", "entry", True, ("项目编号", "code")),
    ),
    ("assignment",),
)
SCORES = SheetSpec(
    "scores",
    "评分",
    "scores",
    (
        C("stage", "赛段", "stage", True, ("阶段",)),
        C("judge", "评委", "judge", True, ("评委用户名", "用户名", "username")),
        C("entry", "编号", "entry", True, ("项目编号", "code")),
        C("comment", "备注", "comment", aliases=("评语", "意见")),
        C("state", "状态", "state", aliases=("status",)),
        C("submitted_at", "提交时间", "submitted_at"),  # extra
    ),
    ("score sheets", "评分表", "sheets"),
)

#: The contest workbook's sheets, in the order they are read and written.
CONTEST_WORKBOOK = (
    CONTEST,
    GROUPS,
    FIELDS,
    STAGES,
    CRITERIA,
    AWARDS,
    SPECIAL_AWARDS,
    ENTRIES,
    JUDGES,
    CONFLICTS,
    ASSIGNMENTS,
    SCORES,
)
SHEETS = {spec.key: spec for spec in CONTEST_WORKBOOK}

#: The first column of every template sheet: a cell in it marks the template's example rows,
#: which an import refuses (docs/excel.md § Templates). It is no column of any sheet, so an
#: export never writes it; the mark is a value, not a style, so it survives any spreadsheet.
EXAMPLE = Column("example", "示例行", "example row")
EXAMPLE_MARK = {"zh": "示例", "en": "EXAMPLE"}
_EXAMPLE_HEADERS = {header_key(EXAMPLE.zh), header_key(EXAMPLE.en)}


def example_mark(lang: str) -> str:
    """The text templates write in the example column of an example row."""
    return EXAMPLE_MARK["zh" if lang.startswith("zh") else "en"]


def is_example_header(text: str) -> bool:
    """Whether a header cell is the template's example column (示例行, example row)."""
    return any(key in _EXAMPLE_HEADERS for key in header_keys(text))


# -- choices: every value, its English title and Chinese words people write


@dataclass(frozen=True)
class Choices:
    """The accepted spellings of an enumeration's members; ``zh`` is what exports write."""

    enum: type
    zh: dict
    aliases: dict

    def __post_init__(self) -> None:
        lookup = {}
        for member in self.enum:
            names = (
                member.value,
                str(member.title),
                self.zh[member],
                *self.aliases.get(member, ()),
            )
            for name in names:
                lookup[header_key(name)] = member
        object.__setattr__(self, "_lookup", lookup)

    def parse(self, text: str):
        """The member for a spelling, or None."""
        return self._lookup.get(header_key(text))

    def label(self, member, lang: str) -> str:
        """How an export writes a member: Chinese words, or the English value."""
        return self.zh[member] if lang.startswith("zh") else member.value

    def spellings(self) -> str:
        """The spellings to suggest in a message: Chinese word and English value."""
        return "、".join(f"{self.zh[m]}/{m.value}" for m in self.enum)


K, R, S = StageKind, AggregationRule, StageState
STAGE_KIND = Choices(
    K,
    {K.ONLINE: "网评", K.ROADSHOW: "路演"},
    {K.ONLINE: ("线上", "网络评审"), K.ROADSHOW: ("现场",)},
)
RULE = Choices(
    R,
    {R.TRIMMED: "去掉最高最低", R.MEAN: "平均", R.MEDIAN: "中位数", R.ZSCORE: "标准分"},
    {
        R.TRIMMED: ("去掉最高分和最低分", "去极值平均", "trimmed mean"),
        R.MEAN: ("算术平均", "平均分", "average"),
        R.ZSCORE: ("z-score", "z分数", "标准化"),
    },
)
STAGE_STATE = Choices(
    S,
    {S.DRAFT: "未开始", S.OPEN: "评分中", S.CLOSED: "已关闭", S.PUBLISHED: "已发布"},
    {
        S.DRAFT: ("草稿",),
        S.OPEN: ("开放", "进行中"),
        S.CLOSED: ("关闭", "已结束"),
        S.PUBLISHED: ("发布", "已公布"),
    },
)
SHEET_STATE = Choices(
    SheetState,
    {SheetState.SUBMITTED: "已提交", SheetState.DRAFT: "草稿"},
    {SheetState.SUBMITTED: ("提交",), SheetState.DRAFT: ("未提交", "暂存")},
)
CONFLICT_STATUS = Choices(
    ConflictStatus,
    {
        ConflictStatus.BINDING: "生效",
        ConflictStatus.PROPOSED: "待确认",
        ConflictStatus.DISMISSED: "已驳回",
    },
    {
        ConflictStatus.BINDING: ("有效", "回避", "确认"),
        ConflictStatus.PROPOSED: ("建议", "待定"),
        ConflictStatus.DISMISSED: ("驳回", "不回避"),
    },
)
CONFLICT_SOURCE = Choices(
    ConflictSource,
    {
        ConflictSource.JUDGE: "评委申报",
        ConflictSource.ORGANIZER: "组委会",
        ConflictSource.SYSTEM: "系统建议",
    },
    {ConflictSource.JUDGE: ("评委",), ConflictSource.SYSTEM: ("系统",)},
)
ENTRY_STATUS = Choices(
    EntryStatus,
    {
        EntryStatus.REGISTERED: "正常",
        EntryStatus.WITHDRAWN: "退赛",
        EntryStatus.DISQUALIFIED: "取消资格",
    },
    {EntryStatus.REGISTERED: ("已报名", "参赛"), EntryStatus.WITHDRAWN: ("已退赛", "退出")},
)
CONTEST_STATUS = Choices(
    ContestStatus,
    {
        ContestStatus.SETUP: "筹备中",
        ContestStatus.RUNNING: "进行中",
        ContestStatus.FINISHED: "已结束",
    },
    {ContestStatus.SETUP: ("筹备",), ContestStatus.FINISHED: ("结束",)},
)

YES = {"是", "yes", "y", "true", "1", "✓", "√", "t"}
NO = {"否", "no", "n", "false", "0", "×", "f", ""}
