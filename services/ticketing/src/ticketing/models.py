"""ticketing's whole schema: the domain tables, the bus tables and the node paths, on one metadata.

Alembic's ``env.py`` and the composition root import this module; it imports
every domain's models so that nothing is left out of ``metadata``.
"""

from __future__ import annotations

from ticketing.attachments.models import Attachment, AttachmentChunk
from ticketing.db import BUS, NODE_PATHS, Base
from ticketing.tickets.models import Ticket, TicketCounter, TicketHistory, TicketNote

metadata = Base.metadata

__all__ = [
    "BUS",
    "NODE_PATHS",
    "Attachment",
    "AttachmentChunk",
    "Base",
    "Ticket",
    "TicketCounter",
    "TicketHistory",
    "TicketNote",
    "metadata",
]
