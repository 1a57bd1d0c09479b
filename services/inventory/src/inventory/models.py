"""inventory's whole schema: the domain tables, the bus tables and the hierarchy's projection, on one metadata.

Alembic's ``env.py`` and the composition root import this module; it imports
every domain's models so that nothing is left out of ``metadata``.
"""

from __future__ import annotations

from inventory.db import BUS, NODE_PATHS, Base
from inventory.figures import FigureNode
from inventory.line_groups.models import LineGroup
from inventory.lines.models import Line, LineLabel
from inventory.operations.models import Item, Operation
from inventory.saved_filters.models import SavedFilter, SavedFilterOwner
from inventory.stock.models import Number, Sim

metadata = Base.metadata

__all__ = [
    "BUS",
    "NODE_PATHS",
    "Base",
    "FigureNode",
    "Item",
    "Line",
    "LineGroup",
    "LineLabel",
    "Number",
    "Operation",
    "SavedFilter",
    "SavedFilterOwner",
    "Sim",
    "metadata",
]
