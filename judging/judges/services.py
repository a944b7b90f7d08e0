"""Writes about judges: one judge added or edited by the organizer, their account
deactivated, given a temporary password or a new card link; one-time sign-in links for
judge cards and chat (the organizer's conflict decisions are scoring's:
``judging.scoring.conflicts``)."""

from __future__ import annotations

import sqlalchemy as sa

from judging.auth.models import User
from judging.auth.services import (
    create_user,
    end_sessions,
    issue_login_link,
    revoke_login_tokens,
    set_enabled,
    set_temporary_password,
)
from judging.common.audit import record
from judging.common.enums import Role
from judging.contests.models import Contest, Field
from judging.contests.versions import bump_data_version
from judging.extensions import db
from judging.judges.models import Judge

MAX_REASON = 500
#: The fields of a judge the organizer edits ("title" is the judge's own, 职称).
EDITABLE = ("name", "title", "organization", "email", "expertise", "panel_group_id")


class JudgeError(ValueError):
    """A refused judge change: a ``code`` the pages put in words and the form ``field``."""

    def __init__(self, code: str, /, *, field: str = "", **params) -> None:
        super().__init__(code)
        self.code = code
        self.field = field
        self.params = params


def login_link(judge: Judge) -> str:
    """Issue a fresh one-time sign-in link for a judge and return it as a full URL."""
    return issue_login_link(user=judge.user, contest_id=judge.contest_id)


def reissue_login_link(judge: Judge) -> str:
    """A new card link for the judge: their unused links for this contest stop working (a
    lost card), and a fresh one is issued and returned."""
    ended = revoke_login_tokens(user=judge.user, contest_id=judge.contest_id)
    link = login_link(judge)
    record(
        "judge_link_reissue",
        contest_id=judge.contest_id,
        obj=judge,
        new={"judge": judge.name, "ended": ended},
    )
    return link


def free_username(contest: Contest) -> str:
    """A free username for a judge given without one: <contest slug>-judge<nn>, as the
    judges' import makes them."""
    prefix = f"{contest.slug}-judge"
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    taken = set(
        db.session.scalars(
            sa.select(User.username).where(User.username.like(f"{escaped}%", escape="\\"))
        )
    )
    n = 1
    while f"{prefix}{n:02d}" in taken:
        n += 1
    return f"{prefix}{n:02d}"


def _audit_values(judge: Judge) -> dict:
    values = {
        name: getattr(judge, name)
        for name in EDITABLE
        if name not in ("expertise", "panel_group_id")
    }
    values["job_title"] = values.pop("title")
    values["expertise"] = [f.name for f in judge.expertise]
    groups = {g.id: g.code for g in judge.contest.groups}
    values["panel"] = groups.get(judge.panel_group_id)
    return values


def _check_fields(contest: Contest, fields: list[Field], panel: int | None = None) -> None:
    if any(f.contest_id != contest.id for f in fields):
        raise JudgeError("unknown_field", field="expertise")
    if panel is not None and panel not in {g.id for g in contest.groups}:
        raise JudgeError("unknown_field", field="panel")


def create_judge(*, contest: Contest, values: dict, username: str = "") -> Judge:
    """Add a judge to the contest with a judge account: a new one (no password: the card
    link signs it in, or a temporary password set next), or the existing judge account of
    ``username`` (the same person judging another contest, as the import links them)."""
    _check_fields(contest, values["expertise"], values.get("panel_group_id"))
    user = None
    if username:
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is not None and user.role != Role.JUDGE:
            raise JudgeError("username_organizer", field="username")
        if user is not None and db.session.scalar(
            sa.select(Judge.id).where(Judge.contest_id == contest.id, Judge.user_id == user.id)
        ):
            raise JudgeError("judge_exists", field="username", username=username)
    if user is None:
        user = create_user(
            username=username or free_username(contest),
            password=None,
            role=Role.JUDGE,
            display_name=values["name"],
        )
    judge = Judge(contest_id=contest.id, user_id=user.id)
    for name in EDITABLE:
        if name in values:  # (a caller without a panel leaves it as it is)
            setattr(judge, name, values[name])
    try:  # the same account added twice at once: the unique constraint decides
        with db.session.begin_nested():
            db.session.add(judge)
            db.session.flush()
    except sa.exc.IntegrityError as err:
        raise JudgeError("judge_exists", field="username", username=user.username) from err
    record(
        "judge_add",
        contest_id=contest.id,
        obj=judge,
        new={"username": user.username, **_audit_values(judge)},
    )
    bump_data_version(contest.id)
    return judge


def update_judge(*, judge: Judge, values: dict) -> dict:
    """Change a judge's name, title, organization, email and expertise; returns the old
    values of what changed ({}: nothing). The account's display name follows the name
    while it was the same."""
    _check_fields(judge.contest, values["expertise"], values.get("panel_group_id"))
    old = _audit_values(judge)
    if judge.user.display_name == judge.name:
        judge.user.display_name = values["name"]
    for name in EDITABLE:
        if name in values:  # (a caller without a panel leaves it as it is)
            setattr(judge, name, values[name])
    new = _audit_values(judge)
    changed = {k: old[k] for k in old if old[k] != new[k]}
    if not changed:
        return {}
    db.session.flush()
    record(
        "judge_edit",
        contest_id=judge.contest_id,
        obj=judge,
        old=changed,
        new={k: new[k] for k in changed},
    )
    bump_data_version(judge.contest_id)  # cached standings carry the judges' names
    return changed


def set_judge_active(*, judge: Judge, active: bool, by: User) -> bool:
    """Deactivate or reactivate a judge's account: deactivated, they cannot sign in (their
    links end, their sessions end at the next request) and their sheets stay. Returns
    whether anything changed."""
    was = judge.user.is_enabled
    set_enabled(user=judge.user, enabled=active, by=by)
    if was == active:
        return False
    record(
        "account_reactivate" if active else "account_deactivate",
        contest_id=judge.contest_id,
        obj=judge,
        old={"active": was},
        new={"active": active, "judge": judge.name, "username": judge.user.username},
    )
    return True


def set_judge_password(*, judge: Judge, password: str) -> None:
    """Set a temporary password for the judge, to be replaced at their first sign-in (the
    audit log records that it was set, never the password)."""
    set_temporary_password(user=judge.user, password=password)
    record(
        "judge_password_set",
        contest_id=judge.contest_id,
        obj=judge,
        new={"judge": judge.name, "username": judge.user.username},
    )


def end_judge_sessions(*, judge: Judge) -> None:
    """Sign the judge out everywhere (a lost phone, a borrowed computer): every session of
    their account ends at its next request; they sign in again with their password or a
    new card link."""
    end_sessions(user=judge.user)
    record(
        "judge_sessions_end",
        contest_id=judge.contest_id,
        obj=judge,
        new={"judge": judge.name, "username": judge.user.username},
    )
