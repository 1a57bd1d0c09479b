"""ticketing's business figures (docs/architecture.md § Metrics).

The label values the code uses start at 0 (below), so ``rate()`` and
``increase()`` see the first event of each series. The gauges are refreshed by
the sweep (every ``TICKETING_SWEEP_INTERVAL_SECONDS``) from the database, so
every replica reports the same figures: dashboards take ``max``, not ``sum``.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from ticketing.tickets.catalogue import TYPES
from ticketing.tickets.lifecycle import ACTORS, STATES

TICKETS_CREATED = Counter("simfleet_ticketing_tickets_created_total", "Tickets filed, by type.", ["type"])
TRANSITIONS = Counter(
    "simfleet_ticketing_transitions_total",
    "Tickets' state changes, by the state reached and who moved them (customer, support, system).",
    ["to_state", "actor"],
)
NOTES = Counter("simfleet_ticketing_notes_total", "Notes added to tickets, by author (customer, support).", ["author"])
TICKETS_BY_STATE = Gauge("simfleet_ticketing_tickets", "Tickets in each state (every customer).", ["state"])
OVERDUE = Gauge(
    "simfleet_ticketing_overdue_tickets",
    "Tickets late on their target, by which (response: no first answer yet; resolution: not resolved yet).",
    ["target"],
)
ATTACHMENTS = Counter(
    "simfleet_ticketing_attachments_total",
    "Uploads to tickets, by uploader (customer, support) and outcome (stored, too_large, type_not_allowed, empty, "
    "refused, failed).",
    ["uploader", "outcome"],
)
ATTACHMENT_OUTCOMES = ("stored", "too_large", "type_not_allowed", "empty", "refused", "failed")
SWEEPS = Counter(
    "simfleet_ticketing_sweeps_total", "Passes of the sweep (auto-close and figures), by outcome.", ["outcome"]
)
SWEEP_LAST_SUCCESS = Gauge(
    "simfleet_ticketing_sweep_last_success_timestamp_seconds", "When the sweep last completed (Unix time)."
)

for _type in TYPES:
    TICKETS_CREATED.labels(_type)
for _state in STATES:
    TICKETS_BY_STATE.labels(_state)
    for _actor in ACTORS:
        TRANSITIONS.labels(_state, _actor)
for _author in ("customer", "support"):
    NOTES.labels(_author)
    for _result in ATTACHMENT_OUTCOMES:
        ATTACHMENTS.labels(_author, _result)
for _target in ("response", "resolution"):
    OVERDUE.labels(_target)
for _outcome in ("ok", "failed"):
    SWEEPS.labels(_outcome)
