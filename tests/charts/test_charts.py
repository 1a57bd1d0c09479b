"""Every chart renders, lints strictly, validates against Kubernetes 1.33 and meets SIMfleet's rules.

Under the charts' default values and under each file of deploy/environments/
(the umbrella takes the whole file, a service chart its own section).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.charts.conftest import ENVIRONMENTS, Renders, find
from tools import charts as chart_tools

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - what the pods' listeners must bind
CASES = [(chart, env) for chart in chart_tools.CHART_NAMES for env in ENVIRONMENTS]
IDS = [f"{chart}-{env or 'default'}" for chart, env in CASES]


def test_the_environments_are_dev_and_prod() -> None:
    assert {"dev", "prod"} <= set(chart_tools.environment_names())


def test_the_library_chart_lints_clean(charts_dir: Path) -> None:
    assert chart_tools.lint(charts_dir, chart_tools.LIBRARY) == []


@pytest.mark.parametrize(("chart", "environment"), CASES, ids=IDS)
def test_lint_is_clean(charts_dir: Path, chart: str, environment: str | None) -> None:
    assert chart_tools.lint(charts_dir, chart, chart_tools.values_for(chart, environment)) == []


def test_lint_reports_what_is_wrong(charts_dir: Path) -> None:
    problems = chart_tools.lint(charts_dir, "netsim", {"replicaCount": 0})
    assert problems
    assert any("replicaCount" in problem for problem in problems), problems


@pytest.mark.parametrize(("chart", "environment"), CASES, ids=IDS)
def test_every_object_validates_strictly(renders: Renders, chart: str, environment: str | None) -> None:
    manifests = renders.get(chart, environment)
    assert manifests
    assert chart_tools.validate(manifests) == []


@pytest.mark.parametrize(("chart", "environment"), CASES, ids=IDS)
def test_workloads_meet_the_rules(renders: Renders, chart: str, environment: str | None) -> None:
    manifests = renders.get(chart, environment)
    assert find(manifests, "Deployment")
    assert chart_tools.check_policies(manifests) == []


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=[e or "default" for e in ENVIRONMENTS])
def test_the_umbrella_holds_all_eight_services_and_the_console(renders: Renders, environment: str | None) -> None:
    manifests = renders.get(chart_tools.UMBRELLA, environment)
    services = ["accounts", "billing", "gateway", "identity", "inventory", "netsim", "notifications", "ticketing"]
    services.append("console")
    # billing rates the network's usage in a Deployment of its own, whose Service carries only its metrics
    assert sorted(m.name for m in find(manifests, "Deployment")) == sorted([*services, "billing-rater"])
    assert sorted(m.name for m in find(manifests, "Service")) == sorted([*services, "billing-rater"])
    assert sorted(m.name for m in find(manifests, "Job")) == [
        "accounts-migrate",
        "billing-migrate",
        "identity-migrate",
        "inventory-migrate",
        "netsim-migrate",
        "notifications-migrate",
        "ticketing-migrate",
    ]


def test_the_cli_checks_everything_and_passes() -> None:
    assert chart_tools.main([]) == 0


def test_the_cli_fails_on_an_unknown_environment() -> None:
    with pytest.raises(SystemExit) as raised:
        chart_tools.main(["--environment", "staging-nowhere"])
    assert raised.value.code == 2


def test_dev_runs_one_pod_per_service_without_autoscaling(renders: Renders) -> None:
    manifests = renders.get(chart_tools.UMBRELLA, "dev")
    assert not find(manifests, "HorizontalPodAutoscaler")
    assert {m.name: m.obj["spec"]["replicas"] for m in find(manifests, "Deployment")} == {
        "identity": 1,
        "accounts": 1,
        "inventory": 1,
        "netsim": 1,
        "billing": 1,
        "billing-rater": 1,
        "ticketing": 1,
        "notifications": 1,
        "gateway": 1,
        "console": 1,
    }
    assert not find(manifests, "ServiceMonitor")
    assert not find(manifests, "PrometheusRule")


def test_prod_scales_monitors_and_traces(renders: Renders) -> None:
    manifests = renders.get(chart_tools.UMBRELLA, "prod")
    hpas = {m.name: m.obj["spec"] for m in find(manifests, "HorizontalPodAutoscaler")}
    assert set(hpas) == {
        "identity",
        "accounts",
        "inventory",
        "netsim",
        "billing",
        "ticketing",
        "notifications",
        "gateway",
        "console",
    }
    assert all(spec["minReplicas"] >= 2 for spec in hpas.values())
    for deployment in find(manifests, "Deployment"):
        if deployment.name in hpas:
            assert "replicas" not in deployment.obj["spec"]  # the HPA owns it
    # billing's rater has no HPA (its load is the usage backlog, not CPU): a count of its own
    assert find(manifests, "Deployment", "billing-rater")[0].obj["spec"]["replicas"] == 2
    assert sorted(m.name for m in find(manifests, "Deployment")) == sorted([*hpas, "billing-rater"])
    assert sorted(m.name for m in find(manifests, "PodDisruptionBudget")) == sorted([*hpas, "billing-rater"])
    assert sorted(m.name for m in find(manifests, "ServiceMonitor")) == [
        "accounts",
        "billing",
        "billing-rater",
        "gateway",
        "identity",
        "inventory",
        "netsim",
        "notifications",
        "ticketing",
    ]
    assert len(find(manifests, "PrometheusRule")) == 1
    config = find(manifests, "ConfigMap", "identity-config")[0].obj["data"]
    assert config["IDENTITY_NATS_URL"] == "nats://nats.nats.svc.cluster.local:4222"
    assert config["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http://otel-collector.")
    default = renders.get(chart_tools.UMBRELLA)
    default_identity = find(default, "Deployment", "identity")[0].obj["spec"]["template"]["spec"]["containers"][0]
    prod_identity = find(manifests, "Deployment", "identity")[0].obj["spec"]["template"]["spec"]["containers"][0]
    assert prod_identity["resources"] != default_identity["resources"]


def test_listeners_bind_all_interfaces_and_never_migrate_at_start(renders: Renders) -> None:
    manifests = renders.get(chart_tools.UMBRELLA)
    identity = find(manifests, "ConfigMap", "identity-config")[0].obj["data"]
    accounts = find(manifests, "ConfigMap", "accounts-config")[0].obj["data"]
    inventory = find(manifests, "ConfigMap", "inventory-config")[0].obj["data"]
    netsim = find(manifests, "ConfigMap", "netsim-config")[0].obj["data"]
    billing = find(manifests, "ConfigMap", "billing-config")[0].obj["data"]
    ticketing = find(manifests, "ConfigMap", "ticketing-config")[0].obj["data"]
    notifications = find(manifests, "ConfigMap", "notifications-config")[0].obj["data"]
    gateway = find(manifests, "ConfigMap", "gateway-config")[0].obj["data"]
    assert identity["IDENTITY_GRPC_HOST"] == ALL_INTERFACES
    assert identity["IDENTITY_MIGRATE_ON_START"] == "false"
    assert identity["IDENTITY_SMTP_HOST"] == "netsim"
    assert identity["IDENTITY_SMTP_PORT"] == "2525"
    assert accounts["ACCOUNTS_GRPC_HOST"] == ALL_INTERFACES
    assert accounts["ACCOUNTS_MIGRATE_ON_START"] == "false"
    assert accounts["ACCOUNTS_IDENTITY_TARGET"] == "identity:50051"
    assert accounts["ACCOUNTS_INVENTORY_TARGET"] == "inventory:50081"
    assert accounts["ACCOUNTS_INVENTORY_TIMEOUT_SECONDS"] == "1"
    assert inventory["INVENTORY_GRPC_HOST"] == ALL_INTERFACES
    assert inventory["INVENTORY_GRPC_PORT"] == "50081"
    assert inventory["INVENTORY_METRICS_PORT"] == "9108"
    assert inventory["INVENTORY_MIGRATE_ON_START"] == "false"
    assert inventory["INVENTORY_IDENTITY_TARGET"] == "identity:50051"
    assert inventory["INVENTORY_NETSIM_TARGET"] == "netsim:50061"
    assert inventory["INVENTORY_BILLING_TARGET"] == "billing:50091"
    assert inventory["INVENTORY_NATS_URL"] == "nats://nats.nats.svc.cluster.local:4222"
    assert netsim["NETSIM_GRPC_HOST"] == netsim["NETSIM_SMTP_HOST"] == netsim["NETSIM_HTTP_HOST"] == ALL_INTERFACES
    assert billing["BILLING_GRPC_HOST"] == ALL_INTERFACES
    assert billing["BILLING_GRPC_PORT"] == "50091"
    assert billing["BILLING_METRICS_PORT"] == "9109"
    assert billing["BILLING_MIGRATE_ON_START"] == "false"
    assert billing["BILLING_IDENTITY_TARGET"] == "identity:50051"
    assert billing["BILLING_NATS_URL"] == "nats://nats.nats.svc.cluster.local:4222"
    assert billing["BILLING_LEDGER_SWEEP_SECONDS"] == "30"
    assert billing["BILLING_DEFAULT_CURRENCY"] == "RUB"
    assert billing["BILLING_DEFAULT_SETTLEMENT_METHOD"] == "prepaid"
    assert ticketing["TICKETING_GRPC_HOST"] == ALL_INTERFACES
    assert ticketing["TICKETING_GRPC_PORT"] == "50101"
    assert ticketing["TICKETING_METRICS_PORT"] == "9111"
    assert ticketing["TICKETING_MIGRATE_ON_START"] == "false"
    assert ticketing["TICKETING_IDENTITY_TARGET"] == "identity:50051"
    assert ticketing["TICKETING_NATS_URL"] == "nats://nats.nats.svc.cluster.local:4222"
    assert ticketing["TICKETING_AUTO_CLOSE_AFTER"] == "P7D"
    assert notifications["NOTIFICATIONS_GRPC_PORT"] == "50111"
    assert notifications["NOTIFICATIONS_METRICS_PORT"] == "9112"
    assert notifications["NOTIFICATIONS_MIGRATE_ON_START"] == "false"
    assert notifications["NOTIFICATIONS_IDENTITY_TARGET"] == "identity:50051"
    assert notifications["NOTIFICATIONS_SMTP_HOST"] == "netsim"
    assert notifications["NOTIFICATIONS_GROUPING_WINDOW_SECONDS"] == "30"
    assert identity["IDENTITY_SIGN_IN_SMS_BY_NOTIFICATIONS"] == "true"  # notifications is installed beside it
    services = (("IDENTITY", identity), ("ACCOUNTS", accounts), ("INVENTORY", inventory), ("NETSIM", netsim))
    for prefix, data in (*services, ("BILLING", billing), ("TICKETING", ticketing), ("NOTIFICATIONS", notifications)):
        assert data[f"{prefix}_METRICS_HOST"] == ALL_INTERFACES  # scraped from the pod network; loopback by default
    assert netsim["NETSIM_MIGRATE_ON_START"] == "false"
    assert gateway["GATEWAY_HTTP_HOST"] == ALL_INTERFACES
    assert gateway["GATEWAY_IDENTITY_TARGET"] == "identity:50051"
    assert gateway["GATEWAY_ACCOUNTS_TARGET"] == "accounts:50071"
    assert gateway["GATEWAY_INVENTORY_TARGET"] == "inventory:50081"
    assert gateway["GATEWAY_BILLING_TARGET"] == "billing:50091"
    assert gateway["GATEWAY_TICKETING_TARGET"] == "ticketing:50101"
    assert gateway["GATEWAY_NOTIFICATIONS_TARGET"] == "notifications:50111"


def test_grpc_services_probe_grpc_and_the_gateway_http(renders: Renders) -> None:
    manifests = renders.get(chart_tools.UMBRELLA)
    services = (("identity", 50051), ("accounts", 50071), ("inventory", 50081), ("netsim", 50061), ("billing", 50091))
    services = (*services, ("ticketing", 50101), ("notifications", 50111))
    for name, port in services:
        container = find(manifests, "Deployment", name)[0].obj["spec"]["template"]["spec"]["containers"][0]
        # readiness (and start-up) follow the database and NATS; liveness only asks
        # whether the process answers, so a dependency outage restarts nothing
        for probe in ("startupProbe", "readinessProbe"):
            assert container[probe]["grpc"] == {"port": port}
        assert container["livenessProbe"]["grpc"] == {"port": port, "service": "simfleet.liveness"}
    gateway = find(manifests, "Deployment", "gateway")[0].obj["spec"]["template"]["spec"]["containers"][0]
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert gateway["startupProbe"]["httpGet"]["path"] == "/healthz"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_ticketing_and_the_gateway_take_the_attachment_limit_from_one_value(
    renders: Renders, environment: str | None
) -> None:
    def limits(manifests: list[chart_tools.Manifest]) -> tuple[str, str]:
        ticketing = find(manifests, "ConfigMap", "ticketing-config")[0].obj["data"]
        gateway = find(manifests, "ConfigMap", "gateway-config")[0].obj["data"]
        return ticketing["TICKETING_ATTACHMENT_MAX_BYTES"], gateway["GATEWAY_MAX_ATTACHMENT_BYTES"]

    assert limits(renders.get(chart_tools.UMBRELLA, environment)) == ("10485760", "10485760")
    values = {**chart_tools.values_for(chart_tools.UMBRELLA, environment), "global": {"attachmentMaxBytes": 5242880}}
    assert limits(renders.render(chart_tools.UMBRELLA, values)) == ("5242880", "5242880")
    # Each service chart alone: the same 10 MiB, and the value the umbrella would hand it.
    variables = {"ticketing": "TICKETING_ATTACHMENT_MAX_BYTES", "gateway": "GATEWAY_MAX_ATTACHMENT_BYTES"}
    for chart, variable in variables.items():
        alone = find(renders.get(chart, environment), "ConfigMap")[0].obj["data"]
        assert alone[variable] == "10485760"
        handed = renders.render(chart, {"global": {"attachmentMaxBytes": 2048}})
        assert find(handed, "ConfigMap")[0].obj["data"][variable] == "2048"


def test_identity_leaves_the_sign_in_sms_to_notifications_only_when_notifications_is_installed(
    renders: Renders,
) -> None:
    without = renders.render(
        chart_tools.UMBRELLA,
        {"notifications": {"enabled": False}, "identity": {"settings": {"signInSmsByNotifications": False}}},
    )
    config = find(without, "ConfigMap", "identity-config")[0].obj["data"]
    assert config["IDENTITY_SIGN_IN_SMS_BY_NOTIFICATIONS"] == "false"
    assert not find(without, "Deployment", "notifications")
    for values, heard in (
        ({"notifications": {"enabled": False}}, "from nobody"),
        ({"identity": {"settings": {"signInSmsByNotifications": False}}}, "twice"),
    ):
        with pytest.raises(chart_tools.ChartError, match=f"signInSmsByNotifications.*{heard}"):
            renders.render(chart_tools.UMBRELLA, values)
