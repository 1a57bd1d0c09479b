"""billing's business figures (docs/architecture.md § Metrics).

The label values the code uses start at 0 (below), so ``rate()`` and
``increase()`` see the first event of each series.
"""

from __future__ import annotations

from prometheus_client import Counter

ENTRIES = Counter(
    "simfleet_billing_entries_total",
    "Journal entries recorded and resolved, by outcome (posted, pending, pending_posted, voided, expired, refused).",
    ["outcome"],
)
MONEY_MOVED = Counter(
    "simfleet_billing_money_moved_minor_units_total",
    "The sum of the debits of posted entries, in minor units, by currency.",
    ["currency"],
)
SETTLEMENT_CHANGES = Counter(
    "simfleet_billing_settlement_changes_total",
    "Settlement method changes applied, by the method taken.",
    ["method"],
)

for _outcome in ("posted", "pending", "pending_posted", "voided", "expired", "refused"):
    ENTRIES.labels(_outcome)
for _method in ("prepaid", "postpaid", "credit"):
    SETTLEMENT_CHANGES.labels(_method)
