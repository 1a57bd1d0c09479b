"""The checks of tools/charts.py catch what they are there to catch.

Each test breaks one rendered object (a deep copy of identity's render) and
expects exactly that breakage to be reported.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.charts.conftest import Renders
from tools import charts as chart_tools

Mutation = Callable[[list[chart_tools.Manifest]], None]


def obj(manifests: list[chart_tools.Manifest], kind: str, name: str = "") -> dict[str, Any]:
    for manifest in manifests:
        if manifest.kind == kind and (not name or manifest.name == name):
            return manifest.obj
    raise AssertionError(f"no {kind} {name}")


def pod(manifests: list[chart_tools.Manifest], kind: str = "Deployment") -> dict[str, Any]:
    spec: dict[str, Any] = obj(manifests, kind)["spec"]["template"]["spec"]
    return spec


def container(manifests: list[chart_tools.Manifest], kind: str = "Deployment") -> dict[str, Any]:
    first: dict[str, Any] = pod(manifests, kind)["containers"][0]
    return first


def _escalate(m: list[chart_tools.Manifest]) -> None:
    container(m)["securityContext"]["allowPrivilegeEscalation"] = True


def _writable_root(m: list[chart_tools.Manifest]) -> None:
    container(m, "Job")["securityContext"]["readOnlyRootFilesystem"] = False


def _keep_capabilities(m: list[chart_tools.Manifest]) -> None:
    container(m)["securityContext"]["capabilities"] = {"add": ["NET_ADMIN"]}


def _root(m: list[chart_tools.Manifest]) -> None:
    pod(m)["securityContext"]["runAsNonRoot"] = False


def _no_seccomp(m: list[chart_tools.Manifest]) -> None:
    del pod(m)["securityContext"]["seccompProfile"]
    del container(m)["securityContext"]["seccompProfile"]


def _host_network(m: list[chart_tools.Manifest]) -> None:
    pod(m)["hostNetwork"] = True


def _host_path(m: list[chart_tools.Manifest]) -> None:
    pod(m)["volumes"].append({"name": "host", "hostPath": {"path": "/var/run"}})


def _no_tmp(m: list[chart_tools.Manifest]) -> None:
    container(m)["volumeMounts"] = []


def _no_limits(m: list[chart_tools.Manifest]) -> None:
    del container(m, "Job")["resources"]["limits"]


def _no_readiness(m: list[chart_tools.Manifest]) -> None:
    del container(m)["readinessProbe"]


def _probe_elsewhere(m: list[chart_tools.Manifest]) -> None:
    container(m)["livenessProbe"]["grpc"]["port"] = 1234


def _exec_probe(m: list[chart_tools.Manifest]) -> None:
    container(m)["startupProbe"] = {"exec": {"command": ["true"]}}


def _no_labels(m: list[chart_tools.Manifest]) -> None:
    del obj(m, "Service")["metadata"]["labels"]["app.kubernetes.io/part-of"]


def _no_pod_labels(m: list[chart_tools.Manifest]) -> None:
    del obj(m, "Job")["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"]


def _literal_secret(m: list[chart_tools.Manifest]) -> None:
    container(m)["env"].append({"name": "IDENTITY_OTP_PEPPER", "value": "pepper"})


def _literal_puk_key(m: list[chart_tools.Manifest]) -> None:
    container(m, "Job")["env"].append({"name": "INVENTORY_PUK_KEY", "value": "c2VjcmV0"})


def _secret_in_config(m: list[chart_tools.Manifest]) -> None:
    obj(m, "ConfigMap")["data"]["IDENTITY_DATABASE_URL"] = "postgresql+asyncpg://identity:pw@db/identity"


def _token_mounted(m: list[chart_tools.Manifest]) -> None:
    pod(m)["automountServiceAccountToken"] = True


def _no_default_deny(m: list[chart_tools.Manifest]) -> None:
    m[:] = [x for x in m if not (x.kind == "NetworkPolicy" and x.name.endswith("-default-deny"))]


def _half_deny(m: list[chart_tools.Manifest]) -> None:
    obj(m, "NetworkPolicy", "simfleet-identity-default-deny")["spec"]["policyTypes"] = ["Ingress"]


def _orphan_service(m: list[chart_tools.Manifest]) -> None:
    obj(m, "Service")["spec"]["selector"]["app.kubernetes.io/name"] = "nobody"


def _orphan_hpa(m: list[chart_tools.Manifest]) -> None:
    obj(m, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]["name"] = "nobody"


BREAKAGES: dict[str, tuple[Mutation, str]] = {
    "privilege escalation": (_escalate, "allowPrivilegeEscalation must be false"),
    "writable root file system": (_writable_root, "readOnlyRootFilesystem must be true"),
    "capabilities kept": (_keep_capabilities, "capabilities must drop ALL"),
    "root": (_root, "runAsNonRoot must be true"),
    "no seccomp": (_no_seccomp, "seccompProfile must be RuntimeDefault"),
    "host network": (_host_network, "hostNetwork is not allowed"),
    "host path": (_host_path, "volume host of type hostPath is not allowed"),
    "no /tmp": (_no_tmp, "/tmp must be an emptyDir"),
    "no limits": (_no_limits, "no limits.cpu"),
    "no readiness probe": (_no_readiness, "no readinessProbe"),
    "probe on another port": (_probe_elsewhere, "asks gRPC port 1234"),
    "exec probe": (_exec_probe, "startupProbe must be a gRPC or an HTTP probe"),
    "missing label": (_no_labels, "lacks the standard labels app.kubernetes.io/part-of"),
    "missing pod label": (_no_pod_labels, "its pod template lacks the standard labels app.kubernetes.io/version"),
    "literal secret": (_literal_secret, "IDENTITY_OTP_PEPPER must come from a Secret"),
    "literal PUK key": (_literal_puk_key, "INVENTORY_PUK_KEY must come from a Secret"),
    "secret in a ConfigMap": (_secret_in_config, "IDENTITY_DATABASE_URL looks like a secret"),
    "service account token": (_token_mounted, "automountServiceAccountToken must be false"),
    "no default deny": (_no_default_deny, "no NetworkPolicy denying all ingress and egress"),
    "deny of ingress only": (_half_deny, "no NetworkPolicy denying all ingress and egress"),
    "Service selecting nothing": (_orphan_service, "selects no Deployment's pods"),
    "HPA of nothing": (_orphan_hpa, "not a rendered Deployment"),
}


@pytest.fixture(scope="module")
def identity(renders: Renders) -> list[chart_tools.Manifest]:
    manifests = renders.get("identity")
    assert chart_tools.check_policies(manifests) == []
    assert chart_tools.validate(manifests) == []
    return manifests


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_each_breakage_is_reported(identity: list[chart_tools.Manifest], breakage: str) -> None:
    broken = copy.deepcopy(identity)
    mutate, expected = BREAKAGES[breakage]
    mutate(broken)
    problems = chart_tools.check_policies(broken)
    assert any(expected in problem for problem in problems), problems


def test_strict_validation_refuses_unknown_fields_and_wrong_types(identity: list[chart_tools.Manifest]) -> None:
    broken = copy.deepcopy(identity)
    container(broken)["livenessProbe"]["grpcc"] = {"port": 50051}
    obj(broken, "Service")["spec"]["ports"][0]["port"] = "fifty"
    problems = chart_tools.validate(broken)
    assert any("Deployment/simfleet-identity" in p and "'grpcc' was unexpected" in p for p in problems), problems
    assert any("Service/simfleet-identity" in p and "spec.ports.0.port" in p for p in problems), problems


def test_kinds_without_a_schema_are_problems_not_skipped() -> None:
    unknown = chart_tools.Manifest(
        "t.yaml", {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    )
    assert any("no schema" in problem for problem in chart_tools.validate([unknown]))


def test_the_crd_kinds_are_validated_against_their_schemas(renders: Renders) -> None:
    prod = renders.get(chart_tools.UMBRELLA, "prod")
    monitor = copy.deepcopy(next(m for m in prod if m.kind == "ServiceMonitor"))
    monitor.obj["spec"]["endpoints"][0]["interval"] = "every minute"
    monitor.obj["spec"]["selectr"] = {}
    rule = copy.deepcopy(next(m for m in prod if m.kind == "PrometheusRule"))
    del rule.obj["spec"]["groups"][0]["rules"][0]["expr"]
    problems = chart_tools.validate([monitor, rule])
    assert any("ServiceMonitor" in p and "interval" in p for p in problems), problems
    assert any("ServiceMonitor" in p and "'selectr' was unexpected" in p for p in problems), problems
    assert any("PrometheusRule" in p and "'expr' is a required property" in p for p in problems), problems
