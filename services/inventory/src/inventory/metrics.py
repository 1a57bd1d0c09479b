"""inventory's business figures (docs/architecture.md § Metrics).

The label values the code uses start at 0 (below), so ``rate()`` and
``increase()`` see the first event of each series.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

OPERATION_TYPES = (
    "block",
    "unblock",
    "activate",
    "replace_sim",
    "change_number",
    "add_apn",
    "remove_apn",
    "set_forwarding",
    "clear_forwarding",
    "move",
    "order_sims",
    "send_sms",
    "terminate",
    "change_tariff",
    "set_services",
    "add_labels",
    "remove_labels",
    "set_group",
    "clear_group",
)
FINAL_STATES = ("completed", "completed_with_errors", "failed", "cancelled")
ITEM_OUTCOMES = ("succeeded", "failed", "skipped")

OPERATIONS_ACCEPTED = Counter("simfleet_inventory_operations_accepted_total", "Operations accepted, by type.", ["type"])
OPERATIONS_FINISHED = Counter(
    "simfleet_inventory_operations_finished_total", "Operations that ended, by type and final state.", ["type", "state"]
)
OPERATIONS_ACTIVE = Gauge(
    "simfleet_inventory_operations_active", "Operations not yet ended, by state (scheduled, running).", ["state"]
)
ITEMS_FINISHED = Counter(
    "simfleet_inventory_operation_items_total", "Operation items that ended, by outcome.", ["outcome"]
)
ITEMS_IN_FLIGHT = Gauge(
    "simfleet_inventory_operation_items_in_flight", "Items sent to the network and not yet answered."
)
PROVISIONING_SECONDS = Histogram(
    "simfleet_inventory_provisioning_seconds",
    "From sending an item to the network to its answer.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
NETWORK_FAILURES = Counter(
    "simfleet_inventory_network_failures_total", "Items the network refused, by failure.", ["failure"]
)
LINES = Gauge("simfleet_inventory_lines", "Lines by state (all customers).", ["state"])
PUK_READS = Counter("simfleet_inventory_puk_reads_total", "PUK codes shown to users.")

for _type in OPERATION_TYPES:
    OPERATIONS_ACCEPTED.labels(_type)
    for _state in FINAL_STATES:
        OPERATIONS_FINISHED.labels(_type, _state)
for _state in ("scheduled", "running"):
    OPERATIONS_ACTIVE.labels(_state)
for _outcome in ITEM_OUTCOMES:
    ITEMS_FINISHED.labels(_outcome)
for _failure in ("unknown_subscriber", "number_in_use", "sim_in_use", "rejected", "system_failure"):
    NETWORK_FAILURES.labels(_failure)
for _state in ("ready", "active", "blocked", "terminated"):
    LINES.labels(_state)
