"""Write SIMfleet's Grafana dashboards into deploy/grafana/dashboards/ (the JSON files are committed).

Usage: python tools/dashboards.py [--check]

Every dashboard has the same variables (``datasource``: a Prometheus data
source; ``namespace``; ``job``: the SIMfleet processes, filtered to one service
on a service's dashboard) and only uses metrics the services export (see
``simfleet_runtime.metrics`` and each service's ``metrics.py``) or the
recording rules of ``deploy/prometheus/rules.yaml``. ``--check`` fails when
the committed files differ from what this script writes;
``tests/observability`` runs it, and runs every query against a real
Prometheus scraping the platform.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "deploy" / "grafana" / "dashboards"
SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

RATE = "$__rate_interval"
API = 'route!~"/healthz|/readyz|/metrics"'
"""The gateway's API traffic: what the objectives count (probes and scrapes left out)."""
CALLS = 'grpc_service!~"grpc.health.v1.Health|grpc.reflection.*"'
"""gRPC calls made by users of a service (health checks and reflection left out)."""
SERVER_ERRORS = 'grpc_code=~"UNKNOWN|INTERNAL|UNAVAILABLE|DEADLINE_EXCEEDED|DATA_LOSS|UNIMPLEMENTED"'
"""gRPC codes that are the service's fault (not the caller's: INVALID_ARGUMENT, UNAUTHENTICATED...)."""
AVAILABILITY_BUDGET = 0.005
LATENCY_BUDGET = 0.01


def sel(*matchers: str) -> str:
    """A label selector limited to the dashboard's namespace and job variables."""
    return "{" + ", ".join(['namespace=~"$namespace"', 'job=~"$job"', *matchers]) + "}"


def rate(metric: str, *matchers: str, by: str = "", window: str = RATE) -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (rate({metric}{sel(*matchers)}[{window}]))"


def increase(metric: str, *matchers: str) -> str:
    return f"sum (increase({metric}{sel(*matchers)}[$__range]))"


def share(metric: str, part: str, *matchers: str, by: str = "") -> str:
    """The share of ``metric``'s rate matching ``part``: 0 (not empty) while nothing matches."""
    whole = rate(metric, *matchers, by=by)
    return f"({rate(metric, *matchers, part, by=by)} or 0 * {whole}) / {whole}"


def quantile(q: float, histogram: str, *matchers: str, by: str = "") -> str:
    keys = ", ".join([*(k.strip() for k in by.split(",") if k.strip()), "le"])
    return f"histogram_quantile({q}, sum by ({keys}) (rate({histogram}_bucket{sel(*matchers)}[{RATE}])))"


def recorded(name: str) -> str:
    return f"max({name}{sel()})"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    description: str
    queries: tuple[Query, ...]
    unit: str = "short"
    kind: str = "timeseries"
    width: int = 8
    height: int = 8
    stack: bool = False
    base_colour: str = "green"
    """For stat panels: the colour from the bottom up to the first threshold."""
    thresholds: tuple[tuple[float, str], ...] = ()
    """For stat panels: (from value, colour), ascending."""


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    rows: tuple[Row, ...]
    job_regex: str = ""
    """Grafana's filter on the job variable's values (e.g. ``/identity/``); empty: every SIMfleet job."""
    tags: tuple[str, ...] = ()

    @property
    def filename(self) -> str:
        return self.uid.removeprefix("simfleet-") + ".json"


def ts(title: str, description: str, *queries: Query, unit: str = "short", **kw: Any) -> Panel:
    return Panel(title, description, queries, unit=unit, **kw)


def stat(title: str, description: str, query: Query, unit: str = "short", **kw: Any) -> Panel:
    return Panel(title, description, (query,), unit=unit, kind="stat", width=kw.pop("width", 4), height=4, **kw)


# ---------------------------------------------------------------- shared panels
def resources_row(*, database: bool) -> Row:
    panels = [
        ts(
            "CPU",
            "CPU time used per process (1 = one core; a Python process uses at most one).",
            Query(f"sum by (job, instance) (rate(process_cpu_seconds_total{sel()}[{RATE}]))", "{{job}} {{instance}}"),
            unit="short",
        ),
        ts(
            "Resident memory",
            "Memory each process holds (RSS).",
            Query(f"sum by (job, instance) (process_resident_memory_bytes{sel()})", "{{job}} {{instance}}"),
            unit="bytes",
        ),
        ts(
            "Open file descriptors",
            "Open descriptors as a share of the process's limit (sockets, database files).",
            Query(
                f"max by (job, instance) (process_open_fds{sel()} / process_max_fds{sel()})",
                "{{job}} {{instance}}",
            ),
            unit="percentunit",
        ),
    ]
    if database:
        panels += [
            ts(
                "Database pool",
                "Connections by state (checked_out: in use; idle: open and free; overflow: beyond the pool size) "
                "against the pool size. checked_out at the size means requests queue for a connection.",
                Query(f"sum by (job, state) (simfleet_db_pool_connections{sel()})", "{{job}} {{state}}"),
                Query(f"sum by (job) (simfleet_db_pool_size{sel()})", "{{job}} pool size"),
            ),
            ts(
                "Database pool checkout",
                "Time to get a connection from the pool (waiting for one, opening one, the liveness ping).",
                Query(quantile(0.99, "simfleet_db_pool_checkout_seconds", by="job"), "{{job}} p99"),
                Query(quantile(0.5, "simfleet_db_pool_checkout_seconds", by="job"), "{{job}} p50"),
                unit="s",
            ),
        ]
    return Row("Resources", tuple(panels))


def outbox_panels() -> tuple[Panel, ...]:
    return (
        ts(
            "Outbox backlog",
            "Events written with their change and not yet published to JetStream (SMS and emails among them).",
            Query(f"max by (job) (simfleet_outbox_backlog_messages{sel()})", "{{job}}"),
        ),
        ts(
            "Oldest unpublished outbox message",
            "Age of the oldest event waiting in the outbox (0 when it is empty).",
            Query(f"max by (job) (simfleet_outbox_oldest_unpublished_seconds{sel()})", "{{job}}"),
            unit="s",
        ),
        ts(
            "Published to NATS",
            "Events the outbox relay published, by subject, and publishes JetStream did not acknowledge.",
            Query(rate("simfleet_nats_published_total", by="subject"), "{{subject}}"),
            Query(rate("simfleet_nats_publish_failed_total", by="subject"), "{{subject}} failed"),
            unit="ops",
        ),
    )


