"""billing's business figures (docs/architecture.md § Metrics).

The label values the code uses start at 0 (below), so ``rate()`` and
``increase()`` see the first event of each series.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

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

LEDGER_SWEEPS = Counter(
    "simfleet_billing_ledger_sweeps_total",
    "Passes of the ledger's sweep (settlement changes come due, pending entries run out), by result (ok, failed).",
    ["result"],
)
LEDGER_SWEEP_LAST_SUCCESS = Gauge(
    "simfleet_billing_ledger_sweep_last_success_timestamp_seconds",
    "When the ledger's sweep last finished a pass (Unix time; 0 until it has).",
)

for _result in ("ok", "failed"):
    LEDGER_SWEEPS.labels(_result)
for _outcome in ("posted", "pending", "pending_posted", "voided", "expired", "refused"):
    ENTRIES.labels(_outcome)
for _method in ("prepaid", "postpaid", "credit"):
    SETTLEMENT_CHANGES.labels(_method)
