"""accounts' business figures (docs/architecture.md § Metrics).

The label values the code uses start at 0 (below), so ``rate()`` and
``increase()`` see the first event of each series.
"""

from __future__ import annotations

from prometheus_client import Counter

CUSTOMERS_ONBOARDED = Counter("simfleet_accounts_customers_onboarded_total", "Corporate customers onboarded.")
NODE_CHANGES = Counter(
    "simfleet_accounts_node_changes_total",
    "Changes to the hierarchy, by action (created, renamed, moved, deleted).",
    ["action"],
)

for _action in ("created", "renamed", "moved", "deleted"):
    NODE_CHANGES.labels(_action)
