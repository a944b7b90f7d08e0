"""The Excel commands of `flask --app judging`: import-contest, import-entries, import-judges,
import-scores, export and excel-template.

Imports print every problem as a table (sheet, row, column, value, reason) and exit with
status 1, writing nothing; a valid file is written in one transaction.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask_babel import force_locale

from judging.common.db import write_phase
from judging.common.transactions import command_transaction, read_snapshot
from judging.extensions import db

LANG = click.option(
    "--lang",
    default=None,
    help="Language of messages and sheet names: zh_CN (default) or en.",
)
UPDATE = click.option("--update", is_flag=True, help="Change existing rows that differ.")
DRY_RUN = click.option("--dry-run", is_flag=True, help="Only check the file; write nothing.")
CONTEST = click.option("--contest", "slug", required=True, help="The contest's slug.")
FILE = click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))


def register(app: Flask) -> None:
    """Attach the Excel commands to the app."""
    for command in (
        import_contest,
        import_entries,
        import_judges,
        import_scores,
        export_command,
        template_command,
    ):
        app.cli.add_command(command)


def _lang(lang: str | None) -> str:
    return lang or current_app.config["BABEL_DEFAULT_LOCALE"]


def _contest(slug: str):
    from judging.contests.queries import get_contest

    contest = get_contest(slug)
    if contest is None:
        raise click.ClickException(f"no contest {slug!r}")
    return contest


def _width(text: str) -> int:
    return len(text) + (len(text.encode()) - len(text)) // 2


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def print_problems(problems) -> None:
    """The problems as an aligned table on standard error."""
    from flask_babel import gettext as _

    header = [_("Sheet"), _("Row"), _("Column"), _("Value"), _("Reason")]
    rows = [
        [p.sheet, str(p.row or ""), p.place, p.value.replace("\n", " ")[:40], p.reason]
        for p in problems
    ]
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        line = "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row[:4]))
        click.echo(f"{line}  {row[4]}", err=True)


def _run_import(
    kind: str, path: Path, *, slug=None, stage=None, update, dry_run, lang, give_to=()
) -> None:
    from flask_babel import gettext as _

    from judging.imports.problems import ImportRejected
    from judging.imports.service import import_workbook

    with force_locale(_lang(lang)):
        contest = _contest(slug) if slug else None
        started = time.perf_counter()
        try:
            # Not ``command_transaction``: its write lock would be held from the first
            # read. The file is read and checked in a read transaction; the import takes
            # the lock for its writes alone (``write_phase``), and this commits them.
            try:
                result = import_workbook(
                    data=path.read_bytes(),
                    kind=kind,
                    contest=contest,
                    stage_code=stage,
                    update=update,
                    dry_run=dry_run,
                    filename=path.name,
                    give_to=give_to,
                )
            except BaseException:
                db.session.rollback()
                raise
            db.session.commit()
        except ImportRejected as err:
            print_problems(err.problems)
            click.echo(
                _(
                    "%(file)s: %(n)s problem(s); nothing was written.",
                    file=path.name,
                    n=len(err.problems),
                ),
                err=True,
            )
            sys.exit(1)
        elapsed = time.perf_counter() - started
        verb = _("Checked") if dry_run else _("Imported")
        click.echo(f"{verb} {path.name} → {result.slug} ({elapsed:.1f} s)")
        for label, counts in (
            (_("added"), result.created),
            (_("changed"), result.updated),
            (_("unchanged"), result.unchanged),
        ):
            shown = {k: v for k, v in counts.items() if v}
            if shown:
                click.echo(f"  {label}: " + ", ".join(f"{k} {v}" for k, v in shown.items()))
        if give_to and not dry_run and result.created.get("contest"):
            click.echo("  " + _("run by: %(names)s", names=", ".join(u.username for u in give_to)))


@click.command("import-contest")
@FILE
@UPDATE
@DRY_RUN
@LANG
@click.option(
    "--organizer",
    "usernames",
    multiple=True,
    help="The organizer account that runs a new contest; repeat for several. Without it, "
    "every organizer account runs it.",
)
def import_contest(path: Path, update: bool, dry_run: bool, lang: str | None, usernames):
    """Import a whole contest workbook (a new contest, or one whose slug exists). A new
    contest is run by the --organizer accounts, or by every organizer account if none is
    named (the command line is the operator's: nobody is left without the contest)."""
    import sqlalchemy as sa

    from judging.auth.models import User
    from judging.common.enums import Role

    organizers = list(
        db.session.scalars(
            sa.select(User)
            .where(User.role == Role.ORGANIZER)
            .where(User.username.in_(usernames) if usernames else sa.true())
            .order_by(User.username)
        )
    )
    missing = sorted(set(usernames) - {u.username for u in organizers})
    if missing:
        raise click.ClickException("no organizer account " + ", ".join(map(repr, missing)))
    _run_import("contest", path, update=update, dry_run=dry_run, lang=lang, give_to=organizers)


@click.command("import-entries")
@CONTEST
@FILE
@UPDATE
@DRY_RUN
@LANG
def import_entries(slug: str, path: Path, update: bool, dry_run: bool, lang: str | None):
    """Import a sheet of entries into a contest."""
    _run_import("entries", path, slug=slug, update=update, dry_run=dry_run, lang=lang)


@click.command("import-judges")
@CONTEST
@FILE
@UPDATE
@DRY_RUN
@LANG
def import_judges(slug: str, path: Path, update: bool, dry_run: bool, lang: str | None):
    """Import a sheet of judges into a contest (new judges get accounts without passwords)."""
    _run_import("judges", path, slug=slug, update=update, dry_run=dry_run, lang=lang)


@click.command("import-scores")
@CONTEST
@click.option("--stage", default=None, help="The stage of rows that name none.")
@FILE
@UPDATE
@DRY_RUN
@LANG
def import_scores(
    slug: str, stage: str | None, path: Path, update: bool, dry_run: bool, lang: str | None
):
    """Import paper score sheets typed into a workbook."""
    _run_import("scores", path, slug=slug, stage=stage, update=update, dry_run=dry_run, lang=lang)


def _export_data(slug: str, stage: str | None, public: bool, lang: str | None, tz: str):
    """The contest, the stage asked for (or None) and the workbook's bytes."""
    from judging.common.enums import StageState
    from judging.exports import files

    contest = _contest(slug)
    target = None
    if stage is not None:
        target = contest.stage(stage)
        if target is None:
            raise click.ClickException(f"no stage {stage!r} in {slug}")
    if public:
        if target is None or target.state != StageState.PUBLISHED:
            raise click.ClickException("--public needs --stage of a published stage")
        data = files.public_stage_workbook(target, tz=tz)
    elif target is not None:
        data = files.stage_workbook(target, lang=_lang(lang), tz=tz, exported_by="cli")
    else:
        data = files.contest_workbook(contest, lang=_lang(lang), tz=tz, exported_by="cli")
    return contest, target, data


@click.command("export")
@CONTEST
@click.option("--stage", default=None, help="Only this stage.")
@click.option("--public", is_flag=True, help="Public standings of a published stage only.")
@click.option(
    "-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@LANG
def export_command(slug: str, stage: str | None, public: bool, output: Path, lang: str | None):
    """Export a contest (or one stage) to an Excel workbook."""
    from judging.common.audit import record

    tz = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    with force_locale(_lang(lang)):
        started = time.perf_counter()
        with read_snapshot():  # every sheet from the same moment, judges scoring or not
            contest, target, data = _export_data(slug, stage, public, lang, tz)
        output.write_bytes(data)
        if not public:
            # The workbook was read first; the record takes the write lock alone (SQLite).
            with write_phase(db.session), command_transaction():
                record(
                    "excel_export",
                    contest_id=contest.id,
                    new={
                        "export": "stage" if target else "contest",
                        "stage": stage,
                        "file": output.name,
                    },
                )
    click.echo(f"{output} ({len(data) / 1024:.0f} KiB, {time.perf_counter() - started:.1f} s)")


@click.command("excel-template")
@click.argument("kind", type=click.Choice(["contest", "entries", "judges", "scores"]))
@click.option("--contest", "slug", default=None, help="For scores: the contest of --stage.")
@click.option("--stage", default=None, help="For scores: the stage whose criteria are columns.")
@click.option(
    "-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@LANG
def template_command(
    kind: str, slug: str | None, stage: str | None, output: Path, lang: str | None
):
    """Write a blank template with a header, marked example rows and instructions."""
    from judging.exports import files

    with force_locale(_lang(lang)):
        contest = _contest(slug) if slug else None
        target = None
        if stage is not None:
            if contest is None:
                raise click.ClickException("--stage needs --contest")
            target = contest.stage(stage)
            if target is None:
                raise click.ClickException(f"no stage {stage!r} in {slug}")
        output.write_bytes(
            files.template_workbook(kind, lang=_lang(lang), contest=contest, stage=target)
        )
    click.echo(str(output))
