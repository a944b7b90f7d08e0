"""Writing a checked plan: bulk inserts and per-row updates, in dependency order, one flush.

Runs inside the caller's transaction and never commits. Big tables (entries, judges,
assignments, score sheets and points) go in as one multi-row INSERT each, returning
their ids, the way ``judging.seed`` loads the demo.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import sqlalchemy as sa

from judging.auth.models import User
from judging.common.audit import record
from judging.common.enums import (
    ConflictStatus,
    ParticipationSource,
    Role,
    SheetState,
    StageState,
)
from judging.common.models import utcnow
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
from judging.entries.services import record_reached
from judging.extensions import db
from judging.imports.state import Existing
from judging.imports.validate import Plan
from judging.judges.models import Assignment, Conflict, Judge, judge_fields
from judging.scoring.models import Score, ScoreSheet, sheet_totals
from judging.scoring.services import describe_sheet

_CHUNK = 5_000


def _insert(model, rows: list[dict]) -> list[int]:
    """Insert rows, returning their new ids in order."""
    ids: list[int] = []
    for start in range(0, len(rows), _CHUNK):
        ids.extend(
            db.session.scalars(
                sa.insert(model).returning(model.id, sort_by_parameter_order=True),
                rows[start : start + _CHUNK],
            ).all()
        )
    return ids


def _update(model, row_id: int, values: dict) -> None:
    db.session.execute(
        sa.update(model)
        .where(model.id == row_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


class Writer:
    """Writes one plan; ``ids`` grow with every record created."""

    def __init__(self, plan: Plan, existing: Existing, *, user_id: int | None):
        self.plan = plan
        self.x = existing
        self.user_id = user_id
        self.ids = {kind: dict(ids) for kind, ids in existing.ids.items()}
        self.created: Counter = Counter()
        self.updated: Counter = Counter()
        self.now = utcnow()

    def items(self, kind: str):
        """(key, values, is_new) of everything planned for a kind."""
        for key, values in self.plan.create[kind].items():
            yield key, values, True
        for key, values in self.plan.update[kind].items():
            yield key, values, False

    def run(self) -> int:
        """Write everything; return the contest's id."""
        contest_id = self.contest()
        for step in (
            self.groups,
            self.fields,
            self.stages,
            self.criteria,
            self.awards,
            self.special_awards,
            self.judges,
            self.entries,
            self.conflicts,
            self.assignments,
            self.sheets,
        ):
            step(contest_id)
        self.advance(contest_id)
        db.session.flush()
        self.publications()
        return contest_id

    def publications(self) -> None:
        """A stage created already published (a contest run elsewhere, re-imported) comes
        with its results frozen and published, as the demo loader does: the public then
        sees that snapshot. Existing stages never change state here (the validator refuses)."""
        from judging.awards.workflow import publish_as_loaded

        for code, values in self.plan.create["stages"].items():
            if values.get("state") == StageState.PUBLISHED:
                stage = db.session.get(Stage, self.ids["stages"][code])
                user = db.session.get(User, self.user_id) if self.user_id else None
                publish_as_loaded(stage, user=user)

    # -- structure

    def contest(self) -> int:
        """Create or change the contest row."""
        for slug, values, is_new in self.items("contest"):
            if is_new:
                # a new contest is a draft until the organizer makes it public
                contest = Contest(slug=slug, is_public=False, **values)
                db.session.add(contest)
                db.session.flush()
                self.ids["contest"][slug] = contest.id
                self.created["contest"] += 1
            else:
                _update(Contest, self.ids["contest"][slug], values)
                self.updated["contest"] += 1
        return self.x.contest_id or next(iter(self.ids["contest"].values()))

    def _simple(self, kind: str, model, contest_id: int, make) -> None:
        new = [(key, make(key, values)) for key, values, is_new in self.items(kind) if is_new]
        for (key, _), row_id in zip(new, _insert(model, [r for _, r in new]), strict=True):
            self.ids[kind][key] = row_id
        self.created[kind] += len(new)
        for key, values in self.plan.update[kind].items():
            _update(model, self.ids[kind][key], self._columns(kind, values))
            self.updated[kind] += 1

    def _columns(self, kind: str, values: dict) -> dict:
        """Record fields as table columns (codes and names to ids)."""
        out = dict(values)
        if kind == "entries":
            if "group" in out:
                out["group_id"] = self.ids["groups"][out.pop("group")]
            if "field" in out:
                field = out.pop("field")
                out["field_id"] = self.ids["fields"][field] if field else None
            out.pop("advanced_to", None)  # participations, written by ``entries``
        elif kind == "stages":
            if "advance" in out:
                out["advance_quota"] = out.pop("advance")[0]
            if "threshold" in out:
                out["advance_threshold"] = out.pop("threshold")
        elif kind == "judges":
            out.pop("expertise", None)
        return out

    def groups(self, contest_id: int) -> None:
        """Groups, in the order of their rows."""
        self._simple(
            "groups",
            Group,
            contest_id,
            lambda code, v: {"contest_id": contest_id, "code": code, **v},
        )

    def fields(self, contest_id: int) -> None:
        """Fields, in the order of their rows."""
        self._simple(
            "fields",
            Field,
            contest_id,
            lambda name, v: {"contest_id": contest_id, "name": name, **v},
        )

    def stages(self, contest_id: int) -> None:
        """Stages, and their advancement quotas per group."""
        self._simple(
            "stages",
            Stage,
            contest_id,
            lambda code, v: {
                "contest_id": contest_id,
                "code": code,
                **self._columns("stages", v),
            },
        )
        for code, values, _ in self.items("stages"):
            if "advance" not in values:
                continue
            stage_id = self.ids["stages"][code]
            db.session.execute(sa.delete(AdvanceQuota).where(AdvanceQuota.stage_id == stage_id))
            rows = [
                {"stage_id": stage_id, "group_id": self.ids["groups"][group], "quota": quota}
                for group, quota in values["advance"][1]
            ]
            if rows:
                db.session.execute(sa.insert(AdvanceQuota), rows)

    def criteria(self, contest_id: int) -> None:
        """Rubric lines per stage and group."""
        self._simple(
            "criteria",
            Criterion,
            contest_id,
            lambda key, v: {
                "stage_id": self.ids["stages"][key[0]],
                "group_id": self.ids["groups"][key[1]],
                "name": key[2],
                **v,
            },
        )

    def awards(self, contest_id: int) -> None:
        """Award tiers per stage and group."""
        self._simple(
            "awards",
            AwardTier,
            contest_id,
            lambda key, v: {
                "contest_id": contest_id,
                "stage_id": self.ids["stages"][key[0]],
                "group_id": self.ids["groups"][key[1]],
                "position": key[2],
                **v,
            },
        )

    def special_awards(self, contest_id: int) -> None:
        """Special awards and their rules."""
        self._simple(
            "special_awards",
            SpecialAward,
            contest_id,
            lambda name, v: {"contest_id": contest_id, "name": name, **v},
        )

    # -- people

    def judges(self, contest_id: int) -> None:
        """Accounts for new judges (no password: they sign in by one-time link), then judges."""
        accounts = list(self.plan.create["users"].items())
        user_ids = _insert(
            User,
            [
                {
                    "username": username,
                    "display_name": values["display_name"],
                    "password_hash": None,
                    "role": Role.JUDGE,
                }
                for username, values in accounts
            ],
        )
        users = {username: uid for username, (uid, _role) in self.x.users.items()}
        users.update({username: uid for (username, _), uid in zip(accounts, user_ids, strict=True)})
        self.created["users"] += len(accounts)
        self._simple(
            "judges",
            Judge,
            contest_id,
            lambda username, v: {
                "contest_id": contest_id,
                "user_id": users[username],
                **self._columns("judges", v),
            },
        )
        links = []
        for username, values, is_new in self.items("judges"):
            if "expertise" not in values:
                continue
            judge_id = self.ids["judges"][username]
            if not is_new:
                db.session.execute(
                    sa.delete(judge_fields).where(judge_fields.c.judge_id == judge_id)
                )
            links.extend(
                {"judge_id": judge_id, "field_id": self.ids["fields"][name]}
                for name in values["expertise"]
            )
        if links:
            db.session.execute(sa.insert(judge_fields), links)

    def entries(self, contest_id: int) -> None:
        """Entries, their group, field and furthest stage (the stages they were advanced
        into: every stage after the first up to the one the file names)."""
        self._simple(
            "entries",
            Entry,
            contest_id,
            lambda code, v: {
                "contest_id": contest_id,
                "code": code,
                **self._columns("entries", v),
            },
        )
        furthest = {
            self.ids["entries"][code]: self._position(values["advanced_to"])
            if values["advanced_to"]
            else None
            for code, values, _ in self.items("entries")
            if "advanced_to" in values
        }
        if furthest:
            record_reached(contest_id, furthest, source=ParticipationSource.IMPORTED, replace=True)

    # -- links

    def conflicts(self, contest_id: int) -> None:
        """Conflicts, decided (unless proposed) by the importing organizer."""

        def make(key, values):
            decided = values["status"] != ConflictStatus.PROPOSED
            return {
                "judge_id": self.ids["judges"][key[0]],
                "entry_id": self.ids["entries"][key[1]],
                **values,
                "created_by_id": self.user_id,
                "decided_at": self.now if decided else None,
                "decided_by_id": self.user_id if decided else None,
            }

        self._simple("conflicts", Conflict, contest_id, make)

    def assignments(self, contest_id: int) -> None:
        """Assignments, including those score rows imply."""
        self._simple(
            "assignments",
            Assignment,
            contest_id,
            lambda key, v: {
                "stage_id": self.ids["stages"][key[0]],
                "judge_id": self.ids["judges"][key[1]],
                "entry_id": self.ids["entries"][key[2]],
            },
        )

    def _criterion_ids(self, stage: str, entry: str) -> dict[str, int]:
        group = self._group_of(entry)
        return {
            key[2]: crit_id
            for key, crit_id in self.ids["criteria"].items()
            if key[0] == stage and key[1] == group
        }

    def _group_of(self, code: str) -> str:
        record = self.plan.create["entries"].get(code) or self.x.records["entries"][code]
        changed = self.plan.update["entries"].get(code, {})
        return changed.get("group", record["group"])

    def sheets(self, contest_id: int) -> None:
        """New score sheets with their points; drafts the file changes are rewritten."""
        new = list(self.plan.create["sheets"].items())
        rows = []
        for (stage, judge, entry), values in new:
            submitted = values["state"] == SheetState.SUBMITTED
            at: datetime | None = values.get("submitted_at") or (self.now if submitted else None)
            rows.append(
                {
                    "stage_id": self.ids["stages"][stage],
                    "judge_id": self.ids["judges"][judge],
                    "entry_id": self.ids["entries"][entry],
                    "state": values["state"],
                    "comment": values["comment"],
                    "version": 1,
                    "submitted_at": at if submitted else None,
                    "created_at": at or self.now,
                    "updated_at": at or self.now,
                    **sheet_totals(values["points"].values()),
                }
            )
        sheet_ids = _insert(ScoreSheet, rows)
        points = []
        rubric_cache: dict[tuple[str, str], dict[str, int]] = {}
        for ((stage, judge, entry), values), sheet_id in zip(new, sheet_ids, strict=True):
            self.ids["sheets"][(stage, judge, entry)] = sheet_id
            group_key = (stage, self._group_of(entry))
            if group_key not in rubric_cache:
                rubric_cache[group_key] = self._criterion_ids(stage, entry)
            ids = rubric_cache[group_key]
            points.extend(
                {"sheet_id": sheet_id, "criterion_id": ids[name], "points": value}
                for name, value in values["points"].items()
            )
        for start in range(0, len(points), _CHUNK):
            db.session.execute(sa.insert(Score), points[start : start + _CHUNK])
        self.created["sheets"] += len(new)
        for key, changes in self.plan.update["sheets"].items():
            sheet_id = self.ids["sheets"][key]
            old = describe_sheet(sheet_id)
            values = {**self.x.records["sheets"][key], **changes}
            submitted = values["state"] == SheetState.SUBMITTED
            _update(
                ScoreSheet,
                sheet_id,
                {
                    "state": values["state"],
                    "comment": values["comment"],
                    "version": ScoreSheet.version + 1,
                    "updated_at": self.now,
                    "submitted_at": self.now if submitted else None,
                    **sheet_totals(values["points"].values()),
                },
            )
            db.session.execute(sa.delete(Score).where(Score.sheet_id == sheet_id))
            ids = self._criterion_ids(key[0], key[2])
            rows = [
                {"sheet_id": sheet_id, "criterion_id": ids[name], "points": value}
                for name, value in values["points"].items()
            ]
            if rows:
                db.session.execute(sa.insert(Score), rows)
            record(
                "sheet_import",
                contest_id=contest_id,
                entry_id=self.ids["entries"][key[2]],
                object_type="ScoreSheet",
                object_id=sheet_id,
                old=old,
                new=describe_sheet(sheet_id),
                user_id=self.user_id,
            )
            self.updated["sheets"] += 1

    def advance(self, contest_id: int) -> None:
        """Entries taking part, through this import, in a stage after the first have reached
        every stage up to it (as the demo loader records), unless the file gave their
        furthest stage itself."""
        touched: dict[int, int] = {}
        for kind in ("assignments", "sheets"):
            for stage, _judge, entry in self.plan.create[kind]:
                if entry in self.plan.explicit_advance:
                    continue
                entry_id = self.ids["entries"][entry]
                touched[entry_id] = max(touched.get(entry_id, 0), self._position(stage))
        if touched:
            record_reached(contest_id, touched, source=ParticipationSource.IMPORTED)

    def _position(self, stage: str) -> int:
        record = self.plan.create["stages"].get(stage) or self.x.records["stages"][stage]
        return self.plan.update["stages"].get(stage, {}).get("position", record["position"])