def consumer_panels() -> tuple[Panel, ...]:
    return (
        ts(
            "Consumer lag",
            "Messages in the stream not yet delivered to each durable consumer.",
            Query(f"max by (consumer) (simfleet_nats_consumer_pending_messages{sel()})", "{{consumer}}"),
        ),
        ts(
            "Consumed by result",
            "Messages each durable consumer finished: applied, duplicate (already applied), "
            "retried (handler failed, redelivered later), dead_lettered (given up).",
            Query(rate("simfleet_nats_consumed_total", by="consumer, result"), "{{consumer}} {{result}}"),
            unit="ops",
        ),
        ts(
            "Redelivered and dead-lettered",
            "Messages that arrived again at a consumer, and messages a consumer gave up on.",
            Query(rate("simfleet_nats_redelivered_total", by="consumer"), "{{consumer}} redelivered"),
            Query(rate("simfleet_nats_dead_lettered_total", by="consumer"), "{{consumer}} dead-lettered"),
            unit="ops",
        ),
    )


def grpc_server_row(service: str) -> Row:
    return Row(
        f"gRPC ({service})",
        (
            ts(
                "Calls by method",
                "gRPC calls this service answered (health checks and reflection left out).",
                Query(
                    rate("simfleet_grpc_server_handled_total", CALLS, by="grpc_service, grpc_method"), "{{grpc_method}}"
                ),
                unit="reqps",
            ),
            ts(
                "Answers other than OK",
                "By method and status code; UNAUTHENTICATED, INVALID_ARGUMENT and the like are the callers' "
                "mistakes, INTERNAL, UNAVAILABLE and DEADLINE_EXCEEDED the service's.",
                Query(
                    rate("simfleet_grpc_server_handled_total", CALLS, 'grpc_code!="OK"', by="grpc_method, grpc_code"),
                    "{{grpc_method}} {{grpc_code}}",
                ),
                unit="reqps",
            ),
            ts(
                "Latency by method",
                "Time the service spent on a call, 99th and 50th percentiles.",
                Query(
                    quantile(0.99, "simfleet_grpc_server_handling_seconds", CALLS, by="grpc_method"),
                    "{{grpc_method}} p99",
                ),
                Query(
                    quantile(0.5, "simfleet_grpc_server_handling_seconds", CALLS, by="grpc_method"),
                    "{{grpc_method}} p50",
                ),
                unit="s",
            ),
        ),
    )


def service_stats(service: str) -> Row:
    return Row(
        "Overview",
        (
            stat(
                "Ready processes",
                f"{service} processes whose health says SERVING (database and NATS reachable).",
                Query(f"sum(simfleet_service_ready{sel()})"),
                base_colour="red",
                thresholds=((1, "green"),),
            ),
            stat(
                "Calls per second",
                "gRPC calls answered (health checks left out).",
                Query(rate("simfleet_grpc_server_handled_total", CALLS)),
                unit="reqps",
            ),
            stat(
                "Server errors",
                "Share of calls answered with a code that is the service's fault.",
                Query(share("simfleet_grpc_server_handled_total", SERVER_ERRORS, CALLS)),
                unit="percentunit",
                thresholds=((0.005, "orange"), (0.05, "red")),
            ),
            stat(
                "p99 latency",
                "99th percentile of the time spent on a call.",
                Query(quantile(0.99, "simfleet_grpc_server_handling_seconds", CALLS)),
                unit="s",
                thresholds=((0.1, "orange"), (0.3, "red")),
            ),
            stat(
                "Outbox backlog",
                "Events waiting to be published.",
                Query(f"max(simfleet_outbox_backlog_messages{sel()})"),
                thresholds=((100, "orange"), (1000, "red")),
            ),
            stat(
                "Consumer lag",
                "Messages waiting for this service's durable consumers.",
                Query(f"max(simfleet_nats_consumer_pending_messages{sel()})"),
                thresholds=((100, "orange"), (1000, "red")),
            ),
        ),
    )


# ---------------------------------------------------------------- dashboards
def platform_overview() -> Dashboard:
    return Dashboard(
        uid="simfleet-platform-overview",
        title="SIMfleet / Platform overview",
        description="Traffic, errors, latency and saturation of every SIMfleet process.",
        rows=(
            Row(
                "Health",
                (
                    stat(
                        "Processes up",
                        "Targets Prometheus scrapes successfully.",
                        Query(f"sum(up{sel()})"),
                        base_colour="red",
                        thresholds=((1, "green"),),
                    ),
                    stat(
                        "Processes ready",
                        "Processes whose readiness holds (database and NATS; for the gateway, identity).",
                        Query(f"sum(simfleet_service_ready{sel()})"),
                        base_colour="red",
                        thresholds=((1, "green"),),
                    ),
                    stat(
                        "Gateway requests per second",
                        "API requests to the gateway (probes and /metrics left out).",
                        Query(rate("simfleet_http_requests_total", API)),
                        unit="reqps",
                    ),
                    stat(
                        "Gateway 5xx",
                        "Share of API requests answered with a 5xx.",
                        Query(share("simfleet_http_requests_total", 'status=~"5.."', API)),
                        unit="percentunit",
                        thresholds=((AVAILABILITY_BUDGET, "orange"), (14.4 * AVAILABILITY_BUDGET, "red")),
                    ),
                    stat(
                        "Gateway p99 latency",
                        "99th percentile of the time the gateway took to answer.",
                        Query(quantile(0.99, "simfleet_http_request_duration_seconds", API)),
                        unit="s",
                        thresholds=((0.3, "orange"), (1, "red")),
                    ),
                    stat(
                        "Availability budget burn (1h)",
                        "How fast the gateway spends its 30-day error budget (1 = exactly on budget; 14.4 pages).",
                        Query(f"{recorded('simfleet:gateway_http_errors:ratio_rate1h')} / {AVAILABILITY_BUDGET}"),
                        unit="suffix:x",
                        thresholds=((1, "orange"), (14.4, "red")),
                    ),
                ),
            ),
            Row(
                "Traffic, errors, latency",
                (
                    ts(
                        "Requests per second",
                        "gRPC calls each service answered and HTTP requests the gateway answered.",
                        Query(rate("simfleet_grpc_server_handled_total", CALLS, by="job"), "{{job}} gRPC"),
                        Query(rate("simfleet_http_requests_total", API, by="job"), "{{job}} HTTP"),
                        unit="reqps",
                    ),
                    ts(
                        "Errors",
                        "Share of gRPC calls failed by the service's fault, and of HTTP requests answered with a 5xx.",
                        Query(
                            share("simfleet_grpc_server_handled_total", SERVER_ERRORS, CALLS, by="job"), "{{job}} gRPC"
                        ),
                        Query(share("simfleet_http_requests_total", 'status=~"5.."', API, by="job"), "{{job}} HTTP"),
                        unit="percentunit",
                    ),
                    ts(
                        "Latency p99",
                        "99th percentile of the time each service took to answer.",
                        Query(quantile(0.99, "simfleet_grpc_server_handling_seconds", CALLS, by="job"), "{{job}} gRPC"),
                        Query(quantile(0.99, "simfleet_http_request_duration_seconds", API, by="job"), "{{job}} HTTP"),
                        unit="s",
                    ),
                ),
            ),
            resources_row(database=True),
            Row("Messaging", (*outbox_panels(), *consumer_panels())),
        ),
        tags=("overview",),
    )


