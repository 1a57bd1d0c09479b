"""billing's rater: rating the network's usage in a Deployment of its own, beside the API pods.

With rater.enabled (the default) the server's pods run BILLING_ROLE=api and
<fullname>-rater's run BILLING_ROLE=rater with the same image, command, settings
and secrets; billing's Service never reaches a rater. Off: one Deployment, BILLING_ROLE=all.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.charts.conftest import ENVIRONMENTS, Renders, find
from tools import charts as chart_tools

IDS = [e or "default" for e in ENVIRONMENTS]
RATER_KINDS = {"Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"}


def pod_labels(deployment: chart_tools.Manifest) -> dict[str, str]:
    labels: dict[str, str] = deployment.obj["spec"]["template"]["metadata"]["labels"]
    return labels


def selects(match_labels: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in match_labels.items())


def container(deployment: chart_tools.Manifest) -> dict[str, Any]:
    first: dict[str, Any] = deployment.obj["spec"]["template"]["spec"]["containers"][0]
    return first


def role(deployment: chart_tools.Manifest) -> list[str]:
    """Every BILLING_ROLE of the container (a list: it must be set exactly once)."""
    return [v["value"] for v in container(deployment)["env"] if v["name"] == "BILLING_ROLE"]


def rater_objects(manifests: list[chart_tools.Manifest]) -> list[chart_tools.Manifest]:
    return [m for m in manifests if m.labels.get("app.kubernetes.io/component") == "rater"]


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=IDS)
@pytest.mark.parametrize(("chart", "prefix"), [("billing", "simfleet-billing"), ("simfleet", "billing")])
def test_the_rater_renders_and_validates_strictly(
    renders: Renders, chart: str, prefix: str, environment: str | None
) -> None:
    manifests = renders.get(chart, environment)
    objects = rater_objects(manifests)
    kinds = {m.kind for m in objects}
    # prod monitors: its ServiceMonitor too (validated against tools/crd_schemas)
    assert kinds == (RATER_KINDS | {"ServiceMonitor"} if environment == "prod" else RATER_KINDS)
    assert {m.name for m in objects} == {f"{prefix}-rater"}
    assert len(objects) == len(kinds)
    assert chart_tools.validate(objects) == []
    assert chart_tools.check_policies(manifests) == []
    # no autoscaler for the rater: its load is the usage backlog, which CPU does not show
    assert all(
        m.obj["spec"]["scaleTargetRef"]["name"] != f"{prefix}-rater" for m in find(manifests, "HorizontalPodAutoscaler")
    )


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=IDS)
def test_the_server_runs_the_api_role_and_the_rater_the_rater_role(renders: Renders, environment: str | None) -> None:
    manifests = renders.get(chart_tools.UMBRELLA, environment)
    server = find(manifests, "Deployment", "billing")[0]
    rater = find(manifests, "Deployment", "billing-rater")[0]
    assert role(server) == ["api"]
    assert role(rater) == ["rater"]
    # the same process, settings and secrets: only the role differs
    server_container, rater_container = container(server), container(rater)
    for key in ("image", "command", "envFrom", "ports", "securityContext", "volumeMounts"):
        assert rater_container[key] == server_container[key], key
    assert [v for v in rater_container["env"] if v["name"] != "BILLING_ROLE"] == [
        v for v in server_container["env"] if v["name"] != "BILLING_ROLE"
    ]
    assert rater_container["command"] == ["python", "-m", "billing"]  # never "migrate": the hook Job does
    assert find(manifests, "ConfigMap", "billing-config")[0].obj["data"]["BILLING_MIGRATE_ON_START"] == "false"
    # gRPC health on the grpc port, as billing's
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert rater_container[probe] == server_container[probe]
    assert rater_container["readinessProbe"]["grpc"] == {"port": 50091}
    assert rater_container["livenessProbe"]["grpc"] == {"port": 50091, "service": "simfleet.liveness"}
    server_pod, rater_pod = server.obj["spec"]["template"]["spec"], rater.obj["spec"]["template"]["spec"]
    for key in ("securityContext", "volumes", "serviceAccountName", "automountServiceAccountToken"):
        assert rater_pod[key] == server_pod[key], key
    assert rater_container["securityContext"]["readOnlyRootFilesystem"] is True
    assert (
        rater.obj["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
        == (server.obj["spec"]["template"]["metadata"]["annotations"]["checksum/config"])
    )


def test_the_rater_is_sized_as_a_cpu_bound_worker_of_its_own(renders: Renders) -> None:
    manifests = renders.get("billing")
    resources = container(find(manifests, "Deployment", "simfleet-billing-rater")[0])["resources"]
    assert resources == {"requests": {"cpu": "1", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
    assert container(find(manifests, "Deployment", "simfleet-billing")[0])["resources"]["requests"]["cpu"] == "100m"


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=IDS)
def test_billing_service_pdb_and_hpa_never_reach_the_rater(renders: Renders, environment: str | None) -> None:
    manifests = renders.get(chart_tools.UMBRELLA, environment)
    server = pod_labels(find(manifests, "Deployment", "billing")[0])
    rater = pod_labels(find(manifests, "Deployment", "billing-rater")[0])
    assert server["app.kubernetes.io/component"] == "server"
    assert rater["app.kubernetes.io/component"] == "rater"
    service = find(manifests, "Service", "billing")[0].obj["spec"]
    assert service["selector"]["app.kubernetes.io/component"] == "server"
    assert selects(service["selector"], server)
    assert not selects(service["selector"], rater)
    pdb = find(manifests, "PodDisruptionBudget", "billing")[0].obj["spec"]["selector"]["matchLabels"]
    assert selects(pdb, server)
    assert not selects(pdb, rater)
    rater_deployment = find(manifests, "Deployment", "billing-rater")[0].obj["spec"]
    assert rater_deployment["selector"]["matchLabels"]["app.kubernetes.io/component"] == "rater"
    assert not selects(rater_deployment["selector"]["matchLabels"], server)
    rater_pdb = find(manifests, "PodDisruptionBudget", "billing-rater")[0].obj["spec"]
    assert selects(rater_pdb["selector"]["matchLabels"], rater)
    assert not selects(rater_pdb["selector"]["matchLabels"], server)
    assert rater_pdb["maxUnavailable"] == 1


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=IDS)
def test_the_rater_service_carries_only_its_metrics(renders: Renders, environment: str | None) -> None:
    manifests = renders.get(chart_tools.UMBRELLA, environment)
    server = pod_labels(find(manifests, "Deployment", "billing")[0])
    rater = pod_labels(find(manifests, "Deployment", "billing-rater")[0])
    service = find(manifests, "Service", "billing-rater")[0]
    assert service.obj["spec"]["ports"] == [
        {"name": "metrics", "port": 9109, "targetPort": "metrics", "protocol": "TCP", "appProtocol": "http"}
    ]
    assert selects(service.obj["spec"]["selector"], rater)
    assert not selects(service.obj["spec"]["selector"], server)
    # Prometheus names the job after this label (jobLabel): the rater's metrics land under job="billing"
    assert service.labels["app.kubernetes.io/name"] == "billing"


def test_the_rater_is_scraped_as_job_billing_when_service_monitors_are_on(renders: Renders) -> None:
    assert not find(renders.get(chart_tools.UMBRELLA), "ServiceMonitor")
    manifests = renders.get(chart_tools.UMBRELLA, "prod")
    monitors = {m.name: m for m in find(manifests, "ServiceMonitor")}
    service = find(manifests, "Service", "billing-rater")[0]
    rater_monitor, billing_monitor = monitors["billing-rater"], monitors["billing"]
    spec = rater_monitor.obj["spec"]
    assert spec["jobLabel"] == "app.kubernetes.io/name"
    assert service.labels[spec["jobLabel"]] == "billing"
    assert selects(spec["selector"]["matchLabels"], service.labels)
    assert not selects(spec["selector"]["matchLabels"], find(manifests, "Service", "billing")[0].labels)
    assert [e["port"] for e in spec["endpoints"]] == [p["name"] for p in service.obj["spec"]["ports"]]
    # scraped like billing's own pods: same path, interval and the label Prometheus selects monitors by
    assert spec["endpoints"] == billing_monitor.obj["spec"]["endpoints"]
    assert spec["namespaceSelector"] == billing_monitor.obj["spec"]["namespaceSelector"]
    assert rater_monitor.labels["release"] == "kube-prometheus-stack"


def test_without_the_rater_one_deployment_runs_every_role(renders: Renders) -> None:
    manifests = renders.render("billing", {"rater": {"enabled": False}})
    deployments = find(manifests, "Deployment")
    assert [m.name for m in deployments] == ["simfleet-billing"]
    assert role(deployments[0]) == ["all"]
    assert not rater_objects(manifests)
    assert {m.name for m in find(manifests, "Service")} == {"simfleet-billing"}
    assert {m.name for m in find(manifests, "NetworkPolicy")} == {
        "simfleet-billing-default-deny",
        "simfleet-billing",
        "simfleet-billing-migration",
    }
    assert chart_tools.validate(manifests) == []
    assert chart_tools.check_policies(manifests) == []
    umbrella = renders.render(chart_tools.UMBRELLA, {"billing": {"rater": {"enabled": False}}})
    assert "billing-rater" not in {m.name for m in umbrella}
    assert role(find(umbrella, "Deployment", "billing")[0]) == ["all"]


def test_the_rater_takes_its_own_values(renders: Renders) -> None:
    manifests = renders.render(
        "billing",
        {
            "podLabels": {"team": "ledger"},
            "podAnnotations": {"server-only": "yes"},
            "rater": {
                "replicaCount": 4,
                "resources": {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
                "podLabels": {"workload": "rating"},
                "podAnnotations": {"rater-only": "yes"},
                "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1, "minAvailable": "50%"},
            },
        },
    )
    rater = find(manifests, "Deployment", "simfleet-billing-rater")[0]
    server = find(manifests, "Deployment", "simfleet-billing")[0]
    assert rater.obj["spec"]["replicas"] == 4
    assert container(rater)["resources"]["limits"] == {"cpu": "2", "memory": "2Gi"}
    assert pod_labels(rater)["workload"] == "rating"
    assert "team" not in pod_labels(rater)
    assert rater.obj["spec"]["template"]["metadata"]["annotations"]["rater-only"] == "yes"
    assert "server-only" not in rater.obj["spec"]["template"]["metadata"]["annotations"]
    assert pod_labels(server)["team"] == "ledger"
    assert "workload" not in pod_labels(server)
    # the server keeps its autoscaler; the rater's count is its own
    assert "replicas" not in server.obj["spec"]
    assert find(manifests, "PodDisruptionBudget", "simfleet-billing-rater")[0].obj["spec"]["minAvailable"] == "50%"
    assert find(manifests, "PodDisruptionBudget", "simfleet-billing")[0].obj["spec"]["maxUnavailable"] == 1
    assert chart_tools.validate(manifests) == []
    assert chart_tools.check_policies(manifests) == []
    quiet = renders.render("billing", {"rater": {"podDisruptionBudget": {"enabled": False, "maxUnavailable": 1}}})
    assert [m.name for m in find(quiet, "PodDisruptionBudget")] == ["simfleet-billing"]
