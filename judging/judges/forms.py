"""The organizer's conflict forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from judging.common.forms import BaseForm

#: Ids are database integers: a larger number cannot name a row (and PostgreSQL's integer
#: columns refuse it), so it is a form error, never a query.
MAX_ID = 2**31 - 1


class AddConflictForm(BaseForm):
    """Set a conflict between a judge and an entry (by code), with a reason."""

    judge = IntegerField(_l("Judge"), validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)])
    entry = StringField(_l("Entry code"), validators=[DataRequired(), Length(max=32)])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)])
    confirmed = HiddenField()


class PairForm(BaseForm):
    """Accept or dismiss a same-organization proposal."""

    judge = IntegerField(_l("Judge"), validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)])
    entry = IntegerField(_l("Entry"), validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=500)])
    confirmed = HiddenField()


class WithdrawConflictForm(BaseForm):
    """Withdraw a binding conflict, with a reason."""

    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)])
    confirmed = HiddenField()


class ReviewConflictForm(BaseForm):
    """Mark a judge's declaration as seen, with an optional note."""

    note = StringField(_l("Note"), validators=[Length(max=500)])