def identity() -> Dashboard:
    return Dashboard(
        uid="simfleet-identity",
        title="SIMfleet / Identity",
        description="identity: gRPC calls, sign-in figures, its outbox and mailer, resources.",
        job_regex="/identity/",
        rows=(
            service_stats("identity"),
            grpc_server_row("simfleet.identity.v1"),
            Row(
                "Sign-in",
                (
                    ts(
                        "One-time codes sent",
                        "Codes handed to the SMS or email channel, by purpose.",
                        Query(
                            rate("simfleet_identity_otp_sent_total", by="channel, purpose"), "{{channel}} {{purpose}}"
                        ),
                        unit="ops",
                    ),
                    ts(
                        "Code checks by result",
                        "succeeded, invalid (wrong code), expired, locked (too many wrong codes).",
                        Query(rate("simfleet_identity_otp_verifications_total", by="result"), "{{result}}"),
                        unit="ops",
                    ),
                    ts(
                        "Sign-ins by method and result",
                        "Every sign-in attempt (password, code by SMS or email).",
                        Query(rate("simfleet_identity_sign_ins_total", by="method, result"), "{{method}} {{result}}"),
                        unit="ops",
                    ),
                    ts(
                        "Code requests throttled",
                        "Code requests refused by a send limit, per number (phone) or per client address.",
                        Query(rate("simfleet_identity_otp_throttled_total", by="scope"), "{{scope}}"),
                        unit="ops",
                    ),
                    ts(
                        "Sessions ended",
                        "Sessions revoked, by reason (sign_out, idle_timeout, refresh token reuse...).",
                        Query(rate("simfleet_identity_sessions_revoked_total", by="reason"), "{{reason}}"),
                        unit="ops",
                    ),
                    ts(
                        "Emails",
                        "Emails the mailer handed to the SMTP relay: sent, deferred (retried), rejected.",
                        Query(rate("simfleet_identity_emails_total", by="result"), "{{result}}"),
                        unit="ops",
                    ),
                ),
            ),
            Row("Messaging", (*outbox_panels(), *consumer_panels())),
            resources_row(database=True),
        ),
    )


def accounts() -> Dashboard:
    return Dashboard(
        uid="simfleet-accounts",
        title="SIMfleet / Accounts",
        description=(
            "accounts: gRPC calls, customers onboarded and changes to their hierarchy, the action history's "
            "consumers, its outbox, resources."
        ),
        job_regex="/accounts/",
        rows=(
            service_stats("accounts"),
            grpc_server_row("simfleet.accounts.v1"),
            Row(
                "Customers and hierarchy",
                (
                    ts(
                        "Customers onboarded",
                        "Corporate customers onboarded (each gets its company node and a profile manager).",
                        Query(rate("simfleet_accounts_customers_onboarded_total"), "onboarded"),
                        unit="ops",
                        width=12,
                    ),
                    ts(
                        "Hierarchy changes by action",
                        "Nodes of the customers' hierarchies created, renamed, moved and deleted.",
                        Query(rate("simfleet_accounts_node_changes_total", by="action"), "{{action}}"),
                        unit="ops",
                        width=12,
                        stack=True,
                    ),
                ),
            ),
            Row("Messaging", (*outbox_panels(), *consumer_panels())),
            resources_row(database=True),
        ),
    )


def billing() -> Dashboard:
    def entries(outcome: str) -> Query:
        return Query(rate("simfleet_billing_entries_total", f'outcome="{outcome}"'), outcome)

    refused = increase("simfleet_billing_entries_total", 'outcome="refused"')
    rejected = increase("simfleet_billing_usage_records_total", 'outcome="rejected"')
    taken = increase("simfleet_billing_usage_records_total", 'outcome=~"rated|rejected"')
    recorded_or_refused = increase("simfleet_billing_entries_total", 'outcome=~"posted|pending|refused"')

    return Dashboard(
        uid="simfleet-billing",
        title="SIMfleet / Billing",
        description=(
            "billing: gRPC calls, the ledger's journal entries and pending entries, money moved, settlement "
            "changes, the node consumer that keeps its copy of the tree, resources."
        ),
        job_regex="/billing/",
        rows=(
            service_stats("billing"),
            grpc_server_row("simfleet.billing.v1"),
            Row(
                "Ledger",
                (
                    ts(
                        "Entries recorded",
                        "Journal entries posted at once, pending entries placed (reservations), and entries refused "
                        "at an account's floor (INSUFFICIENT_FUNDS: a customer without the money, not a fault).",
                        entries("posted"),
                        entries("pending"),
                        entries("refused"),
                        unit="ops",
                    ),
                    ts(
                        "Pending entries resolved",
                        "How reservations end: posted by their owner, voided by their owner, or expired (voided by "
                        "the ledger's sweep, or posted too late). Expired ones mean the caller lost track of them.",
                        entries("pending_posted"),
                        entries("voided"),
                        entries("expired"),
                        unit="ops",
                        stack=True,
                    ),
                    ts(
                        "Money moved",
                        "The debits of posted entries (and of pending entries when posted), in minor units of each "
                        "currency (kopecks for RUB): compare a currency only with itself.",
                        Query(rate("simfleet_billing_money_moved_minor_units_total", by="currency"), "{{currency}}"),
                    ),
                    ts(
                        "Settlement changes applied",
                        "Accounts moved to prepaid, postpaid or credit: at once when due, or by the ledger's sweep "
                        "when their date comes. Each moves the account's floor, never its money.",
                        Query(rate("simfleet_billing_settlement_changes_total", by="method"), "{{method}}"),
                        unit="ops",
                        width=12,
                        stack=True,
                    ),
                    stat(
                        "Entries refused",
                        "Share of entries refused at an account's floor over the time range: customers out of "
                        "money or credit (watch the trend; the ledger is working as it should).",
                        Query(f"{refused} / {recorded_or_refused}"),
                        unit="percentunit",
                        width=6,
                        thresholds=((0.2, "orange"),),
                    ),
                    stat(
                        "Pending entries expired",
                        "Reservations that ran out of time over the time range instead of being posted or voided.",
                        Query(increase("simfleet_billing_entries_total", 'outcome="expired"')),
                        width=6,
                        thresholds=((1, "orange"),),
                    ),
                ),
            ),
            Row(
                "Rating",
                (
                    ts(
                        "Usage records rated/s",
                        "Records of the network's usage taken by rating, by kind: rated (priced, charged when they "
                        "cost anything), rejected (kept with their reason, charged to nobody), duplicate (sent "
                        "again: never charged twice).",
                        Query(rate("simfleet_billing_usage_records_total", 'outcome="rated"', by="kind"), "{{kind}}"),
                        Query(rate("simfleet_billing_usage_records_total", 'outcome="rejected"'), "rejected"),
                        Query(rate("simfleet_billing_usage_records_total", 'outcome="duplicate"'), "duplicate"),
                        unit="ops",
                        stack=True,
                    ),
                    ts(
                        "Rating lag",
                        "From the start of a batch's oldest record to its rating: how far behind the network "
                        "balances run (SimfleetBillingRatingLagging above 15 minutes).",
                        Query(quantile(0.9, "simfleet_billing_rating_lag_seconds"), "p90"),
                        Query(quantile(0.5, "simfleet_billing_rating_lag_seconds"), "p50"),
                        unit="s",
                    ),
                    ts(
                        "Rating transaction time",
                        "One transaction of rating (up to 4 batches of up to 1,000 records, rated together).",
                        Query(quantile(0.99, "simfleet_billing_rating_batch_seconds"), "p99"),
                        Query(quantile(0.5, "simfleet_billing_rating_batch_seconds"), "p50"),
                        unit="s",
                    ),
                    ts(
                        "Usage charged",
                        "What rated usage cost, in minor units of each currency.",
                        Query(rate("simfleet_billing_usage_charged_minor_units_total", by="currency"), "{{currency}}"),
                    ),
                    stat(
                        "Records rejected",
                        "Share of the usage records rejected over the time range (SimfleetBillingUsageRejected "
                        "above 1%): see BillingAdminService.ListRejectedUsage for their reasons.",
                        Query(f"{rejected} / {taken}"),
                        unit="percentunit",
                        width=6,
                        thresholds=((0.01, "orange"),),
                    ),
                    ts(
                        "Payments by outcome",
                        "Top-ups by card and automatic payments: requested, credited, declined by the card's issuer, "
                        "failed (given up), and steps the payment provider did not answer (asked again).",
                        Query(rate("simfleet_billing_payments_total", by="outcome"), "{{outcome}}"),
                        unit="ops",
                    ),
                    ts(
                        "Financial holds",
                        "Personal accounts held below their floor (their lines blocked) and released.",
                        Query(rate("simfleet_billing_financial_holds_total", by="change"), "{{change}}"),
                        unit="ops",
                    ),
                    stat(
                        "Lines known",
                        "Line changes from inventory applied to billing's copy of the lines over the time range.",
                        Query(increase("simfleet_billing_lines_projected_total")),
                        width=6,
                    ),
                ),
            ),
            Row("Messaging", consumer_panels()),
            resources_row(database=True),
        ),
    )


