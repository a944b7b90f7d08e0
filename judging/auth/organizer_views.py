"""The organizers' accounts (/organizers): invite another organizer, deactivate one (never
oneself, never the last active one), reactivate, and a new invitation link for an account
that never signed in.

Every organizer sees every organizer account (a contest is given to another organizer by
username) and may invite one, but may deactivate, reactivate or re-invite only an account
that shares a contest with them or runs none yet: the rule is the contests layer's
(``judging.contests.organizers.may_administer``), handed to this layer by ``create_app``
as ``app.extensions["account_scope"]``; any other account answers 404.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from judging.auth.forms import InviteOrganizerForm, account_error, report_account_error
from judging.auth.models import User
from judging.auth.services import (
    AccountError,
    create_user,
    issue_login_link,
    revoke_login_tokens,
    set_enabled,
    set_temporary_password,
)
from judging.common.audit import record
from judging.common.decorators import organizer_required
from judging.common.enums import Role
from judging.common.forms import BaseForm
from judging.common.transactions import refuse
from judging.extensions import db

bp = Blueprint("organizers", __name__, url_prefix="/organizers")


def _organizers() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(User.role == Role.ORGANIZER).order_by(User.username)
        )
    )


def _may_administer(user: User) -> bool:
    scope = current_app.extensions.get("account_scope")
    return scope is None or scope(current_user, user)


def _page(form: InviteOrganizerForm, status: int = 200):
    organizers = _organizers()
    return render_template(
        "auth/organizers.html",
        organizers=organizers,
        administered={u.id for u in organizers if _may_administer(u)},
        form=form,
        action_form=BaseForm(),
    ), status


@bp.route("")
@organizer_required
def index():
    """Every organizer account, and the form to invite another."""
    return _page(InviteOrganizerForm())


@bp.route("/invite", methods=["POST"])
@organizer_required
def invite():
    """Create an organizer account: with a temporary password (changed at the first
    sign-in), or with none and a one-time sign-in link shown once, to pass on."""
    form = InviteOrganizerForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        user = create_user(
            username=form.username.data,
            password=None,
            role=Role.ORGANIZER,
            display_name=form.display_name.data,
        )
        user.must_change_password = True
        if form.password.data:
            set_temporary_password(user=user, password=form.password.data)
    except AccountError as err:
        report_account_error(form, err)
        return _page(form, 400)
    by_link = not form.password.data
    record(
        "organizer_invite",
        obj=user,
        new={"username": user.username, "name": user.display_name, "by_link": by_link},
    )
    if by_link:
        return render_template("auth/invited.html", user=user, link=issue_login_link(user=user))
    flash(
        _(
            "%(name)s can sign in as %(username)s with the temporary password, and will "
            "choose their own at once.",
            name=user.display_name,
            username=user.username,
        ),
        "success",
    )
    return redirect(url_for("organizers.index"))


def _organizer_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id) if user_id < 2**31 else None
    if user is None or user.role != Role.ORGANIZER or not _may_administer(user):
        abort(404)
    return user


def _checked_form() -> None:
    if not BaseForm().validate_on_submit():
        abort(400)


@bp.route("/<int:user_id>/deactivate", methods=["POST"])
@organizer_required
def deactivate(user_id: int):
    """Deactivate an organizer account: no sign-in, its sessions end at their next request."""
    _checked_form()
    user = _organizer_or_404(user_id)
    return _set_enabled(user, False)


@bp.route("/<int:user_id>/reactivate", methods=["POST"])
@organizer_required
def reactivate(user_id: int):
    """Let a deactivated organizer sign in again."""
    _checked_form()
    user = _organizer_or_404(user_id)
    return _set_enabled(user, True)


def _set_enabled(user: User, enabled: bool):
    was = user.is_enabled
    try:
        set_enabled(user=user, enabled=enabled, by=current_user)
    except AccountError as err:
        refuse(account_error(err))
        return redirect(url_for("organizers.index"))
    if was != enabled:
        record(
            "account_reactivate" if enabled else "account_deactivate",
            obj=user,
            old={"active": was},
            new={"active": enabled, "username": user.username},
        )
    name = user.display_name or user.username
    if enabled:
        flash(_("%(name)s can sign in again.", name=name), "success")
    else:
        flash(_("%(name)s is deactivated and signed out.", name=name), "success")
    return redirect(url_for("organizers.index"))


@bp.route("/<int:user_id>/link", methods=["POST"])
@organizer_required
def new_link(user_id: int):
    """A new one-time invitation link for an invited organizer who never signed in (the
    old one stops working); an account in use gets none, so nobody signs in as another."""
    _checked_form()
    user = _organizer_or_404(user_id)
    invitation = user.must_change_password and user.last_signed_in_at is None
    if not invitation or not user.is_enabled or user.id == current_user.id:
        abort(404)
    ended = revoke_login_tokens(user=user)
    user.must_change_password = True
    link = issue_login_link(user=user)
    record("organizer_link", obj=user, new={"username": user.username, "ended": ended})
    return render_template("auth/invited.html", user=user, link=link)
