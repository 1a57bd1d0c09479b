"""notifications' business figures (docs/architecture.md § Observing it).

The label values the code uses start at 0, so ``rate()`` and ``increase()``
see the first event of each series.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from notifications.catalogue import CHANNELS, KINDS

EVENTS = Counter(
    "simfleet_notifications_events_total",
    "Events accepted for a user and channel, by kind and outcome (accepted, or duplicate: already accepted).",
    ["kind", "outcome"],
)
NOTICES = Counter(
    "simfleet_notifications_notices_total",
    "Notices handed to the SMSC or the mail relay, by channel and kind.",
    ["channel", "kind"],
)
SUMMARIES = Counter(
    "simfleet_notifications_summaries_total",
    "Notices that summed up a burst of more than one event, by kind.",
    ["kind"],
)
FAILURES = Counter(
    "simfleet_notifications_delivery_failures_total",
    "Notices not handed on, by channel and outcome: retried (the relay did not take it, later again), failed "
    "(given up: a 5xx or too many tries), no_address (the user has no number or address for the channel).",
    ["channel", "outcome"],
)
PENDING = Gauge(
    "simfleet_notifications_pending_notices", "Notices composed but not yet handed on, by channel.", ["channel"]
)
SENDER_LAST_SUCCESS = Gauge(
    "simfleet_notifications_sender_last_success_timestamp_seconds",
    "When the sender last completed a pass (Unix time).",
)

for _kind in KINDS:
    SUMMARIES.labels(_kind)
    for _outcome in ("accepted", "duplicate"):
        EVENTS.labels(_kind, _outcome)
    for _channel in CHANNELS:
        NOTICES.labels(_channel, _kind)
for _channel in CHANNELS:
    PENDING.labels(_channel)
    for _outcome in ("retried", "failed", "no_address"):
        FAILURES.labels(_channel, _outcome)