def ticketing() -> Dashboard:
    def gauge(metric: str, by: str) -> str:
        # Every replica reports the same figures (read from the database by the sweep): max, never sum.
        return f"max by ({by}) ({metric}{sel()})"

    return Dashboard(
        uid="simfleet-ticketing",
        title="SIMfleet / Ticketing",
        description=(
            "ticketing: gRPC calls, tickets by state, overdue tickets, tickets filed, state changes, notes and "
            "attachments, the sweep that closes resolved tickets, its outbox and node consumer, resources."
        ),
        job_regex="/ticketing/",
        rows=(
            service_stats("ticketing"),
            grpc_server_row("simfleet.ticketing.v1"),
            Row(
                "Tickets",
                (
                    ts(
                        "Tickets by state",
                        "Every customer's tickets in each TMF621 state (refreshed by the sweep).",
                        Query(gauge("simfleet_ticketing_tickets", "state"), "{{state}}"),
                        stack=True,
                    ),
                    ts(
                        "Overdue tickets",
                        "Open tickets late on their target: no first answer from support yet (response), or not "
                        "resolved yet (resolution). Targets by severity are settings (SimfleetTicketsOverdue).",
                        Query(gauge("simfleet_ticketing_overdue_tickets", "target"), "{{target}}"),
                    ),
                    stat(
                        "Overdue now",
                        "Open tickets past their resolution target.",
                        Query("max(simfleet_ticketing_overdue_tickets" + sel('target="resolution"') + ")"),
                        width=8,
                        thresholds=((1, "orange"),),
                    ),
                    ts(
                        "Tickets filed by type",
                        "Tickets customers filed, by type (complaints and suggestions among them).",
                        Query(rate("simfleet_ticketing_tickets_created_total", by="type"), "{{type}}"),
                        unit="ops",
                        stack=True,
                    ),
                    ts(
                        "State changes",
                        "Tickets moved, by the state reached and who moved them (customer, support, system: the "
                        "automatic closing and a customer's answer to a pending ticket).",
                        Query(
                            rate("simfleet_ticketing_transitions_total", by="to_state, actor"),
                            "{{to_state}} by {{actor}}",
                        ),
                        unit="ops",
                    ),
                    ts(
                        "Notes",
                        "Notes written in tickets' conversations, by the customer and by support.",
                        Query(rate("simfleet_ticketing_notes_total", by="author"), "{{author}}"),
                        unit="ops",
                        stack=True,
                    ),
                    ts(
                        "Attachments",
                        "Files uploaded to tickets, by outcome: stored, or refused as too large, of a type not "
                        "allowed (checked by content), empty or otherwise refused; failed: the upload broke off.",
                        Query(rate("simfleet_ticketing_attachments_total", by="outcome"), "{{outcome}}"),
                        unit="ops",
                        stack=True,
                        width=24,
                    ),
                    ts(
                        "Sweeps",
                        "Passes of the sweep that closes resolved tickets and refreshes the figures, by outcome "
                        "(SimfleetTicketingSweepStalled when none succeeds).",
                        Query(rate("simfleet_ticketing_sweeps_total", by="outcome"), "{{outcome}}"),
                        unit="ops",
                        width=12,
                    ),
                    stat(
                        "Since the last sweep",
                        "Time since the sweep last completed.",
                        Query(f"time() - max(simfleet_ticketing_sweep_last_success_timestamp_seconds{sel()})"),
                        unit="s",
                        width=12,
                        thresholds=((600, "orange"),),
                    ),
                ),
            ),
            Row("Messaging", (*outbox_panels(), *consumer_panels())),
            resources_row(database=True),
        ),
    )


