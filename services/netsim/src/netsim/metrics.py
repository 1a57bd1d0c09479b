"""netsim's business metrics (the shared RED and bus metrics live in simfleet_runtime.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SMS_DELIVERED = Counter(
    "simfleet_netsim_sms_delivered_total",
    "SMS the SMSC delivered to a simulated handset's inbox.",
)
MAIL_RECEIVED = Counter(
    "simfleet_netsim_mail_received_total",
    "Messages the SMTP sink stored, counted once per recipient mailbox.",
)

HLR_ACTIONS = (
    "unspecified",
    "register",
    "activate",
    "bar",
    "unbar",
    "swap_sim",
    "change_msisdn",
    "add_apn",
    "remove_apn",
    "set_forwarding",
    "clear_forwarding",
    "deregister",
    "set_services",
)
"""The values of ``action``: a ProvisioningAction's name, lower-case, without its prefix."""
HLR_ITEM_RESULTS = ("applied", "failed", "duplicate")
HLR_FAILURES = ("unknown_subscriber", "number_in_use", "sim_in_use", "rejected", "system_failure")
"""The values of ``failure``: a ProvisioningFailure's name, lower-case, without its prefix."""

HLR_ITEMS = Counter(
    "simfleet_netsim_hlr_items_total",
    "Provisioning items the HLR answered, by action and result (applied, failed, duplicate: answered before).",
    ["action", "result"],
)
HLR_FAILURES_TOTAL = Counter(
    "simfleet_netsim_hlr_failures_total",
    "Provisioning items the HLR did not apply, by failure.",
    ["failure"],
)
HLR_OUTAGE = Gauge(
    "simfleet_netsim_hlr_outage", "1 while the simulated HLR is in an outage (this process takes no commands)."
)
HLR_FAULTS_VERSION = Gauge(
    "simfleet_netsim_hlr_faults_version",
    "The version of the stored HLR faults this process applies (0 before it has read them);"
    " processes showing different versions have not all caught up with a change yet.",
)
HLR_LATENCY = Histogram(
    "simfleet_netsim_hlr_latency_seconds",
    "From taking a provisioning command to its results committed, injected latency included.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)

USAGE_KINDS = ("voice", "sms", "data")
USAGE_RECORDS = Counter(
    "simfleet_netsim_usage_records_total",
    "Usage records the mediation published (acknowledged by the NETSIM_USAGE stream), by kind.",
    ["kind"],
)
USAGE_BATCHES = Counter(
    "simfleet_netsim_usage_batches_total",
    "UsageRecords batches (at most 1,000 records each) the NETSIM_USAGE stream acknowledged.",
)
USAGE_PUBLISH_FAILURES = Counter(
    "simfleet_netsim_usage_publish_failures_total",
    "UsageRecords batches dropped because JetStream did not acknowledge them after their retries.",
)
USAGE_GENERATING = Gauge(
    "simfleet_netsim_usage_generating",
    "1 while this process runs the continuous usage generator (it holds the lease and the rate is above 0).",
)
USAGE_SETTINGS_VERSION = Gauge(
    "simfleet_netsim_usage_settings_version",
    "The version of the stored usage settings this process applies (0 before it has read them).",
)

PAYMENT_OPERATIONS = ("authorize", "capture", "void")
PAYMENT_OUTCOMES = ("approved", "declined", "refused", "lost_answer", "outage")
"""``approved``: authorised, captured or voided (a repeated call too); ``declined``: an authorisation the issuer
refused; ``refused``: INVALID_ARGUMENT, NOT_FOUND or FAILED_PRECONDITION; ``lost_answer``: done, then the answer
was lost (UNAVAILABLE ANSWER_LOST); ``outage``: UNAVAILABLE, nothing done."""
PAYMENTS = Counter(
    "simfleet_netsim_payments_total",
    "Payment calls the simulated acquirer answered, by operation (authorize, capture, void) and outcome"
    " (approved, declined, refused, lost_answer, outage); a repeated call counts again.",
    ["operation", "outcome"],
)

for _operation in PAYMENT_OPERATIONS:
    for _outcome in PAYMENT_OUTCOMES:
        PAYMENTS.labels(_operation, _outcome)
for _kind in USAGE_KINDS:
    USAGE_RECORDS.labels(_kind)
USAGE_GENERATING.set(0)
USAGE_SETTINGS_VERSION.set(0)
for _action in HLR_ACTIONS:
    for _result in HLR_ITEM_RESULTS:
        HLR_ITEMS.labels(_action, _result)
for _failure in HLR_FAILURES:
    HLR_FAILURES_TOTAL.labels(_failure)
HLR_OUTAGE.set(0)
HLR_FAULTS_VERSION.set(0)
