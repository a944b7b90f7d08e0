"""The report sheets of an export, as plain rows from the database: summary, standings and
prize list (the judge × entry matrix, raw sheets and audit log are in ``records``). Headers
are in the reader's language.

Standings and awards come from ``stage_result`` and ``awards_result`` (the same cached
standings the results pages show); nothing here ranks or awards anything itself.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from judging.awards.labels import field_label
from judging.awards.queries import AwardsResult, GroupResult, StageResult, latest_snapshot
from judging.common.enums import StageState
from judging.contests.models import Contest, Stage
from judging.entries.models import Entry
from judging.exports.workbook import INTEGER, MONEY, POINTS, Sheet, Styled
from judging.ranking.models import show_pair
from judging.standings.progress import contest_overview


def local_time(moment: datetime | None, tz: str) -> str:
    """A timestamp as text in the contest's time zone, to the second."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")


# ------------------------------------------------------------------ summary


def summary_sheet(
    contest: Contest, *, stages: list[Stage], tz: str, exported_by: str, public: bool
) -> Sheet:
    """概要: what the contest is, how far each stage got, when and by whom this was exported."""
    ov = contest_overview(contest)
    rows: list[list] = [
        [_("Contest"), contest.name],
        [_("Year"), contest.year],
        [_("Organizers"), contest.organizers],
    ]
    if not public:
        rows.append([_("Status"), str(contest.current_status.title)])
    for group in ov.groups:
        rows.append([_("Entries: %(group)s", group=group.name), ov.entries_by_group[group.id]])
    rows.append([_("Entries"), ov.entries])
    if not public:
        rows += [
            [_("Student teams"), ov.student_teams],
            [_("Judges"), ov.judges],
            [_("Binding conflicts"), ov.binding_conflicts],
        ]
    wanted = {s.id for s in stages}
    for summary in ov.stages:
        stage = summary.stage
        if stage.id not in wanted:
            continue
        totals = summary.totals
        rows.append([Styled(stage.name, "total"), str(stage.state.title)])
        rows.append([_("Scoring rule"), str(stage.rule.title)])
        rows.append([_("Entries taking part"), totals.entries])
        if not public:
            rows += [
                [_("Sheets needed"), totals.assignments],
                [_("Submitted sheets"), totals.submitted],
                [_("Draft sheets"), totals.drafts],
            ]
            snapshot = latest_snapshot(stage)
            if snapshot is not None:
                rows.append(
                    [
                        _("Confirmed"),
                        f"{local_time(snapshot.created_at, tz)} · {snapshot.content_hash[:16]}",
                    ]
                )
                line = override_line(snapshot)
                if line:
                    rows.append([_("Override"), line])
    rows.append([_("Exported at"), local_time(datetime.now(ZoneInfo(tz)), tz)])
    if exported_by:
        rows.append([_("Exported by"), exported_by])
    return Sheet(
        _("Summary"), [_("Item"), _("Value")], rows, title_lines=[contest.name], landscape=False
    )


# ------------------------------------------------------------------ standings


class TieWords:
    """The tie-break steps of standings in words, as the results page shows them.

    The sentences are translated once per sheet and filled per row: a 100,000-entry stage
    can have a tie on nearly every row, and a translation lookup per row costs more than
    writing the row.
    """

    def __init__(self, criteria) -> None:
        self.tied = _(
            "Tied with %(code)s at %(score)s through every tie-break step: shared rank, "
            "for the jury to decide."
        )
        self.ahead = _(
            "Tied with %(code)s at %(score)s; ahead by %(what)s: %(mine)s vs %(theirs)s."
        )
        self.behind = _(
            "Tied with %(code)s at %(score)s; behind by %(what)s: %(mine)s vs %(theirs)s."
        )
        self.what = {
            "stage_score": _("this stage's own score"),
            "all_sheets_mean": _("the mean of all sheets"),
            "previous_stage": _("the previous stage's score"),
        }
        for index, name in enumerate(criteria):
            self.what[f"criterion:{index}"] = _("the mean points of %(name)s", name=name)
        self._pairs: dict = {}  # (value, other value) -> how they are shown: they repeat a lot

    def note(self, row) -> str:
        """One line per neighbour the entry shares its rounded score with."""
        lines = []
        for step in row.tiebreak:
            params = {"code": step.other_code, "score": step.at_score}
            if step.outcome == "tied":
                lines.append(self.tied % params)
                continue
            params["what"] = self.what.get(step.step, "")
            key = (step.value, step.other_value)
            shown = self._pairs.get(key)
            if shown is None:
                shown = self._pairs[key] = show_pair(*key)
            params["mine"], params["theirs"] = shown
            lines.append((self.ahead if step.outcome == "ahead" else self.behind) % params)
        return "\n".join(lines)