def notifications() -> Dashboard:
    return Dashboard(
        uid="simfleet-notifications",
        title="SIMfleet / Notifications",
        description=(
            "notifications: gRPC calls, notices sent by channel and kind, events accepted, bursts summed up, "
            "delivery failures, notices waiting, the sender, its consumers and outbox, resources."
        ),
        job_regex="/notifications/",
        rows=(
            service_stats("notifications"),
            grpc_server_row("simfleet.notifications.v1"),
            Row(
                "Notices",
                (
                    ts(
                        "Notices sent by channel",
                        "Notices handed to the network's SMSC (sms) or the mail relay (email).",
                        Query(rate("simfleet_notifications_notices_total", by="channel"), "{{channel}}"),
                        unit="ops",
                        stack=True,
                    ),
                    ts(
                        "Notices sent by kind",
                        "The same notices by what they tell of (ticket replies, operations, limits, sign-ins...).",
                        Query(rate("simfleet_notifications_notices_total", by="kind"), "{{kind}}"),
                        unit="ops",
                        stack=True,
                    ),
                    ts(
                        "Delivery failures",
                        "Notices not handed on: retried (the relay did not answer or refused for now) or failed "
                        "(given up, a 5xx, or no number or address). SimfleetNoticeDeliveryFailing.",
                        Query(
                            rate("simfleet_notifications_delivery_failures_total", by="channel, outcome"),
                            "{{channel}} {{outcome}}",
                        ),
                        unit="ops",
                    ),
                    ts(
                        "Events accepted",
                        "Events accepted for a user and channel, by kind; duplicate: an event already accepted "
                        "came again (a redelivery, a replay) and made nothing.",
                        Query(rate("simfleet_notifications_events_total", by="kind, outcome"), "{{kind}} {{outcome}}"),
                        unit="ops",
                    ),
                    ts(
                        "Bursts summed up",
                        "Notices that told of more than one event (a burst gathered in the grouping window).",
                        Query(rate("simfleet_notifications_summaries_total", by="kind"), "{{kind}}"),
                        unit="ops",
                    ),
                    ts(
                        "Notices waiting",
                        "Notices made and not yet handed on (every replica reads the same table: max).",
                        Query(f"max by (channel) (simfleet_notifications_pending_notices{sel()})", "{{channel}}"),
                        width=12,
                    ),
                    stat(
                        "Since the sender's last pass",
                        "Time since the composer and sender last completed a pass.",
                        Query(f"time() - max(simfleet_notifications_sender_last_success_timestamp_seconds{sel()})"),
                        unit="s",
                        width=12,
                        thresholds=((60, "orange"),),
                    ),
                ),
            ),
            Row("Messaging", (*outbox_panels(), *consumer_panels())),
            resources_row(database=True),
        ),
    )


def inventory() -> Dashboard:
    def items(outcome: str) -> Query:
        return Query(increase("simfleet_inventory_operation_items_total", f'outcome="{outcome}"'))

    return Dashboard(
        uid="simfleet-inventory",
        title="SIMfleet / Inventory",
        description=(
            "inventory: gRPC calls, operations on lines and their items, provisioning on the network "
            "(latency, failures), lines by state, PUK codes shown, its outbox and consumers, resources."
        ),
        job_regex="/inventory/",
        rows=(
            service_stats("inventory"),
            Row(
                "Over the selected time range",
                (
                    stat(
                        "Operations accepted",
                        "Operations customers and the back-office started (every type).",
                        Query(increase("simfleet_inventory_operations_accepted_total")),
                    ),
                    stat("Items succeeded", "Operation items the network applied.", items("succeeded")),
                    stat(
                        "Items failed",
                        "Operation items that ended failed (refused by the network or not possible).",
                        items("failed"),
                        thresholds=((1, "orange"),),
                    ),
                    stat(
                        "Items skipped", "Operation items with nothing to do (already so, cancelled).", items("skipped")
                    ),
                    stat(
                        "Items in flight",
                        "Items sent to the network and not yet answered, now (every pod's count together).",
                        Query(f"sum(simfleet_inventory_operation_items_in_flight{sel()})"),
                    ),
                    stat(
                        "PUK codes shown",
                        "PUK codes users read (each read is audited).",
                        Query(increase("simfleet_inventory_puk_reads_total")),
                    ),
                ),
            ),
            Row(
                "Operations",
                (
                    ts(
                        "Operations accepted by type",
                        "Operations accepted (block, unblock, activate, replace_sim, change_number, APNs, "
                        "forwarding, move, order_sims, send_sms, terminate, change_tariff, set_services, labels "
                        "and groups).",
                        Query(rate("simfleet_inventory_operations_accepted_total", by="type"), "{{type}}"),
                        unit="ops",
                        stack=True,
                    ),
                    ts(
                        "Operations finished by type and state",
                        "Operations that ended: completed, completed_with_errors, failed, cancelled.",
                        Query(
                            rate("simfleet_inventory_operations_finished_total", by="type, state"),
                            "{{type}} {{state}}",
                        ),
                        unit="ops",
                    ),
                    ts(
                        "Operations not yet ended",
                        "Operations scheduled (waiting for their time) and running.",
                        Query(f"max by (state) (simfleet_inventory_operations_active{sel()})", "{{state}}"),
                    ),
                    ts(
                        "Items by outcome",
                        "Operation items that ended: succeeded, failed, skipped.",
                        Query(rate("simfleet_inventory_operation_items_total", by="outcome"), "{{outcome}}"),
                        unit="ops",
                        stack=True,
                    ),
                    ts(
                        "Items in flight",
                        "Items sent to the network and not yet answered, every pod's count together (a pod "
                        "counts what it sent less the answers it took). Above 0 and flat while no item ends: "
                        "operations are stuck.",
                        Query(f"sum(simfleet_inventory_operation_items_in_flight{sel()})", "in flight"),
                    ),
                    ts(
                        "Provisioning latency",
                        "From sending an item to the network to its answer, 99th and 50th percentiles.",
                        Query(quantile(0.99, "simfleet_inventory_provisioning_seconds"), "p99"),
                        Query(quantile(0.5, "simfleet_inventory_provisioning_seconds"), "p50"),
                        unit="s",
                    ),
                ),
            ),
            Row(
                "Network and lines",
                (
                    ts(
                        "Network failures by failure",
                        "Items the network refused: unknown_subscriber, number_in_use, sim_in_use, rejected, "
                        "system_failure.",
                        Query(rate("simfleet_inventory_network_failures_total", by="failure"), "{{failure}}"),
                        unit="ops",
                        width=6,
                    ),
                    ts(
                        "Refused by the network",
                        "Share of the items answered by the network that it refused (the network failure "
                        "alert watches it).",
                        Query(
                            f"{rate('simfleet_inventory_network_failures_total')} / "
                            f"{rate('simfleet_inventory_provisioning_seconds_count')}",
                            "refused",
                        ),
                        unit="percentunit",
                        width=6,
                    ),
                    ts(
                        "Lines by state",
                        "Lines of every customer: ready, active, blocked, terminated.",
                        Query(f"max by (state) (simfleet_inventory_lines{sel()})", "{{state}}"),
                        width=6,
                    ),
                    ts(
                        "PUK codes shown",
                        "PUK codes users read; a burst is worth a look at the audit trail.",
                        Query(rate("simfleet_inventory_puk_reads_total"), "shown"),
                        unit="ops",
                        width=6,
                    ),
                ),
            ),
            grpc_server_row("simfleet.inventory.v1"),
            Row("Messaging", (*outbox_panels(), *consumer_panels())),
            resources_row(database=True),
        ),
    )


