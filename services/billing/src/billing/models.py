"""billing's whole schema: the domain tables, the bus tables and the hierarchy's paths, on one metadata.

Alembic's ``env.py`` and the composition root import this module; it imports
every domain's models so that nothing is left out of ``metadata``.
"""

from __future__ import annotations

from billing.db import BUS, NODE_PATHS, Base
from billing.ledger.models import JournalEntry, LedgerAccount, Posting
from billing.settlement.models import SettlementChange

metadata = Base.metadata

__all__ = [
    "BUS",
    "NODE_PATHS",
    "Base",
    "JournalEntry",
    "LedgerAccount",
    "Posting",
    "SettlementChange",
    "metadata",
]