def tie_note(row, criteria) -> str:
    """The tie-break steps of one standing in words."""
    return TieWords(criteria).note(row)


def _dropped(pairs) -> Decimal | str | None:
    if not pairs:
        return None
    if len(pairs) == 1:
        return pairs[0][1]
    return "、".join(f"{total:.2f}" for _, total in pairs)


def parts_text(parts) -> str:
    """An entry's weighted stage parts in one line: 复赛 90.00 × 30% = 27; 决赛 …"""
    return "; ".join(
        f"{p.name} {'—' if p.score is None else p.score} × {p.weight * 100:f}%"
        + ("" if p.value is None else f" = {p.value:f}")
        for p in parts
    )


def weights_line(standings) -> str:
    """The combined score's formula, for a title line: 复赛 30% + 决赛 70%."""
    return _(
        "Ranked on the combined score: %(formula)s",
        formula=" + ".join(
            f"{name} {weight * 100:f}%" for _code, name, weight in standings.weights
        ),
    )


def _state_title(value: str) -> str:
    try:
        return str(StageState(value).title)
    except ValueError:
        return value


def override_line(snapshot) -> str | None:
    """Why the stage's results were confirmed while incomplete, for a title line; or None."""
    override = snapshot.override if snapshot is not None else None
    if not override:
        return None
    return _(
        "Confirmed with an override: %(reason)s (the stage was %(state)s; %(missing)s of "
        "%(needed)s needed sheets were missing)",
        reason=snapshot.override_reason,
        state=_state_title(override.get("state", "")),
        missing=override.get("missing", 0),
        needed=override.get("needed", 0),
    )


def standings_sheet(result: StageResult, group_result: GroupResult, *, public: bool) -> Sheet:
    """排名: one group's standings in one stage, with dropped totals, tie notes and outcome
    (on combined scores with each weighted stage's part, when the stage has weights)."""
    stage, group = result.stage, group_result.group
    s = group_result.standings
    facts = s.entries
    advancing = frozenset(group_result.advancement.advancing) if group_result.advancement else ()
    awards = {a.entry_id: a for a in group_result.tiers.awards} if group_result.tiers else {}
    advances = _("advances")
    jury = _("tie for the jury")
    words = TieWords(s.criteria)

    if public:
        header = [_("Rank"), _("Code"), _("Title"), _("Organization"), _("Score"), _("Award")]

        def rows():
            for row in s.rows:
                f = facts[row.entry_id]
                award = awards.get(row.entry_id)
                yield [
                    row.rank,
                    row.code,
                    f.title,
                    f.organization,
                    row.score,
                    award.tier_name if award else None,
                ]

        formats = {4: POINTS}
    else:
        header = [
            _("Rank"),
            _("Code"),
            _("Title"),
            _("Organization"),
            _("Score"),
            _("Sheets"),
            _("Dropped high"),
            _("Dropped low"),
            _("Tie notes"),
            _("Advanced / award"),
        ]
        if s.weights:
            header.append(_("Stage parts"))

        def rows():
            for row in s.rows:
                f = facts[row.entry_id]
                award = awards.get(row.entry_id)
                outcome = (
                    award.tier_name if award else (advances if row.entry_id in advancing else None)
                )
                note = words.note(row) if row.tiebreak else None
                if row.tied:
                    note = f"{jury}\n{note}" if note else jury
                cut = row.cut
                totals = row.totals
                if cut == 1:  # the usual rule: the one highest and the one lowest total
                    high, low = totals[-1], totals[0]
                elif cut:
                    high, low = _dropped(row.dropped_high), _dropped(row.dropped_low)
                else:
                    high = low = None
                line = [
                    row.rank,
                    row.code,
                    f.title,
                    f.organization,
                    row.score,
                    len(totals),
                    high,
                    low,
                    note,
                    outcome,
                ]
                if s.weights:
                    line.append(parts_text(s.parts.get(row.entry_id, ())))
                yield line

        formats = {4: POINTS, 6: POINTS, 7: POINTS}
    title = f"{stage.name} · {group.name}"
    title_lines = [f"{stage.contest.name} · {title}"]
    if s.weights:
        title_lines.append(weights_line(s))
    if not public:
        line = override_line(latest_snapshot(stage))
        if line:
            title_lines.append(line)
    return Sheet(
        _("Standings %(stage)s %(group)s", stage=stage.name, group=group.name),
        header,
        rows(),
        formats=formats,
        widths={8: 48, 10: 40} if not public else {},
        title_lines=title_lines,
        gridlines=True,
    )


