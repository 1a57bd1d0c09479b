"""Every process's /metrics after a real sign-in: the families SREs rely on, their types and labels, the naming rules.

The platform runs as processes (``simfleet_devstack.Platform``, free ports);
the workload signs in through the gateway by SMS and by email, with a wrong
code, signs out and reads a handset over gRPC. Then each metrics endpoint is
scraped and checked against the contract below, and every metric the dashboards
and alert rules read must be one of those exported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from simfleet_devstack.platform import Platform
from tests.observability.support import dashboard_queries, metric_names, recording_rules, rule_queries, sign_in_workload

pytestmark = pytest.mark.e2e

C, G, H = "counter", "gauge", "histogram"
Contract = dict[str, tuple[str, frozenset[str]]]


def contract(**families: tuple[str, set[str]]) -> Contract:
    return {name: (kind, frozenset(labels)) for name, (kind, labels) in families.items()}


PROCESS = contract(
    process_cpu_seconds_total=(C, set()),
    process_resident_memory_bytes=(G, set()),
    process_open_fds=(G, set()),
    process_max_fds=(G, set()),
)
SERVICE = PROCESS | contract(
    simfleet_service_ready=(G, set()),
    simfleet_grpc_server_handled_total=(C, {"grpc_service", "grpc_method", "grpc_code"}),
    simfleet_grpc_server_handling_seconds=(H, {"grpc_service", "grpc_method"}),
    simfleet_nats_published_total=(C, {"subject"}),
    simfleet_nats_publish_failed_total=(C, {"subject"}),
    simfleet_nats_consumed_total=(C, {"consumer", "result"}),
    simfleet_nats_redelivered_total=(C, {"consumer"}),
    simfleet_nats_dead_lettered_total=(C, {"consumer"}),
    simfleet_nats_consumer_pending_messages=(G, {"consumer"}),
    simfleet_outbox_backlog_messages=(G, set()),
    simfleet_outbox_oldest_unpublished_seconds=(G, set()),
    simfleet_db_pool_connections=(G, {"state"}),
    simfleet_db_pool_size=(G, set()),
    simfleet_db_pool_checkout_seconds=(H, set()),
)
EXPECTED: dict[str, Contract] = {
    "identity": SERVICE
    | contract(
        simfleet_identity_otp_sent_total=(C, {"channel", "purpose"}),
        simfleet_identity_otp_verifications_total=(C, {"result"}),
        simfleet_identity_otp_throttled_total=(C, {"scope"}),
        simfleet_identity_sign_ins_total=(C, {"method", "result"}),
        simfleet_identity_sessions_revoked_total=(C, {"reason"}),
        simfleet_identity_emails_total=(C, {"result"}),
    ),
    "netsim": SERVICE
    | contract(
        simfleet_netsim_sms_delivered_total=(C, set()),
        simfleet_netsim_mail_received_total=(C, set()),
        simfleet_netsim_hlr_items_total=(C, {"action", "result"}),
        simfleet_netsim_hlr_failures_total=(C, {"failure"}),
        simfleet_netsim_hlr_outage=(G, set()),
        simfleet_netsim_hlr_latency_seconds=(H, set()),
        simfleet_netsim_usage_records_total=(C, {"kind"}),
        simfleet_netsim_usage_batches_total=(C, set()),
        simfleet_netsim_usage_publish_failures_total=(C, set()),
        simfleet_netsim_usage_generating=(G, set()),
        simfleet_netsim_usage_settings_version=(G, set()),
        simfleet_netsim_payments_total=(C, {"operation", "outcome"}),
    ),
    "inventory": SERVICE
    | contract(
        simfleet_inventory_operations_accepted_total=(C, {"type"}),
        simfleet_inventory_operations_finished_total=(C, {"type", "state"}),
        simfleet_inventory_operations_active=(G, {"state"}),
        simfleet_inventory_operation_items_total=(C, {"outcome"}),
        simfleet_inventory_operation_items_in_flight=(G, set()),
        simfleet_inventory_provisioning_seconds=(H, set()),
        simfleet_inventory_network_failures_total=(C, {"failure"}),
        simfleet_inventory_lines=(G, {"state"}),
        simfleet_inventory_puk_reads_total=(C, set()),
    ),
    "accounts": SERVICE
    | contract(
        simfleet_accounts_customers_onboarded_total=(C, set()),
        simfleet_accounts_node_changes_total=(C, {"action"}),
    ),
    # billing publishes only its financial holds, which the workload never places: no published subject yet.
    # Its API process (BILLING_ROLE=api) does all but rating the network's usage, which its rater does.
    "billing": {name: family for name, family in SERVICE.items() if name != "simfleet_nats_published_total"}
    | contract(
        simfleet_billing_entries_total=(C, {"outcome"}),
        simfleet_billing_money_moved_minor_units_total=(C, {"currency"}),
        simfleet_billing_settlement_changes_total=(C, {"method"}),
        simfleet_billing_lines_projected_total=(C, set()),
        simfleet_billing_payments_total=(C, {"kind", "outcome"}),
        simfleet_billing_fee_line_days_total=(C, set()),
        simfleet_billing_financial_holds_total=(C, {"change"}),
        simfleet_billing_spending_limits_total=(C, {"event"}),
        simfleet_billing_packages_bought_total=(C, {"scope"}),
        simfleet_billing_package_receipts_total=(C, {"outcome"}),
        simfleet_billing_limit_emails_total=(C, {"outcome"}),
    ),
    # The rater serves no API (its gRPC port answers health checks only, which are not counted).
    "billing-rater": {
        name: family
        for name, family in SERVICE.items()
        if name != "simfleet_nats_published_total" and not name.startswith("simfleet_grpc_server_")
    }
    | contract(
        simfleet_billing_entries_total=(C, {"outcome"}),
        simfleet_billing_money_moved_minor_units_total=(C, {"currency"}),
        simfleet_billing_usage_records_total=(C, {"outcome", "kind"}),
        simfleet_billing_usage_charged_minor_units_total=(C, {"currency"}),
        simfleet_billing_rating_lag_seconds=(H, set()),
        simfleet_billing_rating_batch_seconds=(H, set()),
    ),
    "ticketing": SERVICE
    | contract(
        simfleet_ticketing_tickets_created_total=(C, {"type"}),
        simfleet_ticketing_transitions_total=(C, {"to_state", "actor"}),
        simfleet_ticketing_notes_total=(C, {"author"}),
        simfleet_ticketing_attachments_total=(C, {"uploader", "outcome"}),
        simfleet_ticketing_tickets=(G, {"state"}),
        simfleet_ticketing_overdue_tickets=(G, {"target"}),
        simfleet_ticketing_sweeps_total=(C, {"outcome"}),
        simfleet_ticketing_sweep_last_success_timestamp_seconds=(G, set()),
    ),
    "notifications": SERVICE
    | contract(
        simfleet_notifications_events_total=(C, {"kind", "outcome"}),
        simfleet_notifications_notices_total=(C, {"channel", "kind"}),
        simfleet_notifications_summaries_total=(C, {"kind"}),
        simfleet_notifications_delivery_failures_total=(C, {"channel", "outcome"}),
        simfleet_notifications_pending_notices=(G, {"channel"}),
        simfleet_notifications_sender_last_success_timestamp_seconds=(G, set()),
    ),
    "gateway": PROCESS
    | contract(
        simfleet_service_ready=(G, set()),
        simfleet_http_requests_total=(C, {"method", "route", "status"}),
        simfleet_http_request_duration_seconds=(H, {"method", "route"}),
        simfleet_http_requests_in_flight=(G, set()),
        simfleet_gateway_rate_limited_total=(C, {"route"}),
        simfleet_grpc_client_handled_total=(C, {"grpc_service", "grpc_method", "grpc_code"}),
        simfleet_grpc_client_handling_seconds=(H, {"grpc_service", "grpc_method"}),
    ),
}
MAY_HAVE_NO_SAMPLES = {
    "simfleet_nats_publish_failed_total": "JetStream acknowledges every publish in a healthy run",
    "simfleet_gateway_rate_limited_total": "the tests lift the gateway's rate limits (tests.helpers.E2E_ENV)",
    "simfleet_billing_money_moved_minor_units_total": "the workload posts no entry (its currency label comes with one)",
}
IDLE_CONSUMERS = {
    "inventory-financial-blocks": "no personal account runs out in the workload (the demo's have deposits)",
    "notifications-funds": "no personal account runs out in the workload",
    "notifications-limits": "no spending limit is reached in the workload",
    "notifications-payments": "the workload credits no payment (the seed's deposits are told as it starts)",
}
FOREIGN_PREFIXES = ("process_", "python_")
"""prometheus_client's own collectors (the process's CPU, memory, descriptors; the interpreter)."""
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Family:
    name: str
    """As exposed: the name of its ``# TYPE`` line (counters with ``_total``)."""
    type: str
    help: str
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def label_sets(self) -> set[frozenset[str]]:
        return {frozenset(k for k in labels if k != "le") for _name, labels, _value in self.samples}

    def value(self, sample: str = "", **labels: str) -> float | None:
        for name, sample_labels, value in self.samples:
            if name == (sample or self.name) and all(sample_labels.get(k) == v for k, v in labels.items()):
                return value
        return None

    def values_of(self, label: str) -> set[str]:
        return {labels[label] for _name, labels, _value in self.samples if label in labels}


