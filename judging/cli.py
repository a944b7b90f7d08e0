"""The `flask --app judging` commands."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask_migrate import upgrade

from judging.common.audit import record
from judging.common.enums import Role
from judging.common.transactions import command_transaction
from judging.extensions import db


def register_commands(app: Flask) -> None:
    """Attach the commands to the app."""
    app.cli.add_command(init_db)
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_organizer)
    app.cli.add_command(grant_organizer)
    app.cli.add_command(demo_sign_ins)
    app.cli.add_command(judge_link)
    app.cli.add_command(rank_command)
    app.cli.add_command(awards_command)
    app.cli.add_command(stage_command)
    app.cli.add_command(confirm_command)
    app.cli.add_command(assign_command)
    app.cli.add_command(verify_audit)
    register_backup_commands(app)

    from judging.exports.cli import register as register_excel

    register_excel(app)


@click.command("init-db")
def init_db():
    """Create or upgrade the database schema (the same as `flask db upgrade`)."""
    upgrade()
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


@click.command("seed-demo")
@click.option("--seed-dir", default=None, help="Folder of the demo files (default: seed/).")
def seed_demo(seed_dir: str | None):
    """Load the 2020 Dalian demo contest; running it again changes nothing."""
    from judging.seed import load_demo

    started = time.perf_counter()
    with command_transaction():
        summary = load_demo(seed_dir or current_app.config["SEED_DIR"])
    elapsed = time.perf_counter() - started
    verb = "Loaded" if summary.get("created") else "Already loaded"
    click.echo(f"{verb} contest {summary['contest']} in {elapsed:.1f} s:")
    for key, value in summary.items():
        if key not in ("contest", "created"):
            click.echo(f"  {key}: {value}")


@click.command("demo-sign-ins")
@click.option("--seed-dir", default=None)
def demo_sign_ins(seed_dir: str | None):
    """Print the sign-ins of every demo account: the organizer and each judge."""
    from judging.seed import demo_sign_ins as sign_ins

    for role, username, password, name in sign_ins(seed_dir or current_app.config["SEED_DIR"]):
        click.echo(f"  {role:<10} {username:<12} {password:<16} {name}".rstrip())


@click.command("create-organizer")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--name", "display_name", default="", help="Display name.")
@click.option(
    "--contest",
    "slugs",
    multiple=True,
    help="A contest (slug) the organizer runs; repeat for several. Without it, none.",
)
def create_organizer(username: str, password_stdin: bool, display_name: str, slugs):
    """Create an organizer account; asks for the password unless --password-stdin. The
    account runs the contests named by --contest (an organizer sees no other contest)."""
    from judging.auth.services import AccountError, create_user
    from judging.contests.organizers import grant

    contests = [_contest_or_fail(slug) for slug in slugs]
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with command_transaction():
            user = create_user(
                username=username,
                password=password,
                role=Role.ORGANIZER,
                display_name=display_name,
            )
            for contest in contests:
                grant(contest=contest, user=user)
    except AccountError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"Organizer {username} created.")
    for contest in contests:
        click.echo(f"  runs {contest.slug}")


@click.command("grant-organizer")
@click.argument("username")
@click.argument("slug")
def grant_organizer(username: str, slug: str):
    """Let the organizer account USERNAME run the contest SLUG (again: no change)."""
    import sqlalchemy as sa

    from judging.auth.models import User
    from judging.contests.organizers import grant, may_manage

    contest = _contest_or_fail(slug)
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None or user.role != Role.ORGANIZER:
        raise click.ClickException(f"no organizer account {username!r}")
    if may_manage(user, contest):
        click.echo(f"{username} already runs {slug}.")
        return
    with command_transaction():
        grant(contest=contest, user=user)
    click.echo(f"{username} now runs {slug}.")


@click.command("judge-link")
@click.option("--contest", "slug", required=True, help="The contest's slug.")
@click.argument("username")
def judge_link(slug: str, username: str):
    """Print a fresh one-time sign-in link for one judge (to send by chat). It starts with
    PUBLIC_URL, the address the judges' phones open (http://127.0.0.1:5000 when unset)."""
    import sqlalchemy as sa

    from judging.auth.models import User
    from judging.auth.services import DEFAULT_PUBLIC_URL
    from judging.contests.models import Contest
    from judging.judges.models import Judge
    from judging.judges.services import login_link

    judge = db.session.scalar(
        sa.select(Judge)
        .join(Contest, Contest.id == Judge.contest_id)
        .join(User, User.id == Judge.user_id)
        .where(Contest.slug == slug, User.username == username)
    )
    if judge is None:
        raise click.ClickException(f"no judge {username!r} in contest {slug!r}")
    with command_transaction():
        link = login_link(judge)
        record("judge_links_issued", contest_id=judge.contest_id, new={"judges": [judge.name]})
    if not current_app.config.get("PUBLIC_URL"):
        # A command has no request to take the address from: say which one the link got.
        click.echo(
            f"PUBLIC_URL is not set: the link uses {DEFAULT_PUBLIC_URL}, the address of"
            " `make run`. Set PUBLIC_URL to the address the judges' phones open, e.g."
            " PUBLIC_URL=http://192.168.1.20:8000 flask judge-link …",
            err=True,
        )
    click.echo(link)


