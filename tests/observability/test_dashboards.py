"""The Grafana dashboards: generated and committed, well-formed, every query parses and stays within its variables.

Whether every query returns data from the real platform is
``test_prometheus.py``'s job; that they read only exported metrics is
``test_metrics_contract.py``'s.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.observability.support import ROOT, dashboard_queries, dashboards, panels, required_binary

EXPECTED = {
    "platform-overview.json",
    "identity.json",
    "accounts.json",
    "inventory.json",
    "netsim.json",
    "billing.json",
    "ticketing.json",
    "notifications.json",
    "gateway.json",
    "sign-in-and-messaging.json",
}
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}")


def test_the_committed_dashboards_are_what_the_generator_writes() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "dashboards.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert set(dashboards()) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_dashboard_is_well_formed(name: str) -> None:
    dashboard = dashboards()[name]
    assert dashboard["uid"] == "simfleet-" + name.removesuffix(".json")
    assert dashboard["title"].startswith("SIMfleet / ")
    assert dashboard["schemaVersion"] >= 39
    assert "simfleet" in dashboard["tags"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for key in ("namespace", "job"):
        assert variables[key]["type"] == "query"
        assert variables[key]["datasource"] == DATASOURCE
        assert variables[key]["includeAll"] is True
    # "All" jobs means SIMfleet's jobs, never every job of the namespace
    assert "allValue" not in variables["job"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert all(p["type"] in {"row", "timeseries", "stat"} for p in dashboard["panels"])
    occupied: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {(grid["x"] + dx, grid["y"] + dy) for dx in range(grid["w"]) for dy in range(grid["h"])}
        assert not cells & occupied, f"{panel['title']} overlaps another panel"
        occupied |= cells
    for panel in panels(dashboard):
        assert panel["datasource"] == DATASOURCE
        assert panel["title"] and panel["description"]
        assert panel["targets"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE
            assert target["expr"].strip()


def test_uids_and_titles_are_unique() -> None:
    assert len({d["uid"] for d in dashboards().values()}) == len(dashboards())
    assert len({d["title"] for d in dashboards().values()}) == len(dashboards())


def test_every_selector_is_limited_to_the_namespace_and_job_variables() -> None:
    loose = []
    for query in dashboard_queries():
        for metric, matchers in SELECTOR.findall(query.expr):
            if 'namespace=~"$namespace"' not in matchers or 'job=~"$job"' not in matchers:
                loose.append(f"{query.where}: {metric}{{{matchers}}}")
        if "rate(" in query.expr:
            assert "[$__rate_interval]" in query.expr or "[$__range]" in query.expr, query.where
    assert not loose, "\n".join(loose)


def test_the_dashboards_show_what_sres_asked_for() -> None:
    def used(name: str) -> str:
        return " ".join(t["expr"] for p in panels(dashboards()[name]) for t in p["targets"])

    overview = used("platform-overview.json")
    for metric in (
        "simfleet_grpc_server_handled_total",
        "simfleet_http_requests_total",
        "simfleet_grpc_server_handling_seconds_bucket",
        "simfleet_http_request_duration_seconds_bucket",
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "simfleet_db_pool_connections",
        "simfleet_outbox_backlog_messages",
        "simfleet_nats_consumer_pending_messages",
    ):
        assert metric in overview, metric
    sign_in = used("sign-in-and-messaging.json")
    for fragment in (
        "simfleet_identity_otp_sent_total",
        'result="succeeded"',
        'result="invalid"',
        'result="locked"',
        "simfleet_identity_otp_throttled_total",
        "simfleet_identity_sign_ins_total",
        "simfleet_netsim_sms_delivered_total",
        "simfleet_identity_emails_total",
    ):
        assert fragment in sign_in, fragment
    assert "simfleet:gateway_http_errors:ratio_rate1h" in used("gateway.json")
    assert "simfleet_identity_" in used("identity.json")
    accounts = used("accounts.json")
    assert "simfleet_accounts_customers_onboarded_total" in accounts
    assert "simfleet_accounts_node_changes_total" in accounts
    netsim = used("netsim.json")
    for metric in (
        "simfleet_netsim_sms_delivered_total",
        "simfleet_netsim_hlr_items_total",
        "simfleet_netsim_hlr_failures_total",
        "simfleet_netsim_hlr_outage",
        "simfleet_netsim_hlr_latency_seconds_bucket",
    ):
        assert metric in netsim, metric
    inventory = used("inventory.json")
    for metric in (
        "simfleet_inventory_operations_accepted_total",
        "simfleet_inventory_operations_finished_total",
        "simfleet_inventory_operations_active",
        "simfleet_inventory_operation_items_total",
        "simfleet_inventory_operation_items_in_flight",
        "simfleet_inventory_provisioning_seconds_bucket",
        "simfleet_inventory_network_failures_total",
        "simfleet_inventory_lines",
        "simfleet_inventory_puk_reads_total",
        # the standard rows every service dashboard has
        "simfleet_grpc_server_handled_total",
        "simfleet_service_ready",
        "simfleet_outbox_backlog_messages",
        "simfleet_nats_consumer_pending_messages",
        "simfleet_db_pool_connections",
        "process_cpu_seconds_total",
    ):
        assert metric in inventory, metric
    billing = used("billing.json")
    for fragment in (
        'simfleet_billing_entries_total{namespace=~"$namespace", job=~"$job", outcome="posted"}',
        'outcome="pending"',
        'outcome="refused"',
        'outcome="pending_posted"',
        'outcome="voided"',
        'outcome="expired"',
        "simfleet_billing_money_moved_minor_units_total",
        "simfleet_billing_settlement_changes_total",
        'grpc_code!="OK"',
        "simfleet_nats_consumer_pending_messages",
        "simfleet_db_pool_connections",
        "process_cpu_seconds_total",
    ):
        assert fragment in billing, fragment
    ticketing = used("ticketing.json")
    for fragment in (
        "simfleet_ticketing_tickets{",
        'simfleet_ticketing_overdue_tickets{namespace=~"$namespace", job=~"$job", target="resolution"}',
        "simfleet_ticketing_tickets_created_total",
        "simfleet_ticketing_transitions_total",
        "simfleet_ticketing_notes_total",
        "sum by (outcome) (rate(simfleet_ticketing_attachments_total{",
        "simfleet_ticketing_sweep_last_success_timestamp_seconds",
        "simfleet_outbox_backlog_messages",
        "simfleet_nats_consumer_pending_messages",
        "simfleet_db_pool_connections",
        "process_cpu_seconds_total",
    ):
        assert fragment in ticketing, fragment
    notifications = used("notifications.json")
    for fragment in (
        "simfleet_notifications_notices_total",  # notices sent by channel and by kind
        "simfleet_notifications_delivery_failures_total",
        "simfleet_notifications_events_total",
        "simfleet_notifications_summaries_total",
        "simfleet_notifications_pending_notices",
        "simfleet_notifications_sender_last_success_timestamp_seconds",
        "simfleet_nats_consumer_pending_messages",
        "simfleet_db_pool_connections",
    ):
        assert fragment in notifications, fragment


def test_every_query_parses(tmp_path: Path) -> None:
    """promtool parses every query (variables replaced as Grafana does) as the expression of a recording rule."""
    promtool = required_binary("promtool")
    rules: list[dict[str, Any]] = [
        {"record": f"simfleet_dashboard_query_{i}", "expr": query.resolved("simfleet")}
        for i, query in enumerate(dashboard_queries())
    ]
    path = tmp_path / "dashboard_queries.yaml"
    path.write_text(json.dumps({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
