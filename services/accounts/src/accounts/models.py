"""accounts' whole schema: the domain tables and the bus tables, on one metadata.

Alembic's ``env.py`` and the composition root import this module; it imports
every domain's models so that nothing is left out of ``metadata``.
"""

from __future__ import annotations

from accounts.audit.models import AuditEvent, AuditObject
from accounts.customers.models import Contract, Customer
from accounts.db import BUS, Base
from accounts.hierarchy.models import Node, NodeFigure

metadata = Base.metadata

__all__ = ["BUS", "AuditEvent", "AuditObject", "Base", "Contract", "Customer", "Node", "NodeFigure", "metadata"]
