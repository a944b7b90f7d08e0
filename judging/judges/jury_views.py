"""The organizer's pages for one judge (issue 14, item 2): add a judge, edit one,
deactivate or reactivate their account, set a temporary password (replaced at their first
sign-in), reissue their card link, sign them out everywhere. The list itself is
``judges.jury``."""

from __future__ import annotations

import segno
import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from judging.auth.forms import TemporaryPasswordForm, account_error, report_account_error
from judging.auth.services import AccountError
from judging.common.decorators import organizer_required
from judging.common.forms import BaseForm
from judging.common.transactions import refuse
from judging.contests.models import Contest
from judging.contests.organizers import may_manage, organizer_contest_or_404
from judging.extensions import db
from judging.judges.forms import JudgeForm, report_judge_error
from judging.judges.models import Judge
from judging.judges.services import (
    JudgeError,
    create_judge,
    end_judge_sessions,
    reissue_login_link,
    set_judge_active,
    set_judge_password,
    update_judge,
)

bp = Blueprint("jury", __name__, url_prefix="/contests/<slug>/judges")


@bp.url_value_preprocessor
def _no_nul_in_slug(endpoint, values):
    """A NUL cannot be in a slug (PostgreSQL refuses it in any text): no such contest."""
    if "\x00" in (values or {}).get("slug", ""):
        abort(404)


def _judge_of(contest: Contest, judge_id: int) -> Judge:
    judge = db.session.get(Judge, judge_id) if judge_id < 2**31 else None
    if judge is None or judge.contest_id != contest.id:
        abort(404)
    return judge


def _other_contests(judge: Judge) -> tuple[list[str], int]:
    """The other contests the judge's account sits on (its deactivation reaches them too):
    the names of those the signed-in organizer runs, and how many others there are (their
    names are not this organizer's to see)."""
    others = db.session.scalars(
        sa.select(Contest)
        .join(Judge, Judge.contest_id == Contest.id)
        .where(Judge.user_id == judge.user_id, Judge.id != judge.id)
        .order_by(Contest.name)
    ).all()
    shown = [c.name for c in others if may_manage(current_user, c)]
    return shown, len(others) - len(shown)


def _page(contest, form, judge=None, *, password_form=None, status=200):
    return render_template(
        "judges/edit.html",
        contest=contest,
        form=form,
        judge=judge,
        password_form=password_form or TemporaryPasswordForm(),
        action_form=BaseForm(),
        others=_other_contests(judge) if judge is not None else ([], 0),
    ), status


@bp.route("/new", methods=["GET", "POST"])
@organizer_required
def new(slug: str):
    """Add one judge (and their judge account) to the contest."""
    contest = organizer_contest_or_404(slug)
    form = JudgeForm(contest=contest)
    if request.method == "GET":
        return _page(contest, form)
    if not form.validate_on_submit():
        return _page(contest, form, status=400)
    try:
        judge = create_judge(
            contest=contest, values=form.values(), username=form.username.data or ""
        )
    except JudgeError as err:
        report_judge_error(form, err)
        return _page(contest, form, status=400)
    except AccountError as err:
        report_account_error(form, err)
        return _page(contest, form, status=400)
    flash(
        _(
            "%(name)s added as %(username)s: print their card, or set a temporary password.",
            name=judge.name,
            username=judge.user.username,
        ),
        "success",
    )
    return redirect(url_for("jury.edit", slug=slug, judge_id=judge.id))


@bp.route("/<int:judge_id>", methods=["GET", "POST"])
@organizer_required
def edit(slug: str, judge_id: int):
    """One judge: their fields to edit, and their account (active or not, password, card)."""
    contest = organizer_contest_or_404(slug)
    judge = _judge_of(contest, judge_id)
    if request.method == "GET":
        form = JudgeForm(contest=contest, obj=judge)
        form.expertise.data = [f.id for f in judge.expertise]
        form.panel.data = judge.panel_group_id
        form.username.data = judge.user.username
        return _page(contest, form, judge)
    form = JudgeForm(contest=contest)
    form.username.data = judge.user.username  # not changed here
    if not form.validate_on_submit():
        return _page(contest, form, judge, status=400)
    try:
        changed = update_judge(judge=judge, values=form.values())
    except JudgeError as err:
        report_judge_error(form, err)
        return _page(contest, form, judge, status=400)
    if changed:
        flash(_("%(name)s saved.", name=judge.name), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("jury.edit", slug=slug, judge_id=judge.id))


