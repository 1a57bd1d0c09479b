"""billing's business figures (docs/architecture.md § Metrics).

The label values the code uses start at 0 (below), so ``rate()`` and
``increase()`` see the first event of each series.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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

LINES_PROJECTED = Counter(
    "simfleet_billing_lines_projected_total",
    "Line changes from inventory applied to billing's copy of the lines.",
)
USAGE_RECORDS = Counter(
    "simfleet_billing_usage_records_total",
    "Usage records taken by rating, by outcome (rated, rejected, duplicate) and kind (voice, sms, data, unknown).",
    ["outcome", "kind"],
)
USAGE_CHARGED = Counter(
    "simfleet_billing_usage_charged_minor_units_total",
    "What rated usage cost, in minor units, by currency.",
    ["currency"],
)
RATING_LAG = Histogram(
    "simfleet_billing_rating_lag_seconds",
    "From the start of the oldest record of a rated batch to its rating: how far behind the network rating runs.",
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600, 14400, 86400),
)
RATING_BATCH_SECONDS = Histogram(
    "simfleet_billing_rating_batch_seconds",
    "Time to rate the usage batches of one transaction (up to BILLING_RATING_BATCHES_PER_TRANSACTION batches of up to "
    "1,000 records).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

HOLDS = Counter(
    "simfleet_billing_financial_holds_total",
    "Financial holds placed (a personal account below its floor: its lines are blocked) and lifted.",
    ["change"],
)
LIMITS = Counter(
    "simfleet_billing_spending_limits_total",
    "Spending limits reached in a period (once each), and the lines they blocked and unblocked.",
    ["event"],
)
FEE_LINE_DAYS = Counter(
    "simfleet_billing_fee_line_days_total",
    "Days of lines' monthly fees charged (one line for one day each).",
)
PAYMENTS = Counter(
    "simfleet_billing_payments_total",
    "Payments onto personal accounts by kind (card, automatic) and outcome (requested, credited, declined, failed, "
    "unanswered: the provider did not answer a step, which is tried again).",
    ["kind", "outcome"],
)
PACKAGES_BOUGHT = Counter(
    "simfleet_billing_packages_bought_total",
    "Data packages bought, by scope (line: one per line; group: one per group purchase).",
    ["scope"],
)
PACKAGE_RECEIPTS = Counter(
    "simfleet_billing_package_receipts_total",
    "Package purchase receipts emailed (sent), refused for now and tried again (deferred) or for good (rejected).",
    ["outcome"],
)
LIMIT_EMAILS = Counter(
    "simfleet_billing_limit_emails_total",
    "Spending limits' warnings emailed (sent), refused for now and tried again (deferred) or for good (rejected).",
    ["outcome"],
)

for _result in ("ok", "failed"):
    LEDGER_SWEEPS.labels(_result)
for _outcome in ("posted", "pending", "pending_posted", "voided", "expired", "refused"):
    ENTRIES.labels(_outcome)
for _method in ("prepaid", "postpaid", "credit"):
    SETTLEMENT_CHANGES.labels(_method)
for _usage_outcome in ("rated", "rejected", "duplicate"):
    for _kind in ("voice", "sms", "data", "unknown"):
        USAGE_RECORDS.labels(_usage_outcome, _kind)
USAGE_CHARGED.labels("RUB")
for _payment_kind in ("card", "automatic"):
    for _payment_outcome in ("requested", "credited", "declined", "failed", "unanswered"):
        PAYMENTS.labels(_payment_kind, _payment_outcome)
for _change in ("placed", "lifted"):
    HOLDS.labels(_change)
for _event in ("reached", "lines_blocked", "lines_unblocked"):
    LIMITS.labels(_event)
for _scope in ("line", "group"):
    PACKAGES_BOUGHT.labels(_scope)
for _receipt in ("sent", "deferred", "rejected"):
    PACKAGE_RECEIPTS.labels(_receipt)
    LIMIT_EMAILS.labels(_receipt)