def netsim() -> Dashboard:
    return Dashboard(
        uid="simfleet-netsim",
        title="SIMfleet / Netsim",
        description="netsim: the simulated HLR (provisioning, failures, outages, latency), SMSC and SMTP sink, "
        "the mediation's usage records, the simulated acquirer's payments, its consumers and outbox, resources.",
        job_regex="/netsim/",
        rows=(
            service_stats("netsim"),
            Row(
                "HLR",
                (
                    ts(
                        "HLR items by action and result",
                        "Provisioning items the HLR answered, by action (register, bar, swap_sim...) and result "
                        "(applied, failed, duplicate: answered before).",
                        Query(rate("simfleet_netsim_hlr_items_total", by="action, result"), "{{action}} {{result}}"),
                        unit="ops",
                        width=6,
                    ),
                    ts(
                        "HLR failures by failure",
                        "Items the HLR refused, by failure (unknown_subscriber, number_in_use, sim_in_use, "
                        "rejected, system_failure).",
                        Query(rate("simfleet_netsim_hlr_failures_total", by="failure"), "{{failure}}"),
                        unit="ops",
                        width=6,
                    ),
                    ts(
                        "HLR outage",
                        "1 while the HLR is out of service (commands wait in the NETSIM_CMD queue), 0 otherwise.",
                        Query(f"max by (instance) (simfleet_netsim_hlr_outage{sel()})", "{{instance}}"),
                        width=6,
                    ),
                    ts(
                        "HLR latency",
                        "From taking a provisioning command to its results committed (injected latency "
                        "included), 99th and 50th percentiles.",
                        Query(quantile(0.99, "simfleet_netsim_hlr_latency_seconds"), "p99"),
                        Query(quantile(0.5, "simfleet_netsim_hlr_latency_seconds"), "p50"),
                        unit="s",
                        width=6,
                    ),
                ),
            ),
            Row(
                "SMSC and SMTP sink",
                (
                    ts(
                        "SMS delivered",
                        "SMS the simulated SMSC put into a handset's inbox.",
                        Query(rate("simfleet_netsim_sms_delivered_total"), "delivered"),
                        unit="ops",
                    ),
                    ts(
                        "Mail received",
                        "Messages the SMTP sink stored, once per recipient mailbox.",
                        Query(rate("simfleet_netsim_mail_received_total"), "received"),
                        unit="ops",
                    ),
                    *consumer_panels(),
                ),
            ),
            Row(
                "Mediation (usage records)",
                (
                    ts(
                        "Usage records by kind",
                        "Usage records published on the NETSIM_USAGE stream (acknowledged), by kind "
                        "(voice, sms, data).",
                        Query(rate("simfleet_netsim_usage_records_total", by="kind"), "{{kind}}"),
                        unit="ops",
                        width=8,
                    ),
                    ts(
                        "Usage batches and publish failures",
                        "UsageRecords batches the stream acknowledged, and batches dropped after their retries.",
                        Query(rate("simfleet_netsim_usage_batches_total"), "published"),
                        Query(rate("simfleet_netsim_usage_publish_failures_total"), "failed"),
                        unit="ops",
                        width=8,
                    ),
                    ts(
                        "Usage generator",
                        "1 on the replica running the continuous generator (it holds the lease, the rate is above "
                        "0); none at 1: the generator is off.",
                        Query(f"max by (instance) (simfleet_netsim_usage_generating{sel()})", "{{instance}}"),
                        width=8,
                    ),
                ),
            ),
            Row(
                "Payments (simulated acquirer)",
                (
                    ts(
                        "Payment calls by operation and outcome",
                        "Authorize, Capture and Void calls the simulated acquirer answered, by outcome (approved, "
                        "declined, refused, lost_answer, outage); a repeated call counts again.",
                        Query(
                            rate("simfleet_netsim_payments_total", by="operation, outcome"),
                            "{{operation}} {{outcome}}",
                        ),
                        unit="ops",
                        width=12,
                    ),
                    ts(
                        "Payment calls callers saw fail",
                        "Calls answered UNAVAILABLE: lost answers (the work was done, asking again finds it) and "
                        "outages (nothing was done), as injected by the payment faults.",
                        Query(
                            rate("simfleet_netsim_payments_total", 'outcome=~"lost_answer|outage"', by="outcome"),
                            "{{outcome}}",
                        ),
                        unit="ops",
                        width=12,
                    ),
                ),
            ),
            grpc_server_row("simfleet.netsim.v1"),
            Row("Outbox", outbox_panels()),
            resources_row(database=True),
        ),
    )


