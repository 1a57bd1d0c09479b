"""billing's whole schema: the domain tables, the bus tables and the hierarchy's paths, on one metadata.

Alembic's ``env.py`` and the composition root import this module; it imports
every domain's models so that nothing is left out of ``metadata``.
"""

from __future__ import annotations

from billing.catalogue.models import TariffVersion
from billing.db import BUS, NODE_PATHS, Base
from billing.fees.models import FeeProgress
from billing.holds.models import FinancialHold, LineHold, LineHoldReason
from billing.ledger.models import JournalEntry, LedgerAccount, Posting
from billing.limits.models import LimitEmail, LimitNotice, LineSpend, SpendingLimit
from billing.lines.models import BillingLine, LineTerm
from billing.packages.models import DataPackage, PackagePurchase, PackageReceipt
from billing.payments.models import AutoPayment, Payment
from billing.promised.models import PromisedPayment
from billing.rating.models import AllowanceUse, UsageRecord
from billing.settlement.models import SettlementChange

metadata = Base.metadata

__all__ = [
    "BUS",
    "NODE_PATHS",
    "AllowanceUse",
    "AutoPayment",
    "Base",
    "BillingLine",
    "DataPackage",
    "FeeProgress",
    "FinancialHold",
    "JournalEntry",
    "LedgerAccount",
    "LimitEmail",
    "LimitNotice",
    "LineHold",
    "LineHoldReason",
    "LineSpend",
    "LineTerm",
    "PackagePurchase",
    "PackageReceipt",
    "Payment",
    "Posting",
    "PromisedPayment",
    "SettlementChange",
    "SpendingLimit",
    "TariffVersion",
    "UsageRecord",
    "metadata",
]
