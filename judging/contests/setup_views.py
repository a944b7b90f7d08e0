"""The organizer's setup pages (routes on the contests blueprint): a new contest, and one
page to build it: its facts, groups, fields, stages, award tiers and special awards.

Every form posts to its own address; a refused form shows the page again with the error
under its field and nothing written. The services are in ``judging.contests.setup``.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from judging.auth.models import User
from judging.common.decorators import organizer_required
from judging.common.enums import Role
from judging.common.forms import BaseForm
from judging.common.transactions import refuse
from judging.contests.forms import (
    AwardTierForm,
    ContestForm,
    FieldForm,
    GroupForm,
    OrganizerGrantForm,
    SpecialAwardForm,
    StageForm,
)
from judging.contests.models import AwardTier, Field, Group, SpecialAward
from judging.contests.organizers import (
    OrganizerError,
    grant,
    organizer_contest_or_404,
    organizers_of,
    revoke,
)
from judging.contests.setup import (
    STAGE_FIELDS,
    SetupError,
    create_contest,
    save_field,
    save_group,
    save_special,
    save_stage,
    save_tier,
    special_rules,
    update_contest,
)
from judging.contests.views import bp
from judging.extensions import db

_MESSAGES = {"taken": _l("Already used in this contest."), "unknown": _l("Not one of the choices.")}


def _refused(form, error: SetupError) -> None:
    form[error.field].errors = [*form[error.field].errors, str(_MESSAGES[error.message])]


def _owned(model, contest, object_id: int | None):
    """The contest's own object with this id (404 for another contest's), or None."""
    if object_id is None:
        return None
    obj = db.session.get(model, object_id)
    if obj is None or obj.contest_id != contest.id:
        abort(404)
    return obj


@bp.route("/contests/new", methods=["GET", "POST"])
@organizer_required
def new_contest():
    """Create a contest from nothing (a draft until made public)."""
    form = ContestForm()
    if form.validate_on_submit():
        try:
            contest = create_contest(
                creator=current_user._get_current_object(),
                slug=form.slug.data,
                name=form.name.data,
                year=form.year.data,
                organizers=form.organizers.data,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
            )
        except SetupError as error:
            _refused(form, error)
        else:
            flash(_("Contest created as a draft. Add its groups, stages and rubrics."), "success")
            return redirect(url_for("contests.setup", slug=contest.slug))
    return render_template("contests/new.html", form=form)


def _tier_form(contest, tier=None, formdata=None) -> AwardTierForm:
    """The form of a tier (``formdata`` None: showing it, not reading a post)."""
    prefix = f"t{tier.id}" if tier is not None else "tier"
    form = AwardTierForm(formdata=formdata, prefix=prefix, obj=tier)
    form.stage.choices = [(s.code, s.name) for s in contest.stages]
    form.group.choices = [(g.code, g.name) for g in contest.groups]
    if tier is not None and formdata is None:
        form.stage.data, form.group.data = tier.stage.code, tier.group.code
    return form


def _special_form(contest, award=None, formdata=None) -> SpecialAwardForm:
    prefix = f"s{award.id}" if award is not None else "special"
    form = SpecialAwardForm(formdata=formdata, prefix=prefix, obj=award)
    form.rule.choices = [
        (rule, _("Every student team that reached %(stage)s", stage=stage.name))
        for rule, stage in special_rules(contest)
    ]
    return form


def _page(contest, failed: dict | None = None, status: int = 200):
    """The setup page; ``failed`` holds a refused form under its key, shown with its errors."""
    failed = failed or {}
    contest_form = failed.get("contest") or ContestForm(
        formdata=None, obj=contest, prefix="contest"
    )
    groups = [
        (g, failed.get(("group", g.id)) or GroupForm(formdata=None, obj=g, prefix=f"g{g.id}"))
        for g in contest.groups
    ]
    fields = [
        (f, failed.get(("field", f.id)) or FieldForm(formdata=None, obj=f, prefix=f"f{f.id}"))
        for f in contest.fields
    ]
    tiers = db.session.scalars(
        sa.select(AwardTier)
        .where(AwardTier.contest_id == contest.id)
        .order_by(AwardTier.stage_id, AwardTier.group_id, AwardTier.position)
    ).all()
    return (
        render_template(
            "contests/setup.html",
            contest=contest,
            contest_form=contest_form,
            groups=groups,
            new_group=failed.get("group") or GroupForm(prefix="group", formdata=None),
            fields=fields,
            new_field=failed.get("field") or FieldForm(prefix="field", formdata=None),
            tiers=[(t, failed.get(("tier", t.id)) or _tier_form(contest, t)) for t in tiers],
            new_tier=failed.get("tier") or _tier_form(contest),
            specials=[
                (a, failed.get(("special", a.id)) or _special_form(contest, a))
                for a in contest.special_awards
            ],
            new_special=failed.get("special") or _special_form(contest),
            organizers=organizers_of(contest),
            organizer_form=failed.get("organizer") or OrganizerGrantForm(formdata=None),
            action_form=BaseForm(),
        ),
        status,
    )


@bp.route("/contests/<slug>/setup")
@organizer_required
def setup(slug: str):
    """Build the contest: its facts, groups, fields, stages, award tiers, special awards."""
    return _page(organizer_contest_or_404(slug))


def _done(contest, anchor: str):
    flash(_("Saved."), "success")
    return redirect(url_for("contests.setup", slug=contest.slug, _anchor=anchor))


def _save_or_show(contest, form, key, anchor: str, save):
    """Save a valid form (``save()``) and go back to its section, or show the setup page
    again with the refused form's errors under its fields (nothing written)."""
    if form.validate_on_submit():
        try:
            save()
        except SetupError as error:
            db.session.rollback()
            _refused(form, error)
        else:
            return _done(contest, anchor)
    return _page(organizer_contest_or_404(contest.slug), {key: form}, 400)