def gateway() -> Dashboard:
    return Dashboard(
        uid="simfleet-gateway",
        title="SIMfleet / Gateway",
        description="The gateway: its objectives (availability 99.5%, 99% within 300 ms, over 30 days), "
        "HTTP traffic by route, calls to identity, resources.",
        job_regex="/gateway/",
        rows=(
            Row(
                "Objectives",
                (
                    stat(
                        "Availability, 1 day",
                        "Share of API requests answered without a 5xx over the last day (objective 99.5%).",
                        Query(f"1 - {recorded('simfleet:gateway_http_errors:ratio_rate1d')}"),
                        unit="percentunit",
                        width=6,
                        base_colour="red",
                        thresholds=((1 - 6 * AVAILABILITY_BUDGET, "orange"), (1 - AVAILABILITY_BUDGET, "green")),
                    ),
                    stat(
                        "Within 300 ms, 1 day",
                        "Share of API requests answered within 300 ms over the last day (objective 99%).",
                        Query(f"1 - {recorded('simfleet:gateway_http_slow:ratio_rate1d')}"),
                        unit="percentunit",
                        width=6,
                        base_colour="red",
                        thresholds=((1 - 6 * LATENCY_BUDGET, "orange"), (1 - LATENCY_BUDGET, "green")),
                    ),
                    stat(
                        "Ready",
                        "Gateways that can reach a serving identity.",
                        Query(f"sum(simfleet_service_ready{sel()})"),
                        width=6,
                        base_colour="red",
                        thresholds=((1, "green"),),
                    ),
                    stat(
                        "Requests in flight",
                        "Requests being answered now.",
                        Query(f"sum(simfleet_http_requests_in_flight{sel()})"),
                        width=6,
                    ),
                    ts(
                        "Availability budget burn rate",
                        "Error ratio over each alert window divided by the budget (0.5%): above 14.4 (1h) "
                        "or 6 (6h) pages, above 3 (1d) or 1 (3d) opens a ticket.",
                        *(
                            Query(
                                f"{recorded(f'simfleet:gateway_http_errors:ratio_rate{w}')} / {AVAILABILITY_BUDGET}", w
                            )
                            for w in ("5m", "1h", "6h", "1d", "3d")
                        ),
                        unit="suffix:x",
                        width=12,
                    ),
                    ts(
                        "Latency budget burn rate",
                        "Share of requests slower than 300 ms over each window divided by the budget (1%).",
                        *(
                            Query(f"{recorded(f'simfleet:gateway_http_slow:ratio_rate{w}')} / {LATENCY_BUDGET}", w)
                            for w in ("5m", "1h", "6h", "1d", "3d")
                        ),
                        unit="suffix:x",
                        width=12,
                    ),
                ),
            ),
            Row(
                "Traffic",
                (
                    ts(
                        "Requests by route",
                        "API requests by method and route template.",
                        Query(rate("simfleet_http_requests_total", API, by="method, route"), "{{method}} {{route}}"),
                        unit="reqps",
                    ),
                    ts(
                        "Answers by status",
                        "API answers by HTTP status.",
                        Query(rate("simfleet_http_requests_total", API, by="status"), "{{status}}"),
                        unit="reqps",
                        stack=True,
                    ),
                    ts(
                        "5xx by route",
                        "Share of each route's requests answered with a 5xx.",
                        Query(
                            share("simfleet_http_requests_total", 'status=~"5.."', API, by="method, route"),
                            "{{method}} {{route}}",
                        ),
                        unit="percentunit",
                    ),
                    ts(
                        "Latency p99 by route",
                        "99th percentile of the time the gateway took to answer.",
                        Query(
                            quantile(0.99, "simfleet_http_request_duration_seconds", API, by="method, route"),
                            "{{method}} {{route}}",
                        ),
                        unit="s",
                    ),
                    ts(
                        "Latency p50 by route",
                        "Median time the gateway took to answer.",
                        Query(
                            quantile(0.5, "simfleet_http_request_duration_seconds", API, by="method, route"),
                            "{{method}} {{route}}",
                        ),
                        unit="s",
                    ),
                    ts(
                        "Rate limited",
                        "Requests refused with 429 before calling a service, by route.",
                        Query(rate("simfleet_gateway_rate_limited_total", by="route"), "{{route}}"),
                        unit="reqps",
                    ),
                ),
            ),
            Row(
                "Calls to identity",
                (
                    ts(
                        "Calls by method and code",
                        "gRPC calls the gateway made, by method and status code (readiness checks included).",
                        Query(
                            rate("simfleet_grpc_client_handled_total", by="grpc_method, grpc_code"),
                            "{{grpc_method}} {{grpc_code}}",
                        ),
                        unit="reqps",
                        width=12,
                    ),
                    ts(
                        "Call latency by method",
                        "Time a call took as the gateway saw it, 99th and 50th percentiles.",
                        Query(
                            quantile(0.99, "simfleet_grpc_client_handling_seconds", by="grpc_method"),
                            "{{grpc_method}} p99",
                        ),
                        Query(
                            quantile(0.5, "simfleet_grpc_client_handling_seconds", by="grpc_method"),
                            "{{grpc_method}} p50",
                        ),
                        unit="s",
                        width=12,
                    ),
                ),
            ),
            resources_row(database=False),
        ),
    )


def sign_in_and_messaging() -> Dashboard:
    def codes(result: str) -> Query:
        return Query(increase("simfleet_identity_otp_verifications_total", f'result="{result}"'))

    return Dashboard(
        uid="simfleet-sign-in-and-messaging",
        title="SIMfleet / Sign-in and messaging",
        description="The business figures of signing in: codes sent, accepted, wrong, locked, throttled; "
        "sign-ins by method and result; SMS and emails delivered.",
        rows=(
            Row(
                "Over the selected time range",
                (
                    stat(
                        "Codes sent",
                        "One-time codes sent by SMS or email.",
                        Query(increase("simfleet_identity_otp_sent_total")),
                        width=3,
                    ),
                    stat("Codes accepted", "Code checks that succeeded.", codes("succeeded"), width=3),
                    stat("Wrong codes", "Code checks with a wrong code.", codes("invalid"), width=3),
                    stat(
                        "Locked",
                        "Code checks refused because the challenge was locked after too many wrong codes.",
                        codes("locked"),
                        width=3,
                    ),
                    stat("Expired codes", "Code checks that came too late.", codes("expired"), width=3),
                    stat(
                        "Code requests throttled",
                        "Code requests refused by a send limit.",
                        Query(increase("simfleet_identity_otp_throttled_total")),
                        width=3,
                    ),
                    stat(
                        "SMS delivered",
                        "SMS put into a handset's inbox by the SMSC.",
                        Query(increase("simfleet_netsim_sms_delivered_total")),
                        width=3,
                    ),
                    stat(
                        "Emails sent",
                        "Emails the SMTP relay accepted.",
                        Query(increase("simfleet_identity_emails_total", 'result="sent"')),
                        width=3,
                    ),
                ),
            ),
            Row(
                "One-time codes",
                (
                    ts(
                        "Codes sent by channel",
                        "One-time codes sent, by channel and purpose.",
                        Query(
                            rate("simfleet_identity_otp_sent_total", by="channel, purpose"), "{{channel}} {{purpose}}"
                        ),
                        unit="ops",
                    ),
                    ts(
                        "Code checks by result",
                        "succeeded, invalid (wrong code), expired, locked.",
                        Query(rate("simfleet_identity_otp_verifications_total", by="result"), "{{result}}"),
                        unit="ops",
                        stack=True,
                    ),
                    ts(
                        "Wrong or locked code checks",
                        "Share of code checks that were wrong or locked (the OTP failure alert watches it).",
                        Query(
                            share("simfleet_identity_otp_verifications_total", 'result=~"invalid|locked"'),
                            "wrong or locked",
                        ),
                        unit="percentunit",
                    ),
                    ts(
                        "Code requests throttled",
                        "Refused by the per-number (phone) or per-client send limit.",
                        Query(rate("simfleet_identity_otp_throttled_total", by="scope"), "{{scope}}"),
                        unit="ops",
                    ),
                ),
            ),
            Row(
                "Sign-ins",
                (
                    ts(
                        "Sign-ins by method and result",
                        "Every sign-in attempt: password, code by SMS (otp_sms) or email (otp_email).",
                        Query(rate("simfleet_identity_sign_ins_total", by="method, result"), "{{method}} {{result}}"),
                        unit="ops",
                        width=12,
                    ),
                    ts(
                        "Sign-in success by method",
                        "Share of each method's attempts that succeeded.",
                        Query(
                            rate("simfleet_identity_sign_ins_total", 'result="succeeded"', by="method")
                            + " / "
                            + rate("simfleet_identity_sign_ins_total", by="method"),
                            "{{method}}",
                        ),
                        unit="percentunit",
                        width=12,
                    ),
                ),
            ),
            Row(
                "Messages",
                (
                    ts(
                        "SMS delivered",
                        "SMS the simulated SMSC delivered to handsets.",
                        Query(rate("simfleet_netsim_sms_delivered_total"), "delivered"),
                        unit="ops",
                        width=6,
                    ),
                    ts(
                        "Emails",
                        "Emails the mailer handed to the SMTP relay: sent, deferred (retried), rejected.",
                        Query(rate("simfleet_identity_emails_total", by="result"), "{{result}}"),
                        unit="ops",
                        width=6,
                    ),
                    ts(
                        "Mail received by the SMTP sink",
                        "Messages stored in simulated mailboxes, once per recipient.",
                        Query(rate("simfleet_netsim_mail_received_total"), "received"),
                        unit="ops",
                        width=6,
                    ),
                    ts(
                        "Messages waiting for delivery",
                        "Lag of the consumers that deliver SMS (netsim-smsc) and send emails (identity-mailer).",
                        Query(f"max by (consumer) (simfleet_nats_consumer_pending_messages{sel()})", "{{consumer}}"),
                        width=6,
                    ),
                ),
            ),
        ),
    )


