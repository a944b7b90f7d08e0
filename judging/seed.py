"""Load the demo contest from seed/ (contest.yaml and CSV files) into the database.

The files are written by seed/generate.py and committed; this module only reads them.
It flushes but never commits: the `seed-demo` command commits once, so a failed load
leaves nothing behind.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from judging.auth.models import User
from judging.auth.passwords import hash_password
from judging.common.enums import (
    AggregationRule,
    ConflictSource,
    ConflictStatus,
    ContestStatus,
    ParticipationSource,
    Role,
    SheetState,
    StageKind,
    StageState,
)
from judging.common.models import money
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
from judging.contests.organizers import grant
from judging.entries.models import Entry
from judging.entries.services import record_reached
from judging.extensions import db
from judging.judges.models import Assignment, Conflict, Judge
from judging.scoring.models import Score, ScoreSheet, sheet_totals

STRUCTURE_FILE = "contest.yaml"
DEFAULT_FILES = {
    "entries": "entries.csv",
    "judges": "judges.csv",
    "conflicts": "conflicts.csv",
    "assignments": "assignments.csv",
    "sheets": "sheets.csv",
    "scores": "scores.csv",
}
_YES = {"yes", "y", "true", "1", "是"}
_NO = {"no", "n", "false", "0", "否", ""}


class SeedError(ValueError):
    """The seed files are inconsistent; the message names the file and row."""


def read_structure(seed_dir: str | Path) -> dict[str, Any]:
    """Return the parsed contest.yaml of a seed folder."""
    path = Path(seed_dir) / STRUCTURE_FILE
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict) or "contest" not in data:
        raise SeedError(f"{path}: no contest section")
    return data


def demo_sign_ins(seed_dir: str | Path) -> list[tuple[str, str, str, str]]:
    """Return (role, username, password, name) for every demo account: the organizer, then
    each judge of judges.csv in its order."""
    seed = Path(seed_dir)
    data = read_structure(seed)
    passwords = data.get("demo_passwords", {})
    organizer = data["organizer"]
    result = [
        (
            Role.ORGANIZER.value,
            organizer["username"],
            passwords[Role.ORGANIZER.value],
            organizer.get("display_name", ""),
        )
    ]
    judges = seed / {**DEFAULT_FILES, **(data.get("files") or {})}["judges"]
    for _line, row in _rows(judges):
        if row.get("username"):
            result.append(
                (
                    Role.JUDGE.value,
                    row["username"],
                    passwords[Role.JUDGE.value],
                    row.get("name", ""),
                )
            )
    return result


def load_demo(seed_dir: str | Path) -> dict[str, Any]:
    """Load the seed folder's contest unless its slug exists; return a summary of it."""
    seed = Path(seed_dir)
    data = read_structure(seed)
    slug = data["contest"]["slug"]
    existing = db.session.scalar(sa.select(Contest).where(Contest.slug == slug))
    if existing is not None:
        return summarize(existing, created=False)
    contest = _Loader(seed, data).run()
    return summarize(contest, created=True)


def summarize(contest: Contest, *, created: bool) -> dict[str, Any]:
    """Count what the contest holds, from the database (so a re-run reports the same)."""
    session = db.session

    def count(model, *where) -> int:
        return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0

    groups = list(contest.groups)
    stages = list(contest.stages)
    entries = {
        g.code: count(Entry, Entry.contest_id == contest.id, Entry.group_id == g.id) for g in groups
    }
    reached = {}
    for stage in stages:
        rows = session.execute(
            sa.select(Group.code, sa.func.count(sa.distinct(Entry.id)))
            .join(Entry, Entry.group_id == Group.id)
            .join(Assignment, Assignment.entry_id == Entry.id)
            .where(Assignment.stage_id == stage.id)
            .group_by(Group.code)
        ).all()
        counts = dict(rows)
        reached[stage.code] = {g.code: counts.get(g.code, 0) for g in groups}
    summary: dict[str, Any] = {
        "contest": contest.slug,
        "created": created,
        "entries": entries,
        "judges": count(Judge, Judge.contest_id == contest.id),
        "stages": len(stages),
        "reached": reached,
    }
    for award in contest.special_awards:
        kind, _, stage_code = award.rule.partition(":")
        stage = contest.stage(stage_code)
        if kind == "student_team_reached" and stage is not None:
            summary[f"{stage_code}_student_teams"] = session.scalar(
                sa.select(sa.func.count(sa.distinct(Entry.id)))
                .join(Assignment, Assignment.entry_id == Entry.id)
                .where(Assignment.stage_id == stage.id, Entry.is_student_team.is_(True))
            )
    if stages:
        summary["finalists"] = reached[stages[-1].code]
    stage_ids = [s.id for s in stages]
    judge_ids = sa.select(Judge.id).where(Judge.contest_id == contest.id)
    summary["conflicts"] = count(Conflict, Conflict.judge_id.in_(judge_ids))
    summary["assignments"] = count(Assignment, Assignment.stage_id.in_(stage_ids))
    summary["sheets"] = count(ScoreSheet, ScoreSheet.stage_id.in_(stage_ids))
    summary["submitted_sheets"] = count(
        ScoreSheet, ScoreSheet.stage_id.in_(stage_ids), ScoreSheet.state == SheetState.SUBMITTED
    )
    summary["scores"] = session.scalar(
        sa.select(sa.func.count())
        .select_from(Score)
        .join(ScoreSheet, Score.sheet_id == ScoreSheet.id)
        .where(ScoreSheet.stage_id.in_(stage_ids))
    )
    return summary