@bp.route("/contests/<slug>/setup/contest", methods=["POST"])
@organizer_required
def setup_contest(slug: str):
    """Change the contest's name, year or organizers (its address stays)."""
    contest = organizer_contest_or_404(slug)
    form = ContestForm(prefix="contest")
    form.slug.data = contest.slug  # set at creation; not changed here
    if not form.validate_on_submit():
        return _page(contest, {"contest": form}, 400)
    update_contest(
        contest,
        name=form.name.data,
        year=form.year.data,
        organizers=form.organizers.data,
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
    )
    return _done(contest, "contest")


@bp.route("/contests/<slug>/setup/groups", methods=["POST"])
@bp.route("/contests/<slug>/setup/groups/<int:group_id>", methods=["POST"])
@organizer_required
def setup_group(slug: str, group_id: int | None = None):
    """Add a group or change one."""
    contest = organizer_contest_or_404(slug)
    group = _owned(Group, contest, group_id)
    key = ("group", group.id) if group is not None else "group"
    form = GroupForm(prefix=f"g{group.id}" if group is not None else "group")
    return _save_or_show(
        contest,
        form,
        key,
        "groups",
        lambda: save_group(
            contest, group, code=form.code.data, name=form.name.data, position=form.position.data
        ),
    )


@bp.route("/contests/<slug>/setup/fields", methods=["POST"])
@bp.route("/contests/<slug>/setup/fields/<int:field_id>", methods=["POST"])
@organizer_required
def setup_field(slug: str, field_id: int | None = None):
    """Add a technology field or change one."""
    contest = organizer_contest_or_404(slug)
    field = _owned(Field, contest, field_id)
    key = ("field", field.id) if field is not None else "field"
    form = FieldForm(prefix=f"f{field.id}" if field is not None else "field")
    return _save_or_show(
        contest,
        form,
        key,
        "fields",
        lambda: save_field(contest, field, name=form.name.data, position=form.position.data),
    )


def _quota_inputs(contest, stage, formdata):
    """Per group: (group, the typed number or "", its error or None) for the stage form."""
    rows = []
    current = {q.group_id: q.quota for q in stage.quotas} if stage is not None else {}
    for group in contest.groups:
        name = f"quota-{group.code}"
        if formdata is None:
            value = current.get(group.id)
            rows.append((group, name, "" if value is None else str(value), None))
            continue
        raw = (formdata.get(name) or "").strip()
        error = None
        if raw and (not raw.isascii() or not raw.isdigit() or len(raw) > 6 or int(raw) > 100000):
            error = _("A whole number from 0, or empty.")
        rows.append((group, name, raw, error))
    return rows


