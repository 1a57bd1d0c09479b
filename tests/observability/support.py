"""What the observability tests share: the dashboards' and rules' queries, metric names, a sign-in workload."""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import yaml

from simfleet.accounts.v1 import admin_pb2 as accounts_admin
from simfleet.accounts.v1 import admin_pb2_grpc as accounts_admin_grpc
from simfleet.accounts.v1 import hierarchy_pb2, hierarchy_pb2_grpc
from simfleet.billing.v1 import admin_pb2 as billing_admin
from simfleet.billing.v1 import admin_pb2_grpc as billing_admin_grpc
from simfleet.billing.v1 import ledger_pb2, ledger_pb2_grpc
from simfleet.netsim.v1 import smsc_pb2, smsc_pb2_grpc, usage_pb2, usage_pb2_grpc
from simfleet.ticketing.v1 import support_pb2, support_pb2_grpc, tickets_pb2, tickets_pb2_grpc
from simfleet_devstack.platform import Platform
from simfleet_devstack.seed import DEMO_LINES_PREFIX, DEMO_MANAGER
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.testing import wait_until
from tests.helpers import codes_in, mailbox, new_user, wait_for_sms_code

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS_DIR = ROOT / "deploy" / "grafana" / "dashboards"
RULES_FILE = ROOT / "deploy" / "prometheus" / "rules.yaml"
RULE_TESTS_DIR = ROOT / "deploy" / "prometheus" / "tests"
RUNBOOKS = ROOT / "docs" / "runbooks.md"
JOBS = ("identity", "netsim", "accounts", "inventory", "billing", "ticketing", "notifications", "gateway")
"""SIMfleet's scrape jobs (the ServiceMonitors name them after the service)."""
JOB_OF_PROCESS = {"billing-rater": "billing"}
"""Processes scraped under another's job: billing's rater is billing (its ServiceMonitor's job is the service's)."""


def required_binary(name: str) -> str:
    """The path of a tool from Debian's prometheus package; skip without it, but fail in CI."""
    found = shutil.which(name)
    if found:
        return found
    reason = f"{name} is not installed (apt-get install --no-install-recommends prometheus)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must install it")
    pytest.skip(reason)


# ------------------------------------------------------------------ dashboards and rules
@dataclass(frozen=True)
class Query:
    where: str
    """Where the query is used (dashboard file and panel, or rule group and rule)."""
    expr: str
    job: str = "|".join(JOBS)
    """What ``$job`` stands for: the jobs a dashboard's job variable offers (all of them: Grafana's "All")."""

    def resolved(self, namespace: str, rate_interval: str = "15s", time_range: str = "10m") -> str:
        """The query as Grafana sends it, with its variables replaced."""
        return (
            self.expr.replace("$namespace", namespace)
            .replace("$job", self.job)
            .replace("$__rate_interval", rate_interval)
            .replace("$__range", time_range)
        )


@cache
def dashboards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS_DIR.glob("*.json"))}


def job_values(dashboard: dict[str, Any]) -> str:
    """The jobs a dashboard's job variable offers, as a regex alternation (its regex filter applied)."""
    variable = next(v for v in dashboard["templating"]["list"] if v["name"] == "job")
    pattern = str(variable.get("regex") or "").strip("/")
    return "|".join(job for job in JOBS if re.search(pattern, job)) if pattern else "|".join(JOBS)


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def dashboard_queries() -> list[Query]:
    found = []
    for name, dashboard in dashboards().items():
        jobs = job_values(dashboard)
        for panel in panels(dashboard):
            for target in panel["targets"]:
                found.append(Query(f"{name}: {panel['title']} ({target['refId']})", target["expr"], jobs))
    return found


@cache
def rule_groups() -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = yaml.safe_load(RULES_FILE.read_text())["groups"]
    return groups


def rules() -> list[dict[str, Any]]:
    return [rule for group in rule_groups() for rule in group["rules"]]


def alerts() -> list[dict[str, Any]]:
    return [rule for rule in rules() if "alert" in rule]


def recording_rules() -> list[dict[str, Any]]:
    return [rule for rule in rules() if "record" in rule]


def rule_queries() -> list[Query]:
    return [
        Query(f"rules.yaml: {group['name']}: {rule.get('alert') or rule.get('record')}", str(rule["expr"]))
        for group in rule_groups()
        for rule in group["rules"]
    ]


