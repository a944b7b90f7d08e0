"""Forms of the live final: the live control's (each carries the CSRF token; the values come
from buttons), and the running order's, set by hand or drawn by lot."""

from __future__ import annotations

from collections import defaultdict

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, StopValidation

from judging.common.forms import BaseForm
from judging.live.draw import SEED_MAX
from judging.live.queries import GroupOrder


class LiveForm(BaseForm):
    """A live-control action: the entry it concerns (if any) and the timer phase (if any)."""

    entry = HiddenField()
    phase = HiddenField()


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class OrderFormBase(BaseForm):
    """The running order by hand: one number per entry (its place in its group, from 1),
    added per stage by ``order_form``; a reason once the live final has begun."""

    reason = StringField(_l("Reason"), validators=[Length(max=500)], filters=[_strip])

    #: group id → names of its entries' fields, in the order shown
    group_fields: dict[int, list[str]] = {}
    #: field name → entry id
    field_entries: dict[str, int] = {}

    def validate(self, extra_validators=None) -> bool:
        """Each field: a whole number from 1 to the group's size; each group: no number
        given twice (so every place is taken once)."""
        valid = super().validate(extra_validators)
        for names in self.group_fields.values():
            taken = defaultdict(list)
            for name in names:
                field = self[name]
                if not field.errors and field.data is not None:
                    taken[field.data].append(field)
            for number, fields in taken.items():
                if len(fields) < 2:
                    continue
                valid = False
                others = "、".join(f.entry_code for f in fields)
                for field in fields:
                    field.errors.append(
                        _("number %(n)s is given to %(codes)s", n=number, codes=others)
                    )
        return valid

    def position_fields(self) -> list[IntegerField]:
        """Every entry's number field, group by group."""
        return [self[n] for names in self.group_fields.values() for n in names]

    def orders(self) -> dict[int, list[int]]:
        """Per group id, its entries' ids in the order of their numbers (a valid form)."""
        result = {}
        for group_id, names in self.group_fields.items():
            ranked = sorted(names, key=lambda n: self[n].data)
            result[group_id] = [self.field_entries[n] for n in ranked]
        return result


class PositionField(IntegerField):
    """An entry's number in the running order of its group."""

    def __init__(self, *args, entry_code: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.entry_code = entry_code

    def pre_validate(self, form) -> None:
        """Not a whole number: that error alone (no range check of nothing)."""
        if self.process_errors:
            raise StopValidation()


def order_form(orders: list[GroupOrder], *, posted: bool = False) -> OrderFormBase:
    """The running-order form of a stage: a field ``p<entry id>`` per entry, labelled with
    its code and title; the request's data when ``posted``, else the current numbers."""
    attrs: dict = {}
    group_fields: dict[int, list[str]] = {}
    field_entries: dict[str, int] = {}
    for order in orders:
        size = len(order.entries)
        names = group_fields[order.group.id] = []
        for entry in order.entries:
            name = f"p{entry.id}"
            names.append(name)
            field_entries[name] = entry.id
            attrs[name] = PositionField(
                f"{entry.code} {entry.title}",
                entry_code=entry.code,
                validators=[InputRequired(), NumberRange(min=1, max=size)],
            )
    attrs["group_fields"] = group_fields
    attrs["field_entries"] = field_entries
    form_class = type("OrderForm", (OrderFormBase,), attrs)
    if posted:
        return form_class()  # the request's form data, as any FlaskForm
    form = form_class(formdata=None)
    for order in orders:
        for n, entry in enumerate(order.entries, start=1):
            form[f"p{entry.id}"].data = n
    return form


class DrawForm(BaseForm):
    """Draw the running order by lot (抽签): every group or one, with a seed typed (to repeat
    a public draw) or left blank (a random one)."""

    group = SelectField(_l("Groups"), choices=[], validate_choice=True)
    seed = StringField(
        _l("Seed"),
        validators=[Length(max=SEED_MAX)],
        filters=[_strip],
        description=_l("Leave blank for a random seed; type one to repeat a draw."),
    )
    reason = StringField(_l("Reason"), validators=[Length(max=500)], filters=[_strip])