def parse(text: str) -> dict[str, Family]:
    families: dict[str, Family] = {}
    helps: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, doc = line[len("# HELP ") :].partition(" ")
            helps[name] = doc
        elif line.startswith("# TYPE "):
            name, _, kind = line[len("# TYPE ") :].partition(" ")
            families[name] = Family(name, kind, helps.get(name, ""))
    for parsed in text_string_to_metric_families(text):
        exposed = parsed.name + "_total" if parsed.type == "counter" else parsed.name
        family = families[exposed]
        family.samples += [(s.name, dict(s.labels), float(s.value)) for s in parsed.samples]
    return families


@pytest.fixture(scope="module")
def scraped(metrics_platform: Platform) -> dict[str, dict[str, Family]]:
    sign_in_workload(metrics_platform)
    pages = {}
    for process, url in metrics_platform.metrics_urls().items():
        response = httpx.get(url, timeout=10)
        assert response.status_code == 200, f"{process}: {response.status_code}"
        assert response.headers["content-type"].startswith("text/plain")
        pages[process] = parse(response.text)
    return pages


@pytest.mark.parametrize("process", sorted(EXPECTED))
def test_each_process_exports_the_families_it_owes(scraped: dict[str, dict[str, Family]], process: str) -> None:
    families = scraped[process]
    problems = []
    for name, (kind, labels) in EXPECTED[process].items():
        family = families.get(name)
        if family is None:
            problems.append(f"{name}: missing")
            continue
        if family.type != kind:
            problems.append(f"{name}: a {family.type}, expected a {kind}")
        if not family.samples:
            if name not in MAY_HAVE_NO_SAMPLES:
                problems.append(f"{name}: no samples after the workload")
            continue
        if family.label_sets() != {labels}:
            problems.append(f"{name}: labels {sorted(map(sorted, family.label_sets()))}, expected {sorted(labels)}")
    assert not problems, f"{process}:\n" + "\n".join(problems)