def published_standings_sheet(stage: Stage, board: dict) -> Sheet:
    """排名 for anyone: one group's standings as published (the frozen snapshot the public
    pages show): rank, code, title, organization, score, award, and each weighted stage's
    part when the stage ranks on combined scores."""
    names = board.get("stage_names", {})
    header = [_("Rank"), _("Code"), _("Title"), _("Organization"), _("Score"), _("Award")]
    if board.get("weighted"):
        header.append(_("Stage parts"))

    def rows():
        for row in board["rows"]:
            line = [
                row["rank"],
                row["code"],
                row["title"],
                row["organization"],
                None if row["score"] is None else Decimal(row["score"]),
                "、".join(a["name"] for a in row["awards"]) or None,
            ]
            if board.get("weighted"):
                line.append(
                    "; ".join(
                        f"{names.get(p['stage'], p['stage'])} {p['score'] or '—'} × {p['percent']}%"
                        + (f" = {p['part']}" if p.get("part") else "")
                        for p in row.get("parts") or ()
                    )
                )
            yield line

    group = board["group"]["name"]
    title_lines = [f"{stage.contest.name} · {stage.name} · {group}"]
    for notice in board.get("corrections", ()):
        changes = "; ".join(
            f"{e['code']} {field_label(c['field'])}: {c['old']} → {c['new']}"
            for e in notice["entries"]
            for c in e["changes"]
        )
        title_lines.append(
            _("Correction %(date)s: %(changes)s", date=notice["date"][:10], changes=changes)
        )
    return Sheet(
        _("Standings %(stage)s %(group)s", stage=stage.name, group=group),
        header,
        rows(),
        formats={4: POINTS},
        title_lines=title_lines,
        gridlines=True,
    )


# ------------------------------------------------------------------ prize list


def prize_sheet(contest: Contest, awards: AwardsResult, *, public: bool) -> Sheet | None:
    """获奖名单: tier awards by rank and special awards per group, with totals per group and
    overall, and a line for the jury chair's signature."""
    if not awards.stages and not awards.specials:
        return None
    groups = list(contest.groups)
    entries = awards.entries
    header = [_("Group"), _("Award"), _("Rank"), _("Code"), _("Title"), _("Organization")]
    if not public:
        header.append(_("Leader"))
    header += [_("Prize (yuan)"), _("Notes")]
    prize_col = len(header) - 2
    rows: list[list] = []
    stage_names = []
    for group in groups:
        group_rows = 0
        for stage_result in awards.stages:
            if stage_result.stage.name not in stage_names:
                stage_names.append(stage_result.stage.name)
            for g in stage_result.groups:
                if g.group.id != group.id or g.tiers is None:
                    continue
                flagged = {
                    e: fill.name for fill in g.tiers.boundary_ties for e in fill.tied_entries
                }
                for award in g.tiers.awards:
                    entry = entries[award.entry_id]
                    note = (
                        _(
                            "Tie across the boundary of %(tier)s: for the organizer to confirm.",
                            tier=flagged[award.entry_id],
                        )
                        if award.entry_id in flagged
                        else None
                    )
                    rows.append(
                        _prize_row(
                            group.name,
                            award.tier_name,
                            award.rank,
                            entry,
                            award.prize,
                            note,
                            public,
                        )
                    )
                    group_rows += 1
        for special in awards.specials:
            entry = entries[special.entry_id]
            if entry.group_id != group.id:
                continue
            rows.append(
                _prize_row(group.name, special.name, None, entry, special.prize, None, public)
            )
            group_rows += 1
        if group_rows:
            total = awards.totals.by_group.get(group.code, Decimal("0.00"))
            row = [Styled(_("Subtotal: %(group)s", group=group.name), "total")] + [None] * (
                len(header) - 1
            )
            row[prize_col] = Styled(total, "total")
            row[prize_col + 1] = Styled(_("%(n)s awards", n=group_rows), "total")
            rows.append(row)
    row = [Styled(_("Total"), "total")] + [None] * (len(header) - 1)
    row[prize_col] = Styled(awards.totals.overall, "total")
    row[prize_col + 1] = Styled(_("%(n)s awards", n=awards.totals.count), "total")
    rows.append(row)
    return Sheet(
        _("Prize list"),
        header,
        rows,
        formats={2: INTEGER, prize_col: MONEY},
        title_lines=[
            contest.name,
            _("Prize list") + (f" · {'、'.join(stage_names)}" if stage_names else ""),
        ],
        footer_lines=[]
        if public
        else [
            _("Chair of the jury (signature): ____________________        Date: ____________"),
            _("Organizing committee (seal):"),
        ],
        landscape=True,
        gridlines=True,
    )


def _prize_row(group, award, rank, entry: Entry, prize, note, public) -> list:
    row = [group, award, rank, entry.code, entry.title, entry.organization]
    if not public:
        row.append(entry.leader)
    return row + [prize, note]
