"""The base form: Flask-WTF with CSRF, and WTForms' own messages translated without disk reads."""

from __future__ import annotations

from babel import support
from flask import has_request_context, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import DecimalField, FileField, Form, StringField
from wtforms.i18n import messages_path
from wtforms.meta import DefaultMeta
from wtforms.validators import StopValidation

from judging.common.inputs import refused_text
from judging.common.numbers import parse_number

_translations: dict[str, support.Translations] = {}


def wtforms_translations() -> support.Translations:
    """WTForms' catalog for the current locale, loaded once per process (Flask-WTF reads the
    file again on every request)."""
    locale = str(get_locale())
    if locale not in _translations:
        _translations[locale] = support.Translations.load(
            messages_path(), [locale], domain="wtforms"
        )
    return _translations[locale]


REFUSED_TEXT_MESSAGE = _l(
    "Remove the characters that are not allowed here (NUL, text-direction controls or "
    "broken characters)."
)


def plain_text(form, field) -> None:
    """A text field's first check: text (not a file, nor a number or a list from a JSON
    body), with no NUL, lone surrogate or bidirectional control (``judging.common.inputs``).
    It stops the field's other checks, so no validator ever takes such a value further."""
    if field.raw_data and not isinstance(field.raw_data[0], str):
        raise StopValidation(field.gettext("Invalid input."))
    if isinstance(field.data, str) and refused_text(field.data):
        raise StopValidation(str(REFUSED_TEXT_MESSAGE))


class TextRulesMeta(DefaultMeta):
    """Binds every text field (StringField and its kinds: text areas, hidden and password
    fields) with ``plain_text`` before its own validators."""

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        if isinstance(field, StringField):
            field.validators = [plain_text, *field.validators]
        return field


class BaseForm(FlaskForm):
    """Every form of the app derives from this."""

    class Meta(TextRulesMeta, FlaskForm.Meta):
        def get_translations(self, form):
            return wtforms_translations()

        def wrap_formdata(self, form, formdata):
            """The posted data, files only under the names of the form's file fields (a
            file sent for a date or a number would reach code that reads text)."""
            data = super().wrap_formdata(form, formdata)
            if isinstance(data, CombinedMultiDict) and has_request_context():
                names = {f.name for f in form if isinstance(f, FileField)}
                files = MultiDict(
                    [(k, v) for k, v in request.files.items(multi=True) if k in names]
                )
                data = CombinedMultiDict((files, request.form))
            return data


class SubForm(Form):
    """A part of a form (``FormField``): no CSRF token of its own, the same text rules."""

    class Meta(TextRulesMeta):
        def get_translations(self, form):
            return wtforms_translations()


def clean(value):
    """A form filter for text: no NUL (PostgreSQL refuses it in any text, so it would be
    an error page) and no leading or trailing spaces."""
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


class FiniteDecimalField(DecimalField):
    """A decimal field read as people type numbers (``judging.common.numbers.parse_number``:
    full-width digits are fine; NaN, Infinity, exponents and other scripts' digits are
    not numbers here), so WTForms' own range check always has a number to compare."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = parse_number(valuelist[0])
        except ValueError:
            self.data = None
        if self.data is None:  # not a number, or nothing typed (as WTForms reads it)
            raise ValueError(self.gettext("Not a valid decimal value."))
