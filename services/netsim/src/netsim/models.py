"""netsim's whole schema: the domain tables and the bus tables, on one metadata.

Alembic's ``env.py`` and the composition root import this module; it imports
every domain's models so that nothing is left out of ``metadata``.
"""

from __future__ import annotations

from netsim.db import BUS, Base, metadata
from netsim.hlr.models import AppliedItem, StoredFaults, Subscriber
from netsim.payments.models import Payment, StoredPaymentFaults
from netsim.smsc.models import Sms
from netsim.smtp.models import Mail
from netsim.usage.models import StoredUsageSettings, UsageLease

__all__ = [
    "BUS",
    "AppliedItem",
    "Base",
    "Mail",
    "Payment",
    "Sms",
    "StoredFaults",
    "StoredPaymentFaults",
    "StoredUsageSettings",
    "Subscriber",
    "UsageLease",
    "metadata",
]