def _contest_or_fail(slug: str):
    from judging.contests.queries import get_contest

    contest = get_contest(slug)
    if contest is None:
        raise click.ClickException(f"no contest {slug!r}")
    return contest


def _two(value) -> str | None:
    return None if value is None else f"{value:.2f}"


@click.command("rank")
@click.option("--contest", "slug", required=True, help="The contest's slug.")
@click.option("--stage", "stage_code", required=True, help="The stage's code.")
@click.option("--group", "group_code", default=None, help="Only this group.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def rank_command(slug: str, stage_code: str, group_code: str | None, as_json: bool):
    """Print a stage's standings per group, by the stage's rule (Rules 2 and 4)."""
    import json

    from judging.standings.groups import group_standings

    contest = _contest_or_fail(slug)
    stage = contest.stage(stage_code)
    if stage is None:
        raise click.ClickException(f"no stage {stage_code!r} in {slug}")
    groups = [g for g in contest.groups if group_code in (None, g.code)]
    if not groups:
        raise click.ClickException(f"no group {group_code!r} in {slug}")
    out = {}
    for group in groups:
        standings = group_standings(stage, group)
        out[group.code] = [
            {
                "rank": row.rank,
                "code": row.code,
                "title": standings.facts(row).title,
                "score": _two(row.score),
                "sheets": row.sheet_count,
                "dropped": [_two(total) for _, total in row.dropped],
                "tied": row.tied,
            }
            for row in standings.rows
        ]
    if as_json:
        click.echo(
            json.dumps(
                {"contest": slug, "stage": stage_code, "groups": out}, ensure_ascii=False, indent=2
            )
        )
        return
    for group in groups:
        click.echo(f"{stage.name} · {group.name}")
        for row in out[group.code]:
            flag = "  (tie for the jury)" if row["tied"] else ""
            dropped = ", ".join(row["dropped"]) or "-"
            click.echo(
                f"  {row['rank'] or '-':>4}  {row['code']:<8} {row['score'] or '-':>7}  "
                f"sheets {row['sheets']}  dropped {dropped}  {row['title']}{flag}"
            )


@click.command("awards")
@click.option("--contest", "slug", required=True, help="The contest's slug.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def awards_command(slug: str, as_json: bool):
    """Print the prize list: tier awards by rank, special awards, and prize totals."""
    import json

    from judging.awards.queries import awards_result

    contest = _contest_or_fail(slug)
    result = awards_result(contest)
    groups = {g.id: g.code for g in contest.groups}
    rows = []
    for stage_result in result.stages:
        for group_result in stage_result.groups:
            facts = group_result.standings.entries
            for award in group_result.tiers.awards if group_result.tiers else ():
                rows.append(
                    {
                        "code": award.code,
                        "title": facts[award.entry_id].title,
                        "group": group_result.group.code,
                        "award": award.tier_name,
                        "prize": _two(award.prize),
                    }
                )
    for special in result.specials:
        entry = result.entries[special.entry_id]
        rows.append(
            {
                "code": entry.code,
                "title": entry.title,
                "group": groups[entry.group_id],
                "award": special.name,
                "prize": _two(special.prize),
            }
        )
    totals = {
        "by_group": {g: _two(v) for g, v in result.totals.by_group.items()},
        "overall": _two(result.totals.overall),
        "count": result.totals.count,
    }
    if as_json:
        click.echo(
            json.dumps(
                {"contest": slug, "awards": rows, "totals": totals}, ensure_ascii=False, indent=2
            )
        )
        return
    for row in rows:
        click.echo(
            f"  {row['group']:<8} {row['code']:<8} {row['award']:<10} "
            f"{row['prize']:>12}  {row['title']}"
        )
    for group, total in totals["by_group"].items():
        click.echo(f"  total {group}: {total}")
    click.echo(f"  total: {totals['overall']} ({totals['count']} awards)")


def _stage_or_fail(slug: str, stage_code: str):
    contest = _contest_or_fail(slug)
    stage = contest.stage(stage_code)
    if stage is None:
        raise click.ClickException(f"no stage {stage_code!r} in {slug}")
    return stage


def _echo_list(title: str, lines) -> None:
    lines = list(lines)
    if lines:
        click.echo(title)
        for line in lines:
            click.echo(f"  - {line}")


def _carry_out(plan, *, readiness, yes: bool, apply):
    """The workflow commands' common part: print what is missing and what blocks the plan
    (exit 1 when blocked), stop at a dry run without --yes, else ``apply()`` in one
    transaction (exit 1 when refused). Returns what ``apply`` returned, or None."""
    from judging.awards.workflow import WorkflowError

    if readiness is not None and readiness.missing:
        _echo_list(
            "Missing sheets, per judge:",
            (
                f"{name}: {', '.join(s.code for s in sheets)}"
                for name, sheets in readiness.by_judge()
            ),
        )
    _echo_list("Refused:", plan.blockers)
    if plan.blockers:
        raise SystemExit(1)
    if not yes:
        click.echo("Nothing changed (dry run): add --yes to carry it out.")
        return None
    try:
        with command_transaction():
            return apply()
    except WorkflowError as err:
        click.echo(f"Refused: {err}", err=True)
        raise SystemExit(1) from err


@click.command("stage")
@click.option("--contest", "slug", required=True, help="The contest's slug.")
@click.option("--stage", "stage_code", required=True, help="The stage's code.")
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Choice(["draft", "open", "closed", "published"]),
    help="The state to move the stage to.",
)
@click.option("--reason", default="", help="Why (required to go back).")
@click.option("--yes", is_flag=True, help="Make the change; without it, only say what it does.")
def stage_command(slug: str, stage_code: str, target: str, reason: str, yes: bool):
    """Move a stage through draft → open → closed → published (or back, with a reason).

    Prints what will happen, what is missing and what blocks it, as the page does; makes
    the change only with --yes. Exits 1 when the change is refused.
    """
    from judging.awards import workflow

    stage = _stage_or_fail(slug, stage_code)
    plan = workflow.plan_transition(stage, target)
    click.echo(f"{stage.name}: {plan.source.title} → {plan.target.title}")
    _echo_list("What will happen:", plan.effects)
    if plan.diff:
        _echo_list("Live results against the snapshot:", (c.describe() for c in plan.diff.entries))

    def apply():
        return workflow.change_state(stage=stage, target=target, reason=reason, user=None)

    if _carry_out(plan, readiness=plan.readiness, yes=yes, apply=apply) is None:
        return
    click.echo(f"{stage.name} is now {stage.state.title}.")


@click.command("confirm")
@click.option("--contest", "slug", required=True, help="The contest's slug.")
@click.option("--stage", "stage_code", required=True, help="The stage's code.")
@click.option(
    "--what",
    "kind",
    required=True,
    type=click.Choice(["advancement", "awards", "standings"]),
    help="What to confirm and freeze.",
)
@click.option("--override-reason", default="", help="Why, if the stage is open or incomplete.")
@click.option("--cascade-reason", default="", help="Why, if later stages change.")
@click.option("--yes", is_flag=True, help="Confirm; without it, only say what it does.")
def confirm_command(
    slug: str, stage_code: str, kind: str, override_reason: str, cascade_reason: str, yes: bool
):
    """Confirm a stage's advancement, awards or standings and freeze them in a snapshot.

    Prints the plan as the confirmation page does; confirms only with --yes. Exits 1 when
    refused (a published stage, a missing override or cascade reason, ...).
    """
    from judging.awards import workflow

    stage = _stage_or_fail(slug, stage_code)
    plan = workflow.plan_confirmation(stage, kind)
    click.echo(f"{stage.name}: confirm {kind}")
    _echo_list("What will happen:", plan.effects)
    if plan.changes is not None and plan.changes.changes:
        _echo_list(
            f"Changes to {plan.changes.into.name}:",
            [f"joining: {code}" for _, code in plan.changes.added]
            + [f"leaving: {code}" for _, code in plan.changes.removed],
        )

    def apply():
        return workflow.confirm(
            stage=stage,
            kind=kind,
            user=None,
            override_reason=override_reason,
            cascade_reason=cascade_reason,
        )

    snapshot = _carry_out(plan, readiness=plan.readiness, yes=yes, apply=apply)
    if snapshot is None:
        return
    click.echo(f"Confirmed and frozen: {snapshot.content_hash[:16]}")


@click.command("assign")
@click.option("--contest", "slug", required=True, help="The contest's slug.")
@click.option("--stage", "stage_code", required=True, help="The stage's code.")
@click.option(
    "--fresh",
    is_flag=True,
    help="Plan the whole stage again (assignments with a sheet stay); "
    "without it, only entries missing judges are placed.",
)
@click.option("--dry-run", is_flag=True, help="Print the proposal; change nothing.")
def assign_command(slug: str, stage_code: str, fresh: bool, dry_run: bool):
    """Assign judges to a stage's entries: judges_per_entry each, no binding conflict,
    loads as even as possible, expertise matched where it can be (the solver in
    judging/judges/assignment.py). Exits 1, changing nothing, when it cannot be done."""
    from judging.entries.models import Entry
    from judging.scoring.assigning import apply_plan, plan_assignment

    stage = _stage_or_fail(slug, stage_code)
    plan = plan_assignment(stage, keep=not fresh)
    proposal = plan.proposal
    if not proposal.feasible:
        codes = dict(db.session.execute(db.select(Entry.id, Entry.code)).all())
        click.echo(
            f"{stage.name}: no assignment gives every entry {stage.judges_per_entry} judges:"
        )
        for p in proposal.problems:
            click.echo(
                f"  - {codes.get(p.entry, p.entry)}: {p.eligible} eligible judges for "
                f"{p.needed} places (panel {p.panel}, {p.conflicts} with a binding "
                f"conflict, {p.kept} already assigned)"
            )
        raise SystemExit(1)
    loads = proposal.loads.values()
    click.echo(
        f"{stage.name}: {len(proposal.pairs)} assignments, {stage.judges_per_entry} per entry; "
        f"+{len(plan.add)} new, -{len(plan.remove)} removed, "
        f"{len(proposal.pairs) - len(plan.add)} kept"
    )
    if loads:
        click.echo(f"  judges' loads: {min(loads)}–{max(loads)}")
    click.echo(f"  expertise matches: {proposal.matches} of {len(proposal.pairs)}")
    if dry_run:
        click.echo("Nothing changed (dry run).")
        return
    db.session.commit()  # end the read: the write below takes the lock from its start
    with command_transaction():
        stage = _stage_or_fail(slug, stage_code)
        again = plan_assignment(stage, keep=not fresh)
        if not again.proposal.feasible:
            raise click.ClickException("the stage changed meanwhile: run the command again")
        apply_plan(stage, again)
    click.echo("Saved.")


@click.command("verify-audit")
@click.option("--contest", "slug", default=None, help="The contest's slug.")
@click.option(
    "--global", "global_chain", is_flag=True, help="The chain of events of no contest (sign-ins)."
)
@click.pass_context
def verify_audit(ctx: click.Context, slug: str | None, global_chain: bool):
    """Check a contest's audit log hash chain; report the first broken link (exit 1)."""
    from judging.common.audit import verify_chain
    from judging.contests.queries import get_contest

    if (slug is None) == (not global_chain):
        raise click.UsageError("give --contest SLUG or --global")
    contest_id, name = None, "the global audit chain"
    if slug is not None:
        contest = get_contest(slug)
        if contest is None:
            click.echo(f"no contest {slug!r}", err=True)
            ctx.exit(2)
        contest_id, name = contest.id, f"the audit log of {slug}"
    db.session.rollback()  # verify in a transaction of its own (one consistent view)
    report = verify_chain(contest_id)
    db.session.rollback()
    events = f"{report.events} event{'' if report.events == 1 else 's'}"
    if report.ok:
        click.echo(f"OK: {name} is intact ({events}, last hash {report.last_hash}).")
        return
    tz = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    click.echo(f"BROKEN: {name} ({events}): {report.broken.describe(tz)}")
    ctx.exit(1)


# ------------------------------------------------------------------ backups (begin)
# `backup` and `restore`; the logic is judging.common.backup's.


def register_backup_commands(app: Flask) -> None:
    """Attach ``backup`` and ``restore``."""
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


@click.command("backup")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write (SQLite: a database file; PostgreSQL: a pg_dump archive).",
)
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
def backup_command(output: Path, force: bool):
    """Write a consistent copy of the database while the app runs on."""
    from judging.common import backup

    started = time.perf_counter()
    try:
        info = backup.backup(db.engine, output, overwrite=force)
    except backup.BackupError as err:
        raise click.ClickException(str(err)) from err
    elapsed = time.perf_counter() - started
    size = output.stat().st_size
    click.echo(
        f"Backed up {backup.database_label(db.engine)} to {output} "
        f"({info.kind}, schema {info.revision}, {size:,} bytes, {elapsed:.1f} s)."
    )


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
def restore_command(file: Path, force: bool):
    """Bring a backup back into the configured database, then check it (stop the app first)."""
    from judging.common import backup
    from judging.common.audit import record

    target = backup.database_label(db.engine)
    db.session.remove()
    try:
        info = backup.restore(db.engine, file, force=force)
    except backup.BackupError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"Restored {file} (schema {info.revision}) into {target}.")
    report = backup.check(db.engine)
    for problem in report.problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    if not report.ok:
        raise click.ClickException("the restored database failed its checks (above)")
    with command_transaction():
        record("database_restore", new={"file": file.name, "revision": info.revision})
    _, head = backup.migration_revisions()
    click.echo(
        f"Checks passed: integrity, schema {info.revision}, {report.chains} audit chains "
        f"({report.events} events) intact."
    )
    if info.revision != head:
        click.echo(f"The schema is older than this app's ({head}): run `flask init-db` next.")


# ------------------------------------------------------------------ backups (end)