# --------------------------------------------------------------------------- parsing


def _rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Read a CSV file as (line number, row) pairs, values stripped."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        return [
            (n, {k.strip(): (v or "").strip() for k, v in row.items() if k})
            for n, row in enumerate(reader, 2)
        ]


def _decimal(value: Any, where: str) -> Decimal:
    try:
        # str() first: YAML may hand over an int or (if unquoted) a float.
        return Decimal(str(value).strip())
    except InvalidOperation as err:
        raise SeedError(f"{where}: not a number: {value!r}") from err


def _time(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError as err:
            raise SeedError(f"{where}: not an ISO timestamp: {value!r}") from err
    if parsed.tzinfo is None:
        raise SeedError(f"{where}: timestamp without a time zone: {value!r}")
    return parsed


def _flag(value: str, where: str) -> bool:
    text = value.strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise SeedError(f"{where}: not yes/no: {value!r}")


def _split(value: str) -> list[str]:
    for sep in (",", "，", ";", "；", " "):
        value = value.replace(sep, "、")
    return [part for part in (p.strip() for p in value.split("、")) if part]


class _Loader:
    """One load of one seed folder; keeps the lookups between steps."""

    def __init__(self, seed: Path, data: dict[str, Any]) -> None:
        self.seed = seed
        self.data = data
        files = {**DEFAULT_FILES, **(data.get("files") or {})}
        self.files = {key: seed / name for key, name in files.items()}
        self.hashes: dict[str, str] = {}

    def rows(self, key: str) -> list[tuple[int, dict[str, str]]]:
        """The rows of one of the CSV files."""
        return _rows(self.files[key])

    def where(self, key: str, line: int) -> str:
        """A file:line label for error messages."""
        return f"{self.files[key].name}:{line}"

    def run(self) -> Contest:
        """Load everything, flushing where later steps need database ids."""
        self.users()
        contest = self.structure()
        # the demo organizer runs the demo contest (and, like any organizer, no other)
        grant(contest=contest, user=self.organizer)
        self.entries(contest)
        self.judges(contest)
        self.conflicts()
        self.assignments_and_sheets()
        db.session.flush()
        self.publications(contest)
        return contest

    def publications(self, contest: Contest) -> None:
        """The demo's published stages come as the organizer left them: their results
        confirmed (frozen in a snapshot) and published, so the public sees that snapshot."""
        from judging.awards.workflow import publish_as_loaded

        for stage in contest.stages:
            if stage.state == StageState.PUBLISHED:
                publish_as_loaded(stage, user=self.organizer)

    # -- accounts

    def password_hash(self, role: str) -> str:
        """One Argon2 hash per demo password: the passwords are public and hashing is slow."""
        if role not in self.hashes:
            self.hashes[role] = hash_password(self.data["demo_passwords"][role])
        return self.hashes[role]

    def users(self) -> None:
        """Create the organizer and judge accounts that do not exist yet."""
        organizer = self.data["organizer"]
        wanted = {organizer["username"]: (Role.ORGANIZER, organizer.get("display_name", ""))}
        for line, row in self.rows("judges"):
            if not row.get("username"):
                raise SeedError(f"{self.where('judges', line)}: no username")
            wanted[row["username"]] = (Role.JUDGE, row.get("name", ""))
        existing = db.session.scalars(sa.select(User).where(User.username.in_(wanted))).all()
        self.accounts = {u.username: u for u in existing}
        for username, (role, display_name) in wanted.items():
            if username not in self.accounts:
                user = User(
                    username=username,
                    role=role,
                    display_name=display_name or username,
                    password_hash=self.password_hash(role.value),
                )
                db.session.add(user)
                self.accounts[username] = user
        db.session.flush()
        self.organizer = self.accounts[organizer["username"]]

    # -- contest structure

    def structure(self) -> Contest:
        """Contest, groups, fields, stages with rubrics and award tiers, special awards."""
        data = self.data
        info = data["contest"]
        organizers = info.get("organizers", "")
        contest = Contest(
            slug=info["slug"],
            name=info["name"],
            year=int(info["year"]),
            organizers="、".join(organizers) if isinstance(organizers, list) else organizers,
            status=ContestStatus(info.get("status", "setup")),
        )
        if info.get("created_at"):
            contest.created_at = _time(info["created_at"], "contest.created_at")
        db.session.add(contest)
        db.session.flush()  # award tiers refer to the contest by id only
        self.groups = {}
        for position, item in enumerate(data["groups"], 1):
            group = Group(contest=contest, position=position, code=item["code"], name=item["name"])
            db.session.add(group)
            self.groups[group.code] = group
        self.fields = {}
        for position, name in enumerate(data["fields"], 1):
            self.fields[name] = Field(contest=contest, position=position, name=name)
            db.session.add(self.fields[name])
        self.stages = {}
        self.criteria: dict[tuple[str, str], dict[str, Criterion]] = {}
        self.opens_at: dict[str, datetime] = {}
        for position, item in enumerate(data["stages"], 1):
            code = item["code"]
            stage = Stage(
                contest=contest,
                position=int(item.get("position", position)),
                code=code,
                name=item["name"],
                kind=StageKind(item.get("kind", "online")),
                state=StageState(item.get("state", "draft")),
                judges_per_entry=int(item.get("judges_per_entry", 5)),
                rule=AggregationRule(item.get("rule", "trimmed")),
                trim=int(item.get("trim", 1)),
                min_sheets_to_trim=int(item.get("min_sheets_to_trim", 5)),
                # Quotas differ per group (12 and 10): they go in AdvanceQuota rows.
                advance_quota=None,
                pitch_minutes=int(item.get("pitch_minutes", 8)),
                qa_minutes=int(item.get("qa_minutes", 7)),
            )
            db.session.add(stage)
            self.stages[code] = stage
            for group_code, quota in (item.get("advance") or {}).items():
                group = self.group(group_code, f"stages.{code}.advance")
                db.session.add(AdvanceQuota(stage=stage, group=group, quota=int(quota)))
            if item.get("opens_at"):
                self.opens_at[code] = _time(item["opens_at"], f"stages.{code}.opens_at")
            for group_code, lines in (item.get("rubric") or {}).items():
                group = self.group(group_code, f"stages.{code}.rubric")
                rubric = {}
                for n, line in enumerate(lines, 1):
                    where = f"stages.{code}.rubric.{group_code}[{n}]"
                    criterion = Criterion(
                        stage=stage,
                        group=group,
                        position=n,
                        name=line["name"],
                        description=line.get("description", ""),
                        max_points=_decimal(line["max"], where),
                        step=_decimal(line.get("step", "0.5"), where),
                    )
                    db.session.add(criterion)
                    rubric[criterion.name] = criterion
                self.criteria[(code, group_code)] = rubric
            for group_code, tiers in (item.get("awards") or {}).items():
                group = self.group(group_code, f"stages.{code}.awards")
                for n, tier in enumerate(tiers, 1):
                    db.session.add(
                        AwardTier(
                            contest_id=contest.id,
                            stage=stage,
                            group=group,
                            position=n,
                            name=tier["name"],
                            quota=int(tier["quota"]),
                            prize=money(_decimal(tier.get("prize", 0), f"{code}.awards")),
                        )
                    )
        for item in data.get("special_awards") or []:
            db.session.add(
                SpecialAward(
                    contest=contest,
                    name=item["name"],
                    rule=item["rule"],
                    prize=money(_decimal(item.get("prize", 0), "special_awards")),
                )
            )
        db.session.flush()
        self.contest = contest
        return contest

    def group(self, code: str, where: str) -> Group:
        """The group with this code, or a SeedError."""
        try:
            return self.groups[code]
        except KeyError:
            raise SeedError(f"{where}: unknown group {code!r}") from None

    # -- entries and judges

    def entries(self, contest: Contest) -> None:
        """Add the entries."""
        self.entry_by_code: dict[str, Entry] = {}
        for line, row in self.rows("entries"):
            where = self.where("entries", line)
            code = row["code"]
            if code in self.entry_by_code:
                raise SeedError(f"{where}: duplicate code {code}")
            field_name = row.get("field", "")
            if field_name and field_name not in self.fields:
                raise SeedError(f"{where}: unknown field {field_name!r}")
            entry = Entry(
                contest=contest,
                code=code,
                title=row["title"],
                group=self.group(row["group"], where),
                field=self.fields.get(field_name),
                organization=row.get("organization", ""),
                leader=row.get("leader", ""),
                is_student_team=_flag(row.get("student_team", ""), where),
                phone=row.get("phone", ""),
                email=row.get("email", ""),
                summary=row.get("summary", ""),
            )
            self.entry_by_code[code] = entry
        db.session.add_all(self.entry_by_code.values())

    def judges(self, contest: Contest) -> None:
        """Add the judges, each tied to their account, with expertise fields."""
        self.judge_by_username: dict[str, Judge] = {}
        for line, row in self.rows("judges"):
            where = self.where("judges", line)
            expertise = []
            for name in _split(row.get("expertise", "")):
                if name not in self.fields:
                    raise SeedError(f"{where}: unknown field {name!r}")
                expertise.append(self.fields[name])
            judge = Judge(
                contest=contest,
                user=self.accounts[row["username"]],
                name=row.get("name") or row["username"],
                title=row.get("title", ""),
                organization=row.get("organization", ""),
                email=row.get("email", ""),
                expertise=expertise,
            )
            self.judge_by_username[row["username"]] = judge
        db.session.add_all(self.judge_by_username.values())
        db.session.flush()

    def judge(self, username: str, where: str) -> Judge:
        """The judge with this username, or a SeedError."""
        try:
            return self.judge_by_username[username]
        except KeyError:
            raise SeedError(f"{where}: unknown judge {username!r}") from None

    def entry(self, code: str, where: str) -> Entry:
        """The entry with this code, or a SeedError."""
        try:
            return self.entry_by_code[code]
        except KeyError:
            raise SeedError(f"{where}: unknown entry {code!r}") from None

    def stage(self, code: str, where: str) -> Stage:
        """The stage with this code, or a SeedError."""
        try:
            return self.stages[code]
        except KeyError:
            raise SeedError(f"{where}: unknown stage {code!r}") from None

    def conflicts(self) -> None:
        """Add the conflicts, decided by the organizer account."""
        self.binding: set[tuple[int, int]] = set()
        rows = []
        for line, row in self.rows("conflicts"):
            where = self.where("conflicts", line)
            judge = self.judge(row["judge"], where)
            entry = self.entry(row["entry"], where)
            status = ConflictStatus(row.get("status") or "binding")
            at = _time(row["created_at"], where) if row.get("created_at") else None
            rows.append(
                {
                    "judge_id": judge.id,
                    "entry_id": entry.id,
                    "reason": row.get("reason", ""),
                    "source": ConflictSource(row.get("source") or "organizer"),
                    "status": status,
                    **({"created_at": at} if at else {}),
                    "created_by_id": self.organizer.id,
                    "decided_at": at if status != ConflictStatus.PROPOSED else None,
                    "decided_by_id": (
                        self.organizer.id if status != ConflictStatus.PROPOSED else None
                    ),
                }
            )
            if status == ConflictStatus.BINDING:
                self.binding.add((judge.id, entry.id))
        if rows:
            db.session.execute(sa.insert(Conflict), rows)

    # -- assignments, sheets and scores

    def assignments_and_sheets(self) -> None:
        """Assignments, sheets and their points; a sheet implies its assignment."""
        pairs: dict[tuple[str, str, str], str] = {}
        for line, row in self.rows("assignments"):
            pairs.setdefault(
                (row["stage"], row["judge"], row["entry"]), self.where("assignments", line)
            )
        points: dict[tuple[str, str, str], list[tuple[str, str, str]]] = defaultdict(list)
        for line, row in self.rows("scores"):
            key = (row["stage"], row["judge"], row["entry"])
            points[key].append((row["criterion"], row["points"], self.where("scores", line)))
        sheets: dict[tuple[str, str, str], tuple[dict[str, str], str]] = {}
        for line, row in self.rows("sheets"):
            key = (row["stage"], row["judge"], row["entry"])
            where = self.where("sheets", line)
            if key in sheets:
                raise SeedError(f"{where}: a second sheet for {key}")
            sheets[key] = (row, where)
            pairs.setdefault(key, where)
        if set(points) - set(sheets):
            key = sorted(set(points) - set(sheets))[0]
            raise SeedError(f"{points[key][0][2]}: points for {key} but no sheet")

        assignment_rows = []
        reached: dict[int, int] = {}  # entry id -> the furthest stage position it takes part in
        for (stage_code, username, code), where in pairs.items():
            stage = self.stage(stage_code, where)
            judge = self.judge(username, where)
            entry = self.entry(code, where)
            if (judge.id, entry.id) in self.binding:
                raise SeedError(f"{where}: {username} has a binding conflict with {code}")
            assignment_rows.append(
                {
                    "stage_id": stage.id,
                    "judge_id": judge.id,
                    "entry_id": entry.id,
                    **(
                        {"created_at": self.opens_at[stage_code]}
                        if stage_code in self.opens_at
                        else {}
                    ),
                }
            )
            reached[entry.id] = max(reached.get(entry.id, 0), stage.position)
        if assignment_rows:
            db.session.execute(sa.insert(Assignment), assignment_rows)
        self.advance(reached)

        sheet_rows: list[dict[str, Any]] = []
        sheet_points: list[list[tuple[int, Decimal]]] = []
        for key, (row, where) in sheets.items():
            stage_code, username, code = key
            entry = self.entry(code, where)
            rubric = self.criteria.get((stage_code, entry.group.code), {})
            state = SheetState(row.get("state") or "submitted")
            submitted_at = _time(row["submitted_at"], where) if row.get("submitted_at") else None
            if state == SheetState.SUBMITTED and submitted_at is None:
                raise SeedError(f"{where}: submitted sheet without submitted_at")
            sheet_rows.append(
                {
                    "stage_id": self.stages[stage_code].id,
                    "judge_id": self.judge_by_username[username].id,
                    "entry_id": entry.id,
                    "state": state,
                    "comment": row.get("comment", ""),
                    "version": 1,
                    "submitted_at": submitted_at,
                    **(
                        {"created_at": submitted_at, "updated_at": submitted_at}
                        if submitted_at
                        else {}
                    ),
                }
            )
            values: dict[str, tuple[int, Decimal]] = {}
            for criterion_name, value, point_where in points.get(key, []):
                criterion = rubric.get(criterion_name)
                if criterion is None:
                    raise SeedError(f"{point_where}: {criterion_name!r} is not in the rubric")
                if criterion_name in values:
                    raise SeedError(f"{point_where}: {criterion_name!r} scored twice")
                value = _decimal(value, point_where)
                if not (0 <= value <= criterion.max_points) or value % criterion.step:
                    raise SeedError(
                        f"{point_where}: {value} is outside 0..{criterion.max_points} "
                        f"or not a multiple of {criterion.step}"
                    )
                values[criterion_name] = (criterion.id, value)
            if state == SheetState.SUBMITTED and set(values) != set(rubric):
                raise SeedError(f"{where}: a submitted sheet must score every criterion")
            sheet_points.append(list(values.values()))
            sheet_rows[-1].update(sheet_totals(value for _, value in values.values()))
        if not sheet_rows:
            return
        # Bulk statements: several thousand rows through the unit of work take seconds.
        sheet_ids = db.session.scalars(
            sa.insert(ScoreSheet).returning(ScoreSheet.id, sort_by_parameter_order=True),
            sheet_rows,
        ).all()
        score_rows = [
            {"sheet_id": sheet_id, "criterion_id": criterion_id, "points": value}
            for sheet_id, values in zip(sheet_ids, sheet_points, strict=True)
            for criterion_id, value in values
        ]
        if score_rows:
            db.session.execute(sa.insert(Score), score_rows)

    def advance(self, reached: dict[int, int]) -> None:
        """Record each entry as advanced into every stage after the first up to the furthest
        one it takes part in (the demo's advancement, confirmed before the data starts)."""
        db.session.flush()
        record_reached(self.contest.id, reached, source=ParticipationSource.ADVANCED)
