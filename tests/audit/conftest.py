"""The audit tests' app: with the strings still waiting in i18n-new.po translated.

The new interface strings of the audit log wait in ``i18n-new.po`` until they are merged
into the catalog; until then the app here also loads them, compiled on the fly, so the
Chinese labels can be checked. Once the file is merged and gone, this changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import get_babel

from judging.extensions import babel

PENDING = Path(__file__).resolve().parents[2] / "i18n-new.po"


@pytest.fixture
def app(app, tmp_path):
    """The suite's app, with i18n-new.po's translations (if the file is still there)."""
    if not PENDING.exists():
        yield app
        return
    folder = tmp_path / "translations"
    target = folder / "zh" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with PENDING.open("rb") as po:
        catalog = read_po(po, locale="zh")
    with (target / "messages.mo").open("wb") as mo:
        write_mo(mo, catalog)
    directories = get_babel(app).translation_directories
    directories.append(str(folder))
    babel.domain_instance.cache.clear()  # translations are cached per locale, not per app
    try:
        yield app
    finally:
        directories.remove(str(folder))
        babel.domain_instance.cache.clear()
