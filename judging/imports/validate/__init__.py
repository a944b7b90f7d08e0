"""Checking a workbook's rows against each other and the database, into a plan to write.

Every sheet is read in dependency order (groups before the entries that name them, judges
before the conflicts, assignments and score sheets that name them); each row either
becomes a record to create, a change to an existing record (only when the organizer asks
to update existing rows), or nothing (it matches the database: re-importing a file
changes nothing), or a problem at its sheet/row/column. Nothing is written here.
"""

from judging.imports.validate.base import Plan
from judging.imports.validate.links import LinkRows
from judging.imports.validate.people import PeopleRows
from judging.imports.validate.structure import StructureRows


class Validator(StructureRows, PeopleRows, LinkRows):
    """Reads the tables of one import against an ``Existing`` contest into a ``Plan``."""


__all__ = ["Plan", "Validator"]