_METRIC = re.compile(r"\b(?:simfleet[_:][a-z0-9_:]*[a-z0-9]|process_[a-z_]*[a-z])\b|\bup(?=\{)")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression reads (SIMfleet's, the process collector's, ``up``)."""
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    return set(_METRIC.findall(without_strings))


# ------------------------------------------------------------------ workload
@dataclass(frozen=True)
class Workload:
    """What one run of :func:`sign_in_workload` did."""

    sms_sign_ins: int = 1
    email_sign_ins: int = 1
    wrong_codes: int = 1
    logouts: int = 1


def _request_code(api: httpx.Client, phone: str, channel: str) -> str:
    response = api.post("/v1/auth/otp", json={"phone": phone, "channel": channel})
    assert response.status_code == 202, response.text
    return str(response.json()["challenge_id"])


def _verify(api: httpx.Client, challenge: str, code: str) -> httpx.Response:
    return api.post("/v1/auth/otp/verify", json={"challenge_id": challenge, "code": code})


def _rated(platform: Platform) -> float:
    """billing's count of usage records taken (rated or rejected), by its rater."""
    text = httpx.get(platform.metrics_urls()["billing-rater"], timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("simfleet_billing_usage_records_total{") and 'outcome="duplicate"' not in line
    )


def sign_in_workload(platform: Platform) -> Workload:
    """Sign in by SMS (one wrong code first) and by email through the gateway, sign out, read a handset over gRPC.

    Touches every business figure of sign-in, the gateway's 2xx and 4xx, identity's
    gRPC OK and UNAUTHENTICATED, netsim's gRPC OK and INVALID_ARGUMENT, the
    outboxes, both durable consumers and the SMTP path; accounts answers a
    back-office list (OK) and a call without a token (UNAUTHENTICATED); billing a back-office read of an
    account that does not exist (NOT_FOUND) and a balance asked without a token (UNAUTHENTICATED); ticketing
    a ticket filed by the demo manager, support's queue and a ticket asked for without a token; notifications the
    manager's choice of notices of finished operations and a choice it refuses.
    """
    headers = {"User-Agent": "simfleet-observability"}
    with httpx.Client(base_url=platform.gateway_url, timeout=10, headers=headers) as api:
        by_sms = new_user(platform)
        challenge = _request_code(api, by_sms.phone, "sms")
        code = wait_for_sms_code(platform, by_sms.phone)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        assert _verify(api, challenge, wrong).status_code == 401
        signed_in = _verify(api, challenge, code)
        assert signed_in.status_code == 200, signed_in.text
        tokens = signed_in.json()

        by_email = new_user(platform)
        challenge = _request_code(api, by_email.phone, "email")
        mail = wait_until(lambda: mailbox(platform, by_email.email), what="the code email")
        response = _verify(api, challenge, codes_in(mail, "body")[0])
        assert response.status_code == 200, response.text

        logout = api.post("/v1/auth/logout", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert logout.status_code == 204, logout.text

        # The demo manager reads a PUK, sends an SMS to a line and blocks it: inventory's operations, items,
        # the SMSC's receipts and the network's HLR.
        signed = api.post("/v1/auth/password", json={"phone": DEMO_MANAGER.phone, "password": DEMO_MANAGER.password})
        assert signed.status_code == 200, signed.text
        manager = {"Authorization": f"Bearer {signed.json()['access_token']}"}
        # The manager hears of finished operations by SMS (notifications' API, its consumers and its sender).
        chosen = api.put(
            "/v1/me/notification-preferences", json={"kinds": {"operation_finished": ["sms"]}}, headers=manager
        )
        assert chosen.status_code == 200, chosen.text
        # A channel named twice: notifications refuses it (INVALID_ARGUMENT), the gateway answers 422.
        refused = api.put(
            "/v1/me/notification-preferences", json={"kinds": {"ticket_reply": ["sms", "sms"]}}, headers=manager
        )
        assert refused.status_code == 422, refused.text
        lines = api.get("/v1/lines", params={"state": "active", "limit": 1}, headers=manager)
        assert lines.status_code == 200, lines.text
        msisdn = lines.json()["items"][0]["msisdn"]
        nodes = api.get("/v1/nodes", params={"limit": 1000}, headers=manager).json()["items"]
        company_id = next(n["id"] for n in nodes if n["name"] == "Demo Logistics LLC")
        assert api.get(f"/v1/lines/{msisdn}/puk", headers=manager).status_code == 200
        assert api.get("/v1/lines/+79990000000", headers=manager).status_code == 404  # inventory's NOT_FOUND
        # An SMS to the line first: its delivery receipt comes back to inventory's own consumer.
        sms = api.post(
            "/v1/operations",
            json={"type": "send_sms", "lines": [msisdn], "params": {"text": "Fleet check"}},
            headers=manager,
        )
        assert sms.status_code == 202, sms.text
        wait_until(
            lambda: api.get(f"/v1/operations/{sms.json()['id']}", headers=manager).json()["state"] == "completed",
            what="the SMS operation",
        )
        accepted = api.post(
            "/v1/operations",
            json={"type": "block", "lines": [msisdn], "params": {"block_type": "voluntary"}},
            headers=manager,
        )
        assert accepted.status_code == 202, accepted.text
        wait_until(
            lambda: api.get(f"/v1/operations/{accepted.json()['id']}", headers=manager).json()["state"] == "completed",
            what="the block operation",
        )

    with grpc.insecure_channel(platform.netsim_target) as channel:
        # The network's usage for the demo lines, rated by billing (its rating consumer and figures).
        made = usage_pb2_grpc.UsageServiceStub(channel).GenerateUsage(
            usage_pb2.GenerateUsageRequest(count=50, msisdn_prefixes=[DEMO_LINES_PREFIX]), timeout=30
        )
        assert made.generated == 50
        wait_until(lambda: _rated(platform) >= 50, what="billing rating the usage")
        handsets = smsc_pb2_grpc.HandsetServiceStub(channel)
        assert handsets.ListSms(smsc_pb2.ListSmsRequest(msisdn=by_sms.phone), timeout=5).messages
        with pytest.raises(grpc.RpcError) as refused:
            handsets.ListSms(smsc_pb2.ListSmsRequest(msisdn="not a number"), timeout=5)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    with grpc.insecure_channel(platform.accounts_target) as channel:
        admin = accounts_admin_grpc.AccountsAdminServiceStub(channel)
        operator = ((OPERATOR_KEY, platform.config.operator_key),)
        assert admin.ListCustomers(accounts_admin.ListCustomersRequest(), metadata=operator, timeout=5).customers
        tree = hierarchy_pb2_grpc.HierarchyServiceStub(channel)
        with pytest.raises(grpc.RpcError) as unauthenticated:
            tree.ListNodes(hierarchy_pb2.ListNodesRequest(), timeout=5)
        assert unauthenticated.value.code() == grpc.StatusCode.UNAUTHENTICATED

    with grpc.insecure_channel(platform.billing_target) as channel:
        billing = billing_admin_grpc.BillingAdminServiceStub(channel)
        with pytest.raises(grpc.RpcError) as missing:
            billing.GetAccount(
                billing_admin.GetAccountRequest(account_id="no-such-account"), metadata=operator, timeout=5
            )
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        ledger = ledger_pb2_grpc.LedgerServiceStub(channel)
        with pytest.raises(grpc.RpcError) as unauthenticated:
            ledger.GetBalance(ledger_pb2.GetBalanceRequest(personal_account_id="no-such-account"), timeout=5)
        assert unauthenticated.value.code() == grpc.StatusCode.UNAUTHENTICATED

    with grpc.insecure_channel(platform.ticketing_target) as channel:
        # The demo manager files a ticket (its event and its command for the action history go out), support
        # reads the queue, and a ticket is asked for without a token.
        tickets = tickets_pb2_grpc.TicketServiceStub(channel)
        filed = tickets_pb2.CreateTicketRequest(
            node_id=company_id, type="question", topic="Fleet check", description="Is the fleet all right?"
        )
        bearer = (("authorization", manager["Authorization"]),)

        def file_ticket() -> bool:
            try:  # once ticketing's consumer of accounts' node events knows the demo tree
                tickets.CreateTicket(filed, metadata=bearer, timeout=5)
            except grpc.RpcError as refused:
                if refused.code() == grpc.StatusCode.NOT_FOUND:
                    return False
                raise
            return True

        wait_until(file_ticket, what="a ticket filed")
        queue = support_pb2_grpc.SupportServiceStub(channel).ListQueue(
            support_pb2.ListQueueRequest(), metadata=operator, timeout=5
        )
        assert queue.tickets
        with pytest.raises(grpc.RpcError) as unauthenticated:
            tickets.GetTicket(tickets_pb2.GetTicketRequest(ticket_id="no-such-ticket"), timeout=5)
        assert unauthenticated.value.code() == grpc.StatusCode.UNAUTHENTICATED
    return Workload()
