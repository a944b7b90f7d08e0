"""The base form: Flask-WTF with CSRF, and WTForms' own messages translated without disk reads."""

from __future__ import annotations

from babel import support
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import DecimalField
from wtforms.i18n import messages_path

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


class BaseForm(FlaskForm):
    """Every form of the app derives from this."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return wtforms_translations()


def clean(value):
    """A form filter for text: no NUL (PostgreSQL refuses it in any text, so it would be
    an error page) and no leading or trailing spaces."""
    return value.replace("\x00", "").strip() if isinstance(value, str) else value


class FiniteDecimalField(DecimalField):
    """A decimal field that refuses what is not a finite number (NaN, Infinity, sNaN),
    which WTForms' own range check cannot compare."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))
