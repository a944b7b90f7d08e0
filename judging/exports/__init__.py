"""Excel in and out: the contest workbook, single-sheet imports, and exports.

Imported by ``create_app``, so the check below runs at start-up: every XML an uploaded
workbook holds is parsed through defusedxml (entity expansion, external entities and DTDs
refused), both by ``judging.imports.reader`` and by openpyxl, which uses defusedxml only
when it is installed and not switched off (OPENPYXL_DEFUSEDXML=False).
"""

from openpyxl.xml import DEFUSEDXML

if not DEFUSEDXML:  # pragma: no cover - a broken install, refused outright
    raise RuntimeError(
        "defusedxml is required to read uploaded workbooks safely: install it "
        "(pip install defusedxml) and do not set OPENPYXL_DEFUSEDXML=False"
    )