@pytest.mark.parametrize("process", sorted(EXPECTED))
def test_names_and_labels_follow_the_conventions(scraped: dict[str, dict[str, Family]], process: str) -> None:
    problems = []
    for name, family in scraped[process].items():
        if not SNAKE.match(name):
            problems.append(f"{name}: not snake_case")
        if not name.startswith("simfleet_") and not name.startswith(FOREIGN_PREFIXES):
            problems.append(f"{name}: not prefixed simfleet_")
        if family.type not in (C, G, H):
            problems.append(f"{name}: type {family.type} (counters, gauges and histograms only)")
        if (family.type == C) != name.endswith("_total"):
            problems.append(f"{name}: counters, and only counters, end in _total")
        if name.endswith("_created"):
            problems.append(f"{name}: _created series are switched off")
        if family.type == H and not name.endswith(("_seconds", "_bytes")):
            problems.append(f"{name}: a histogram names its unit (_seconds, _bytes)")
        if re.search(r"(^|_)(ms|millis|milliseconds|minutes|kb|mb)(_|$)", name):
            problems.append(f"{name}: base units only (seconds, bytes)")
        if "seconds" in name and not name.removesuffix("_total").endswith("_seconds"):
            problems.append(f"{name}: the unit ends the name")
        if name.startswith("simfleet_") and not family.help.strip():
            problems.append(f"{name}: no HELP text")
        for _sample, labels, _value in family.samples:
            for label in labels:
                if not SNAKE.match(label):
                    problems.append(f"{name}: label {label!r} is not snake_case")
    assert not problems, f"{process}:\n" + "\n".join(sorted(set(problems)))