@bp.route("/contests/<slug>/setup/stages/new", methods=["GET", "POST"])
@bp.route("/contests/<slug>/setup/stages/<code>", methods=["GET", "POST"])
@organizer_required
def setup_stage(slug: str, code: str | None = None):
    """Add a stage or change one: its order, kind, rules, minutes and advancement."""
    contest = organizer_contest_or_404(slug)
    stage = None
    if code is not None:
        stage = contest.stage(code)
        if stage is None:
            abort(404)
    form = StageForm(obj=stage)
    if stage is None and request.method == "GET":
        form.position.data = 1 + max((s.position for s in contest.stages), default=0)
    formdata = request.form if request.method == "POST" else None
    quotas = _quota_inputs(contest, stage, formdata)
    if request.method == "GET" and stage is not None:
        form.kind.data, form.rule.data = stage.kind.value, stage.rule.value
    if form.validate_on_submit() and not any(error for *_rest, error in quotas):
        values = {name: form[name].data for name in STAGE_FIELDS}
        by_group = {g.id: (int(raw) if raw else None) for g, _n, raw, _e in quotas}
        try:
            saved = save_stage(contest, stage, values, by_group)
        except SetupError as error:
            db.session.rollback()
            _refused(form, error)
        else:
            flash(_("Stage %(name)s saved.", name=saved.name), "success")
            return redirect(url_for("contests.setup", slug=contest.slug, _anchor="stages"))
    status = 400 if request.method == "POST" else 200
    return (
        render_template(
            "contests/stage_form.html", contest=contest, stage=stage, form=form, quotas=quotas
        ),
        status,
    )


@bp.route("/contests/<slug>/setup/tiers", methods=["POST"])
@bp.route("/contests/<slug>/setup/tiers/<int:tier_id>", methods=["POST"])
@organizer_required
def setup_tier(slug: str, tier_id: int | None = None):
    """Add a prize level of a stage and group, or change one."""
    contest = organizer_contest_or_404(slug)
    tier = _owned(AwardTier, contest, tier_id)
    key = ("tier", tier.id) if tier is not None else "tier"
    form = _tier_form(contest, tier, formdata=request.form)
    return _save_or_show(
        contest,
        form,
        key,
        "awards",
        lambda: save_tier(
            contest,
            tier,
            stage=contest.stage(form.stage.data),
            group=contest.group(form.group.data),
            name=form.name.data,
            position=form.position.data,
            quota=form.quota.data,
            prize=form.prize.data,
        ),
    )


@bp.route("/contests/<slug>/setup/specials", methods=["POST"])
@bp.route("/contests/<slug>/setup/specials/<int:award_id>", methods=["POST"])
@organizer_required
def setup_special(slug: str, award_id: int | None = None):
    """Add a special award or change one."""
    contest = organizer_contest_or_404(slug)
    award = _owned(SpecialAward, contest, award_id)
    key = ("special", award.id) if award is not None else "special"
    form = _special_form(contest, award, formdata=request.form)
    return _save_or_show(
        contest,
        form,
        key,
        "awards",
        lambda: save_special(
            contest, award, name=form.name.data, rule=form.rule.data, prize=form.prize.data
        ),
    )


# -- who runs the contest (judging.contests.organizers)


@bp.route("/contests/<slug>/organizers", methods=["POST"])
@organizer_required
def add_organizer(slug: str):
    """Give the contest to another existing organizer account, named by its username."""
    contest = organizer_contest_or_404(slug)
    form = OrganizerGrantForm()
    if not form.validate_on_submit():
        return _page(contest, {"organizer": form}, 400)
    user = db.session.scalar(sa.select(User).where(User.username == form.username.data))
    if user is None or user.role != Role.ORGANIZER:
        form.username.errors = [_("No organizer account has this username.")]
        return _page(contest, {"organizer": form}, 400)
    grant(contest=contest, user=user, by=current_user._get_current_object())
    flash(_("%(name)s now runs this contest.", name=user.display_name or user.username), "success")
    return redirect(url_for("contests.setup", slug=contest.slug, _anchor="organizers"))


@bp.route("/contests/<slug>/organizers/<int:user_id>/remove", methods=["POST"])
@organizer_required
def remove_organizer(slug: str, user_id: int):
    """Take the contest from one of its organizers (never the last active one)."""
    contest = organizer_contest_or_404(slug)
    if not BaseForm().validate_on_submit():
        abort(400)
    user = db.session.get(User, user_id) if user_id < 2**31 else None
    if user is None:
        abort(404)
    try:
        revoke(contest=contest, user=user, by=current_user._get_current_object())
    except OrganizerError as err:
        if err.code == "not_given":
            abort(404)
        refuse(str(err.message))
        return redirect(url_for("contests.setup", slug=contest.slug, _anchor="organizers"))
    name = user.display_name or user.username
    flash(_("%(name)s no longer runs this contest.", name=name), "success")
    if user.id == current_user.id:
        return redirect(url_for("contests.home"))
    return redirect(url_for("contests.setup", slug=contest.slug, _anchor="organizers"))