def _checked(contest: Contest, judge_id: int) -> Judge:
    judge = _judge_of(contest, judge_id)
    if not BaseForm().validate_on_submit():
        abort(400)
    return judge


@bp.route("/<int:judge_id>/deactivate", methods=["POST"])
@organizer_required
def deactivate(slug: str, judge_id: int):
    """Deactivate the judge's account: no sign-in, open sessions end; sheets stay."""
    judge = _checked(organizer_contest_or_404(slug), judge_id)
    return _set_active(judge, False)


@bp.route("/<int:judge_id>/reactivate", methods=["POST"])
@organizer_required
def reactivate(slug: str, judge_id: int):
    """Let a deactivated judge sign in again."""
    judge = _checked(organizer_contest_or_404(slug), judge_id)
    return _set_active(judge, True)


@bp.route("/<int:judge_id>/sign-out", methods=["POST"])
@organizer_required
def sign_out(slug: str, judge_id: int):
    """Sign the judge out everywhere: every session of their account ends (issue 16)."""
    judge = _checked(organizer_contest_or_404(slug), judge_id)
    end_judge_sessions(judge=judge)
    flash(_("%(name)s is signed out everywhere.", name=judge.name), "success")
    return redirect(url_for("jury.edit", slug=slug, judge_id=judge.id))


def _set_active(judge: Judge, active: bool):
    back = redirect(url_for("jury.edit", slug=judge.contest.slug, judge_id=judge.id))
    try:
        set_judge_active(judge=judge, active=active, by=current_user)
    except AccountError as err:
        refuse(account_error(err))
        return back
    if active:
        flash(_("%(name)s can sign in again.", name=judge.name), "success")
    else:
        flash(_("%(name)s is deactivated and signed out.", name=judge.name), "success")
    return back


@bp.route("/<int:judge_id>/password", methods=["POST"])
@organizer_required
def password(slug: str, judge_id: int):
    """Set or reset the judge's password to a temporary one, which they replace at their
    first sign-in."""
    contest = organizer_contest_or_404(slug)
    judge = _judge_of(contest, judge_id)
    form = TemporaryPasswordForm()
    if form.validate_on_submit():
        try:
            set_judge_password(judge=judge, password=form.password.data)
        except AccountError as err:
            report_account_error(form, err)
        else:
            flash(
                _(
                    "%(name)s signs in as %(username)s with the temporary password, and "
                    "chooses their own at once.",
                    name=judge.name,
                    username=judge.user.username,
                ),
                "success",
            )
            return redirect(url_for("jury.edit", slug=slug, judge_id=judge.id))
    page = JudgeForm(contest=contest, obj=judge)
    page.expertise.data = [f.id for f in judge.expertise]
    page.panel.data = judge.panel_group_id
    page.username.data = judge.user.username
    return _page(contest, page, judge, password_form=form, status=400)


@bp.route("/<int:judge_id>/card", methods=["POST"])
@organizer_required
def card(slug: str, judge_id: int):
    """Reissue the judge's card: a new one-time sign-in link and its QR code; the judge's
    earlier unused links for this contest stop working (a lost card)."""
    contest = organizer_contest_or_404(slug)
    judge = _checked(contest, judge_id)
    if not judge.user.is_enabled:
        refuse(_("%(name)s is deactivated: reactivate them first.", name=judge.name))
        return redirect(url_for("jury.edit", slug=slug, judge_id=judge.id))
    link = reissue_login_link(judge)
    qr = segno.make(link, error="m").svg_data_uri(scale=4, border=2)
    return render_template("judges/cards.html", contest=contest, cards=[(judge, link, qr)])
