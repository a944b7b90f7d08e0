"""The `flask --app judging` commands."""

from __future__ import annotations

import sys
import time

import click
from flask import Flask, current_app
from flask_migrate import upgrade

from judging.common.audit import record
from judging.common.db import write_intent
from judging.common.enums import Role
from judging.extensions import db


def register_commands(app: Flask) -> None:
    """Attach the commands to the app."""
    app.cli.add_command(init_db)
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_organizer)
    app.cli.add_command(demo_sign_ins)
    app.cli.add_command(judge_link)


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
    with write_intent():
        summary = load_demo(seed_dir or current_app.config["SEED_DIR"])
        db.session.commit()
    elapsed = time.perf_counter() - started
    verb = "Loaded" if summary.get("created") else "Already loaded"
    click.echo(f"{verb} contest {summary['contest']} in {elapsed:.1f} s:")
    for key, value in summary.items():
        if key not in ("contest", "created"):
            click.echo(f"  {key}: {value}")


@click.command("demo-sign-ins")
@click.option("--seed-dir", default=None)
def demo_sign_ins(seed_dir: str | None):
    """Print the demo accounts' sign-ins."""
    from judging.seed import demo_sign_ins as sign_ins

    for role, username, password in sign_ins(seed_dir or current_app.config["SEED_DIR"]):
        click.echo(f"  {role:<10} {username:<12} {password}")


@click.command("create-organizer")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--name", "display_name", default="", help="Display name.")
def create_organizer(username: str, password_stdin: bool, display_name: str):
    """Create an organizer account; asks for the password unless --password-stdin."""
    from judging.auth.services import AccountError, create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with write_intent():
            create_user(
                username=username,
                password=password,
                role=Role.ORGANIZER,
                display_name=display_name,
            )
            db.session.commit()
    except AccountError as err:
        db.session.rollback()
        raise click.ClickException(str(err)) from err
    click.echo(f"Organizer {username} created.")


@click.command("judge-link")
@click.option("--contest", "slug", required=True, help="The contest's slug.")
@click.argument("username")
def judge_link(slug: str, username: str):
    """Print a fresh one-time sign-in link for one judge (to send by chat)."""
    import sqlalchemy as sa

    from judging.auth.models import User
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
    with write_intent():
        link = login_link(judge)
        record("judge_links_issued", contest_id=judge.contest_id, new={"judges": [judge.name]})
        db.session.commit()
    click.echo(link)
