"""What a contest already holds, as plain records keyed the way the workbook keys them.

Groups by code, fields by name, stages by code, criteria by (stage, group, name), award
tiers by (stage, group, order), special awards by name, entries by code, judges by
username, conflicts by (username, code), assignments and score sheets by (stage, username,
code). Each record is a dict of the values a workbook row can carry, in the workbook's
terms (codes and names, not ids), so a row and a record compare directly; ``ids`` maps
every key to its database id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

import sqlalchemy as sa

from judging.auth.models import User
from judging.common.enums import ConflictStatus, SheetState, StageState
from judging.contests.models import (
    AdvanceQuota,
    AwardTier,
    Contest,
    Criterion,
    Field,
    Group,
    SpecialAward,
    Stage,
)
from judging.entries.models import Entry
from judging.entries.queries import furthest_advanced
from judging.extensions import db
from judging.judges.models import Assignment, Conflict, Judge, judge_fields
from judging.ranking import CENT
from judging.scoring.models import Score, ScoreSheet
from judging.standings.participation import taking_part

KINDS = (
    "contest",
    "groups",
    "fields",
    "stages",
    "criteria",
    "awards",
    "special_awards",
    "users",
    "judges",
    "entries",
    "conflicts",
    "assignments",
    "sheets",
)


def exact(value) -> Decimal | None:
    """A stored decimal as an exact two-place Decimal (SQLite hands back floats)."""
    return None if value is None else Decimal(str(value)).quantize(CENT)


class Existing:
    """The records of one contest (empty for a new one), loaded once per import."""

    def __init__(self) -> None:
        self.contest_id: int | None = None
        self.records: dict[str, dict] = {kind: {} for kind in KINDS}
        self.ids: dict[str, dict] = {kind: {} for kind in KINDS}
        self.users: dict[str, tuple[int, str]] = {}  # username -> (id, role), any contest
        self.stage_position: dict[str, int] = {}
        self.rubrics_in_use: set[tuple[str, str]] = set()  # (stage, group) with score sheets
        # id -> key, for the links read later
        self._stages: dict[int, str] = {}
        self._judges: dict[int, str] = {}
        self._entries: dict[int, str] = {}
        self._published_links: tuple[dict, dict] | None = None
        # What was asked of the database after ``load``, so that ``reload`` can ask it
        # again (``same_as``: has anything the checks read changed since?).
        self._contest: Contest | None = None
        self._asked_users: set[str] = set()
        self._asked_links: list[tuple[frozenset, frozenset]] = []
        self._taken: dict[str, frozenset[str]] = {}

    # -- loading

    @classmethod
    def load(cls, contest: Contest | None) -> Existing:
        """Everything but assignments and sheets (see ``load_links``) of a contest."""
        state = cls()
        if contest is None:
            return state
        state._contest = contest
        state.contest_id = cid = contest.id
        session = db.session
        state.records["contest"][contest.slug] = {
            "name": contest.name,
            "year": contest.year,
            "organizers": contest.organizers,
            "status": contest.status,
        }
        state.ids["contest"][contest.slug] = cid
        groups = {}
        for gid, code, name, position in session.execute(
            sa.select(Group.id, Group.code, Group.name, Group.position).where(
                Group.contest_id == cid
            )
        ):
            groups[gid] = code
            state.records["groups"][code] = {"name": name, "position": position}
            state.ids["groups"][code] = gid
        fields = {}
        for fid, name, position in session.execute(
            sa.select(Field.id, Field.name, Field.position).where(Field.contest_id == cid)
        ):
            fields[fid] = name
            state.records["fields"][name] = {"position": position}
            state.ids["fields"][name] = fid
        stages = {}
        quotas = defaultdict(list)
        for stage_id, group_id, quota in session.execute(
            sa.select(AdvanceQuota.stage_id, AdvanceQuota.group_id, AdvanceQuota.quota)
            .join(Stage, Stage.id == AdvanceQuota.stage_id)
            .where(Stage.contest_id == cid)
        ):
            quotas[stage_id].append((groups[group_id], quota))
        for stage in session.scalars(sa.select(Stage).where(Stage.contest_id == cid)):
            stages[stage.id] = stage.code
            state.stage_position[stage.code] = stage.position
            state.records["stages"][stage.code] = {
                "position": stage.position,
                "name": stage.name,
                "kind": stage.kind,
                "judges_per_entry": stage.judges_per_entry,
                "rule": stage.rule,
                "trim": stage.trim,
                "min_sheets_to_trim": stage.min_sheets_to_trim,
                "advance": (stage.advance_quota, tuple(sorted(quotas[stage.id]))),
                "weight": None if stage.weight is None else Decimal(str(stage.weight)),
                "threshold": exact(stage.advance_threshold),
                "state": stage.state,
                "pitch_minutes": stage.pitch_minutes,
                "qa_minutes": stage.qa_minutes,
            }
            state.ids["stages"][stage.code] = stage.id
        for crit in session.execute(
            sa.select(Criterion).where(Criterion.stage_id.in_(list(stages)))
        ).scalars():
            key = (stages[crit.stage_id], groups[crit.group_id], crit.name)
            state.records["criteria"][key] = {
                "position": crit.position,
                "max_points": exact(crit.max_points),
                "step": exact(crit.step),
                "description": crit.description,
            }
            state.ids["criteria"][key] = crit.id
        for tier in session.scalars(sa.select(AwardTier).where(AwardTier.contest_id == cid)):
            key = (stages[tier.stage_id], groups[tier.group_id], tier.position)
            state.records["awards"][key] = {
                "name": tier.name,
                "quota": tier.quota,
                "prize": exact(tier.prize),
            }
            state.ids["awards"][key] = tier.id
        for special in session.scalars(
            sa.select(SpecialAward).where(SpecialAward.contest_id == cid)
        ):
            state.records["special_awards"][special.name] = {
                "rule": special.rule,
                "prize": exact(special.prize),
            }
            state.ids["special_awards"][special.name] = special.id
        furthest = furthest_advanced(cid)
        for row in session.execute(
            sa.select(
                Entry.id,
                Entry.code,
                Entry.title,
                Entry.group_id,
                Entry.field_id,
                Entry.organization,
                Entry.leader,
                Entry.is_student_team,
                Entry.phone,
                Entry.email,
                Entry.summary,
                Entry.status,
            ).where(Entry.contest_id == cid)
        ):
            state.records["entries"][row.code] = {
                "title": row.title,
                "group": groups[row.group_id],
                "field": fields.get(row.field_id, ""),
                "organization": row.organization,
                "leader": row.leader,
                "is_student_team": bool(row.is_student_team),
                "phone": row.phone,
                "email": row.email,
                "summary": row.summary,
                "status": row.status,
                "advanced_to": stages.get(furthest.get(row.id), ""),
            }
            state.ids["entries"][row.code] = row.id
        expertise = defaultdict(list)
        for judge_id, field_id in session.execute(
            sa.select(judge_fields.c.judge_id, judge_fields.c.field_id)
            .join(Judge, Judge.id == judge_fields.c.judge_id)
            .where(Judge.contest_id == cid)
        ):
            expertise[judge_id].append(fields[field_id])
        for row in session.execute(
            sa.select(Judge, User.username, User.role)
            .join(User, User.id == Judge.user_id)
            .where(Judge.contest_id == cid)
        ):
            judge, username, role = row
            state.records["judges"][username] = {
                "name": judge.name,
                "title": judge.title,
                "organization": judge.organization,
                "email": judge.email,
                "expertise": tuple(sorted(expertise[judge.id], key=state.field_order)),
            }
            state.ids["judges"][username] = judge.id
            state.users[username] = (judge.user_id, str(role))
        judge_names = {v: k for k, v in state.ids["judges"].items()}
        entry_codes = {v: k for k, v in state.ids["entries"].items()}
        for conflict in session.scalars(
            sa.select(Conflict).where(Conflict.judge_id.in_(list(judge_names)))
        ):
            key = (judge_names[conflict.judge_id], entry_codes[conflict.entry_id])
            state.records["conflicts"][key] = {
                "reason": conflict.reason,
                "status": conflict.status,
                "source": conflict.source,
            }
            state.ids["conflicts"][key] = conflict.id
        for stage_id, group_id in session.execute(
            sa.select(ScoreSheet.stage_id, Entry.group_id)
            .join(Entry, Entry.id == ScoreSheet.entry_id)
            .where(Entry.contest_id == cid)
            .distinct()
        ):
            state.rubrics_in_use.add((stages[stage_id], groups[group_id]))
        state._stages, state._judges, state._entries = stages, judge_names, entry_codes
        return state

    def field_order(self, name: str) -> tuple[int, str]:
        """Sort key of a field name: its position, then its name."""
        record = self.records["fields"].get(name)
        return (record["position"] if record else 10**6, name)

    def load_users(self, usernames: Iterable[str]) -> None:
        """The accounts (any contest) with these usernames: id and role."""
        asked = {u for u in usernames if u}
        self._asked_users |= asked
        names = [u for u in asked if u not in self.users]
        for start in range(0, len(names), 500):
            for uid, username, role in db.session.execute(
                sa.select(User.id, User.username, User.role).where(
                    User.username.in_(names[start : start + 500])
                )
            ):
                self.users[username] = (uid, str(role))

    def load_links(self, stage_codes: Iterable[str], usernames: Iterable[str]) -> None:
        """The assignments and score sheets (with points) of these stages and judges."""
        stage_codes, usernames = frozenset(stage_codes), frozenset(usernames)
        self._asked_links.append((stage_codes, usernames))
        if self.contest_id is None:
            return
        stage_ids = [self.ids["stages"][c] for c in set(stage_codes) if c in self.ids["stages"]]
        judge_ids = [self.ids["judges"][u] for u in set(usernames) if u in self.ids["judges"]]
        if not stage_ids or not judge_ids:
            return
        stages, judges, entries = self._stages, self._judges, self._entries
        for start in range(0, len(judge_ids), 500):
            chunk = judge_ids[start : start + 500]
            for aid, stage_id, judge_id, entry_id in db.session.execute(
                sa.select(
                    Assignment.id, Assignment.stage_id, Assignment.judge_id, Assignment.entry_id
                ).where(Assignment.stage_id.in_(stage_ids), Assignment.judge_id.in_(chunk))
            ):
                key = (stages[stage_id], judges[judge_id], entries[entry_id])
                self.records["assignments"][key] = {}
                self.ids["assignments"][key] = aid
            sheets = {}
            for sheet in db.session.execute(
                sa.select(
                    ScoreSheet.id,
                    ScoreSheet.stage_id,
                    ScoreSheet.judge_id,
                    ScoreSheet.entry_id,
                    ScoreSheet.state,
                    ScoreSheet.comment,
                    ScoreSheet.version,
                ).where(ScoreSheet.stage_id.in_(stage_ids), ScoreSheet.judge_id.in_(chunk))
            ):
                key = (stages[sheet.stage_id], judges[sheet.judge_id], entries[sheet.entry_id])
                sheets[sheet.id] = key
                self.records["sheets"][key] = {
                    "state": sheet.state,
                    "comment": sheet.comment,
                    "points": {},
                    "version": sheet.version,
                }
                self.ids["sheets"][key] = sheet.id
            # The same sheets' points, by a join (not a bind parameter per sheet).
            for sheet_id, name, points in db.session.execute(
                sa.select(Score.sheet_id, Criterion.name, Score.points)
                .join(Criterion, Criterion.id == Score.criterion_id)
                .join(ScoreSheet, ScoreSheet.id == Score.sheet_id)
                .where(ScoreSheet.stage_id.in_(stage_ids), ScoreSheet.judge_id.in_(chunk))
            ):
                self.records["sheets"][sheets[sheet_id]]["points"][name] = exact(points)

    def taken_usernames(self, prefix: str) -> set[str]:
        """The usernames (any contest) that begin with prefix (a copy: the caller's own)."""
        if prefix not in self._taken:
            self._taken[prefix] = frozenset(taken_usernames(prefix))
        return set(self._taken[prefix])

    # -- still current?

    def reload(self) -> Existing:
        """The same records read again: everything ``load`` and the later calls read.

        For the write phase of an import: the file was checked against this state in a
        read transaction; inside the write transaction the state is read again, and the
        checks run again only if it changed (``same_as``). Objects of the session must
        have been expired first, so that the contest's own row is read again too.
        """
        state = Existing.load(self._contest)
        state.load_users(self._asked_users)
        for stage_codes, usernames in self._asked_links:
            state.load_links(stage_codes, usernames)
        if self._published_links is not None:
            state.published_links()
        for prefix in self._taken:
            state.taken_usernames(prefix)
        return state

    def same_as(self, other: Existing) -> bool:
        """Whether two loads of a contest read the same records (see ``reload``)."""
        return self._compared() == other._compared()

    def _compared(self) -> tuple:
        return (
            self.contest_id,
            self.records,
            self.ids,
            self.users,
            self.stage_position,
            self.rubrics_in_use,
            self._published_links,
            self._taken,
        )

    def published_stages(self) -> set[str]:
        """The codes of the contest's published stages (frozen: an import cannot change them)."""
        return {
            code
            for code, record in self.records["stages"].items()
            if record["state"] == StageState.PUBLISHED
        }

    def published_links(self) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
        """For the published stages: (username, code) → a stage code where the judge has a
        submitted sheet for the entry; and entry code → a published stage it takes part in."""
        if self._published_links is not None:
            return self._published_links
        sheets: dict[tuple[str, str], str] = {}
        entries: dict[str, str] = {}
        codes = self.published_stages()
        stage_ids = [self.ids["stages"][c] for c in codes]
        if self.contest_id is not None and stage_ids:
            stages, judges, entry_codes = self._stages, self._judges, self._entries
            for stage_id, judge_id, entry_id in db.session.execute(
                sa.select(ScoreSheet.stage_id, ScoreSheet.judge_id, ScoreSheet.entry_id).where(
                    ScoreSheet.stage_id.in_(stage_ids),
                    ScoreSheet.state == SheetState.SUBMITTED,
                )
            ):
                sheets[(judges[judge_id], entry_codes[entry_id])] = stages[stage_id]
            part = taking_part(self.contest_id)
            for stage_id, entry_id in db.session.execute(
                sa.select(part.c.stage_id, part.c.entry_id).where(part.c.stage_id.in_(stage_ids))
            ):
                entries.setdefault(entry_codes[entry_id], stages[stage_id])
        self._published_links = (sheets, entries)
        return self._published_links

    def binding(self) -> set[tuple[str, str]]:
        """(username, code) pairs with a binding conflict."""
        return {
            key
            for key, record in self.records["conflicts"].items()
            if record["status"] == ConflictStatus.BINDING
        }


def taken_usernames(prefix: str) -> set[str]:
    """The usernames (any contest) that begin with prefix."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return set(
        db.session.scalars(
            sa.select(User.username).where(User.username.like(f"{escaped}%", escape="\\"))
        )
    )