DASHBOARDS = (
    platform_overview,
    identity,
    accounts,
    inventory,
    netsim,
    billing,
    ticketing,
    notifications,
    gateway,
    sign_in_and_messaging,
)


# ---------------------------------------------------------------- JSON
def _variables(dashboard: Dashboard) -> list[dict[str, Any]]:
    every = {"selected": True, "text": ["All"], "value": ["$__all"]}
    namespace_query = "label_values(simfleet_service_ready, namespace)"
    job_query = 'label_values(simfleet_service_ready{namespace=~"$namespace"}, job)'
    return [
        {
            "current": {},
            "hide": 0,
            "includeAll": False,
            "label": "Data source",
            "multi": False,
            "name": "datasource",
            "options": [],
            "query": "prometheus",
            "refresh": 1,
            "regex": "",
            "type": "datasource",
        },
        {
            # "All" matches any namespace, and series without one (a local Prometheus).
            "allValue": ".*",
            "current": every,
            "datasource": DATASOURCE,
            "definition": namespace_query,
            "hide": 0,
            "includeAll": True,
            "label": "Namespace",
            "multi": True,
            "name": "namespace",
            "options": [],
            "query": {"qryType": 1, "query": namespace_query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "refresh": 2,
            "regex": "",
            "sort": 1,
            "type": "query",
        },
        {
            # No allValue: "All" stands for the SIMfleet jobs found, never for every job of the namespace.
            "current": every,
            "datasource": DATASOURCE,
            "definition": job_query,
            "hide": 0,
            "includeAll": True,
            "label": "Job",
            "multi": True,
            "name": "job",
            "options": [],
            "query": {"qryType": 1, "query": job_query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
            "refresh": 2,
            "regex": dashboard.job_regex,
            "sort": 1,
            "type": "query",
        },
    ]


def _panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    targets = [
        {
            "datasource": DATASOURCE,
            "editorMode": "code",
            "expr": query.expr,
            "legendFormat": query.legend or "__auto",
            "range": True,
            "refId": chr(ord("A") + i),
        }
        for i, query in enumerate(panel.queries)
    ]
    defaults: dict[str, Any] = {"unit": panel.unit}
    options: dict[str, Any]
    if panel.kind == "stat":
        steps: list[dict[str, Any]] = [{"color": panel.base_colour, "value": None}]
        steps += [{"color": colour, "value": value} for value, colour in panel.thresholds]
        defaults.update(color={"mode": "thresholds"}, thresholds={"mode": "absolute", "steps": steps})
        options = {
            "colorMode": "value",
            "graphMode": "area",
            "justifyMode": "auto",
            "orientation": "auto",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "textMode": "auto",
        }
    else:
        defaults.update(
            color={"mode": "palette-classic"},
            custom={
                "drawStyle": "line",
                "fillOpacity": 10,
                "lineWidth": 1,
                "pointSize": 4,
                "showPoints": "never",
                "spanNulls": False,
                "stacking": {"group": "A", "mode": "normal" if panel.stack else "none"},
            },
            min=0,
        )
        options = {
            "legend": {"calcs": [], "displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
    return {
        "datasource": DATASOURCE,
        "description": panel.description,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "id": panel_id,
        "options": options,
        "targets": targets,
        "title": panel.title,
        "type": panel.kind,
    }


def render(dashboard: Dashboard) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    y = 0
    for row in dashboard.rows:
        panels.append(
            {
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "id": len(panels) + 1,
                "panels": [],
                "title": row.title,
                "type": "row",
            }
        )
        y += 1
        x, line_height = 0, 0
        for panel in row.panels:
            if x + panel.width > 24:
                x, y = 0, y + line_height
                line_height = 0
            panels.append(_panel_json(panel, len(panels) + 1, x, y))
            x += panel.width
            line_height = max(line_height, panel.height)
        y += line_height
    return {
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "description": dashboard.description,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "id": None,
        "links": [
            {
                "asDropdown": True,
                "icon": "external link",
                "includeVars": True,
                "keepTime": True,
                "tags": ["simfleet"],
                "title": "SIMfleet dashboards",
                "type": "dashboards",
            }
        ],
        "panels": panels,
        "refresh": "30s",
        "schemaVersion": SCHEMA_VERSION,
        "tags": ["simfleet", *dashboard.tags],
        "templating": {"list": _variables(dashboard)},
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "title": dashboard.title,
        "uid": dashboard.uid,
        "version": 1,
        "weekStart": "",
    }


def dump(dashboard: Dashboard) -> str:
    return json.dumps(render(dashboard), indent=2, ensure_ascii=False) + "\n"


def files() -> dict[str, str]:
    """Every dashboard's file name and content."""
    return {d.filename: dump(d) for d in (make() for make in DASHBOARDS)}


def main(argv: list[str]) -> int:
    wanted = files()
    if argv[1:] == ["--check"]:
        stale = sorted(
            name
            for name, text in wanted.items()
            if not (OUT_DIR / name).exists() or (OUT_DIR / name).read_text() != text
        )
        extra = sorted(p.name for p in OUT_DIR.glob("*.json") if p.name not in wanted)
        if stale or extra:
            print(
                f"dashboards out of date: {', '.join(stale + extra)}; run python tools/dashboards.py", file=sys.stderr
            )
            return 1
        return 0
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in wanted.items():
        (OUT_DIR / name).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