def test_the_sign_in_figures_count_what_happened(scraped: dict[str, dict[str, Family]]) -> None:
    identity, netsim, gateway = scraped["identity"], scraped["netsim"], scraped["gateway"]
    verifications = identity["simfleet_identity_otp_verifications_total"]
    assert verifications.values_of("result") == {"succeeded", "invalid", "expired", "locked"}
    assert (verifications.value(result="succeeded") or 0) >= 2
    assert (verifications.value(result="invalid") or 0) >= 1
    sent = identity["simfleet_identity_otp_sent_total"]
    assert (sent.value(channel="sms", purpose="sign_in") or 0) >= 1
    assert (sent.value(channel="email", purpose="sign_in") or 0) >= 1
    sign_ins = identity["simfleet_identity_sign_ins_total"]
    assert (sign_ins.value(method="otp_sms", result="succeeded") or 0) >= 1
    assert (sign_ins.value(method="otp_email", result="succeeded") or 0) >= 1
    assert (identity["simfleet_identity_emails_total"].value(result="sent") or 0) >= 1
    assert identity["simfleet_identity_emails_total"].values_of("result") == {"sent", "deferred", "rejected"}
    assert (identity["simfleet_identity_sessions_revoked_total"].value(reason="sign_out") or 0) >= 1
    assert identity["simfleet_identity_otp_throttled_total"].values_of("scope") == {"phone_client", "phone", "client"}
    assert (netsim["simfleet_netsim_sms_delivered_total"].value() or 0) >= 1
    assert (netsim["simfleet_netsim_mail_received_total"].value() or 0) >= 1
    requests = gateway["simfleet_http_requests_total"]
    assert (requests.value(method="POST", route="/v1/auth/otp/verify", status="200") or 0) >= 2
    assert (requests.value(method="POST", route="/v1/auth/otp/verify", status="401") or 0) >= 1
    calls = gateway["simfleet_grpc_client_handled_total"]
    assert (calls.value(grpc_method="VerifyOtp", grpc_code="UNAUTHENTICATED") or 0) >= 1
    assert "UNAUTHENTICATED" in identity["simfleet_grpc_server_handled_total"].values_of("grpc_code")
    assert "INVALID_ARGUMENT" in netsim["simfleet_grpc_server_handled_total"].values_of("grpc_code")


def test_consumers_and_readiness(scraped: dict[str, dict[str, Family]]) -> None:
    for process, families in scraped.items():
        assert families["simfleet_service_ready"].value() == 1.0, f"{process} is not ready"
    consumers = {
        "identity": ("identity-mailer", "identity-node-paths"),
        "netsim": ("netsim-smsc", "netsim-hlr"),
        "accounts": (
            "accounts-audit-accounts",
            "accounts-audit-identity",
            "accounts-audit-inventory",
            "accounts-audit-ticketing",
            "accounts-line-figures",
            "accounts-sign-ins",
        ),
        "inventory": (
            "inventory-financial-blocks",
            "inventory-node-paths",
            "inventory-provisioning",
            "inventory-own-sms-receipts",
        ),
        "billing": ("billing-lines", "billing-node-paths"),
        "billing-rater": ("billing-rating",),
        "ticketing": ("ticketing-node-paths",),
        "notifications": (
            "notifications-funds",
            "notifications-limits",
            "notifications-node-paths",
            "notifications-operations",
            "notifications-payments",
            "notifications-sign-ins",
            "notifications-tickets",
            "notifications-users",
        ),
    }
    for process, names in consumers.items():
        consumed = scraped[process]["simfleet_nats_consumed_total"]
        assert consumed.values_of("consumer") == set(names)
        assert consumed.values_of("result") == {"applied", "duplicate", "retried", "dead_lettered"}
    for process, names in consumers.items():
        for consumer in names:
            consumed = scraped[process]["simfleet_nats_consumed_total"]
            if consumer not in IDLE_CONSUMERS:
                assert (consumed.value(consumer=consumer, result="applied") or 0) >= 1
            assert scraped[process]["simfleet_nats_dead_lettered_total"].value(consumer=consumer) == 0.0
            assert scraped[process]["simfleet_nats_consumer_pending_messages"].value(consumer=consumer) is not None


def test_the_database_pool_is_visible(scraped: dict[str, dict[str, Family]]) -> None:
    for process in ("identity", "netsim"):
        connections = scraped[process]["simfleet_db_pool_connections"]
        assert connections.values_of("state") == {"checked_out", "idle", "overflow"}
        assert all(value >= 0 for _name, _labels, value in connections.samples)
        assert (scraped[process]["simfleet_db_pool_size"].value() or 0) >= 1
        checkouts = scraped[process]["simfleet_db_pool_checkout_seconds"]
        assert (checkouts.value("simfleet_db_pool_checkout_seconds_count") or 0) > 0
    assert not [name for name in scraped["gateway"] if name.startswith("simfleet_db_")], "the gateway has no database"


def test_the_gateway_latency_histogram_has_the_objective_bucket(scraped: dict[str, dict[str, Family]]) -> None:
    histogram = scraped["gateway"]["simfleet_http_request_duration_seconds"]
    assert histogram.value("simfleet_http_request_duration_seconds_bucket", route="/v1/auth/otp", le="0.3") is not None


def test_dashboards_and_rules_read_only_exported_metrics(scraped: dict[str, dict[str, Family]]) -> None:
    exported = {"up"} | {rule["record"] for rule in recording_rules()}
    for families in scraped.values():
        for name, family in families.items():
            exported.add(name)
            if family.type == H:
                exported |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    unknown = sorted(
        f"{query.where}: {name}"
        for query in dashboard_queries() + rule_queries()
        for name in metric_names(query.expr)
        if name not in exported
    )
    assert not unknown, "\n".join(unknown)
