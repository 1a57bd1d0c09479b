"""Values: the schema refuses what is wrong, secrets never travel through values, the migration is a hook.

Also the conventions of every values.yaml: camelCase keys, each with a comment above it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.charts.conftest import Renders, find
from tools import charts as chart_tools

SECRET_ENV = {
    "identity": {
        "IDENTITY_DATABASE_URL": "database-url",
        "IDENTITY_OPERATOR_KEY": "operator-key",
        "IDENTITY_SIGNING_KEY_PASSPHRASE": "signing-key-passphrase",
        "IDENTITY_OTP_PEPPER": "otp-pepper",
        "IDENTITY_REFRESH_TOKEN_KEY": "refresh-token-key",
        "IDENTITY_SEALING_KEY": "sealing-key",
        "IDENTITY_SMTP_PASSWORD": "smtp-password",
        "IDENTITY_PAGE_TOKEN_SECRET": "page-token-secret",
    },
    "accounts": {
        "ACCOUNTS_DATABASE_URL": "database-url",
        "ACCOUNTS_OPERATOR_KEY": "operator-key",
        "ACCOUNTS_PAGE_TOKEN_SECRET": "page-token-secret",
    },
    "inventory": {
        "INVENTORY_DATABASE_URL": "database-url",
        "INVENTORY_OPERATOR_KEY": "operator-key",
        "INVENTORY_PUK_KEY": "puk-key",
        "INVENTORY_PAGE_TOKEN_SECRET": "page-token-secret",
    },
    "netsim": {
        "NETSIM_DATABASE_URL": "database-url",
        "NETSIM_PAGE_TOKEN_SECRET": "page-token-secret",
        "NETSIM_SEALING_KEY": "sealing-key",
    },
    "billing": {
        "BILLING_DATABASE_URL": "database-url",
        "BILLING_OPERATOR_KEY": "operator-key",
        "BILLING_PAGE_TOKEN_SECRET": "page-token-secret",
    },
    "notifications": {
        "NOTIFICATIONS_DATABASE_URL": "database-url",
        "NOTIFICATIONS_IDENTITY_OPERATOR_KEY": "identity-operator-key",
        "NOTIFICATIONS_PAGE_TOKEN_SECRET": "page-token-secret",
        "NOTIFICATIONS_SMTP_PASSWORD": "smtp-password",
    },
    "ticketing": {
        "TICKETING_DATABASE_URL": "database-url",
        "TICKETING_OPERATOR_KEY": "operator-key",
        "TICKETING_PAGE_TOKEN_SECRET": "page-token-secret",
    },
}
CANARY = "canary-Secret-Value-4f1d"


def containers(manifest: chart_tools.Manifest) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = manifest.obj["spec"]["template"]["spec"]["containers"]
    return found


def secret_refs(container: dict[str, Any]) -> dict[str, tuple[str, str]]:
    refs: dict[str, tuple[str, str]] = {}
    for variable in container.get("env", []):
        ref = variable.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            refs[variable["name"]] = (ref["name"], ref["key"])
    return refs


# -- values.schema.json ----------------------------------------------------------

REJECTED: list[tuple[str, dict[str, Any]]] = [
    ("identity", {"replicaCount": 0}),
    ("identity", {"unknownKey": True}),
    ("identity", {"settings": {"grpcPortt": 50051}}),
    ("identity", {"settings": {"databaseUrl": f"postgresql+asyncpg://identity:{CANARY}@db/identity"}}),
    ("identity", {"extraEnv": {"IDENTITY_OTP_PEPPER": CANARY}}),
    ("identity", {"extraEnv": {"IDENTITY_SEALING_KEY": CANARY}}),
    ("identity", {"secretEnv": {"sealingKey": None}}),  # null deletes the default: the sealing key must be referenced
    ("netsim", {"extraEnv": {"NETSIM_SEALING_KEY": CANARY}}),
    ("netsim", {"secretEnv": {"sealingKey": None}}),  # netsim dead-letters code SMS: sealed under a real key
    ("identity", {"existingSecret": ""}),
    ("identity", {"image": {"pullPolicy": "Sometimes"}}),
    ("identity", {"securityContext": {"runAsUser": 0}}),
    ("identity", {"resources": {"limits": {"memory": None}}}),  # null deletes the default
    ("identity", {"probes": {"readiness": {"exec": {"command": ["true"]}}}}),
    ("accounts", {"settings": {"identityTarget": "identity"}}),
    ("accounts", {"settings": {"inventoryTarget": "inventory"}}),
    ("accounts", {"settings": {"inventoryTimeoutSeconds": 0}}),
    ("accounts", {"settings": {"maxTreeDepth": 0}}),
    ("accounts", {"extraEnv": {"ACCOUNTS_OPERATOR_KEY": CANARY}}),
    ("inventory", {"settings": {"netsimTarget": "netsim"}}),
    ("inventory", {"settings": {"commandBatchSize": 0}}),
    ("inventory", {"extraEnv": {"INVENTORY_PUK_KEY": CANARY}}),
    ("inventory", {"secretEnv": {"pukKey": None}}),  # null deletes the default: the PUK key must be referenced
    ("netsim", {"secretEnv": {"pageTokenSecret": None}}),  # every service's page-token key must be referenced
    ("netsim", {"nats": {"url": "http://nats:4222"}}),
    ("netsim", {"networkPolicy": {"ingress": [{"port": 8090, "from": []}]}}),
    ("billing", {"settings": {"identityTarget": "identity"}}),
    ("billing", {"settings": {"ledgerSweepSeconds": 0}}),
    ("billing", {"settings": {"defaultCurrency": "rub"}}),
    ("billing", {"settings": {"defaultSettlementMethod": "barter"}}),
    ("billing", {"extraEnv": {"BILLING_OPERATOR_KEY": CANARY}}),
    ("billing", {"secretEnv": {"operatorKey": None}}),  # only the operator key posts entries: it must be referenced
    ("billing", {"rater": {"replicaCount": 0}}),
    ("billing", {"rater": {"enabled": "yes"}}),
    ("billing", {"rater": {"autoscaling": {"enabled": True}}}),  # no HPA for the rater (values.yaml says why)
    ("billing", {"rater": {"resources": {"limits": None}}}),  # null deletes the default: limits are required
    ("billing", {"rater": {"resources": {"requests": {"cpu": "lots", "memory": "256Mi"}}}}),
    ("billing", {"rater": {"podDisruptionBudget": {"maxUnavailable": "one"}}}),
    ("simfleet", {"billing": {"rater": {"replicaCount": -1}}}),
    ("simfleet", {"billing": {"replicaCount": 0}}),
    ("ticketing", {"settings": {"autoCloseAfter": "7 days"}}),
    ("ticketing", {"settings": {"sweepIntervalSeconds": 0}}),
    ("ticketing", {"extraEnv": {"TICKETING_OPERATOR_KEY": CANARY}}),
    ("simfleet", {"ticketing": {"replicaCount": 0}}),
    ("notifications", {"settings": {"senderIntervalSeconds": 0}}),
    ("notifications", {"settings": {"smtpPort": 0}}),
    ("notifications", {"extraEnv": {"NOTIFICATIONS_IDENTITY_OPERATOR_KEY": CANARY}}),
    ("notifications", {"secretEnv": {"identityOperatorKey": None}}),
    ("gateway", {"migration": {"enabled": True}}),
    ("gateway", {"settings": {"corsOrigins": "https://a.example"}}),
    ("gateway", {"settings": {"accountsTarget": "accounts"}}),
    ("gateway", {"settings": {"inventoryTarget": "inventory"}}),
    ("gateway", {"settings": {"billingTarget": "billing"}}),
    ("simfleet", {"unknownKey": 1}),
    ("simfleet", {"identity": {"replicaCount": -1}}),
    ("simfleet", {"gateway": {"settings": {"logLevel": "CHATTY"}}}),
    ("simfleet", {"prometheusRule": {"enabled": "yes"}}),
]


@pytest.mark.parametrize(("chart", "values"), REJECTED, ids=[f"{c}-{json.dumps(v)[:60]}" for c, v in REJECTED])
def test_the_schema_refuses_unknown_and_invalid_values(renders: Renders, chart: str, values: dict[str, Any]) -> None:
    with pytest.raises(chart_tools.ChartError, match="schema"):
        renders.render(chart, values)


def test_valid_overrides_render(renders: Renders) -> None:
    manifests = renders.render("identity", {"replicaCount": 3, "autoscaling": {"enabled": False}})
    assert find(manifests, "Deployment")[0].obj["spec"]["replicas"] == 3


def test_every_schema_is_draft_07_and_closed_at_the_top() -> None:
    for chart in chart_tools.CHART_NAMES:
        schema = json.loads((chart_tools.CHARTS / chart / "values.schema.json").read_text())
        assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
        assert schema["additionalProperties"] is False
        assert schema["required"]
        for name, value in schema["properties"].items():
            if value.get("type") == "object" and value.get("properties"):
                assert value.get("additionalProperties") is False, f"{chart}: {name} is open"


# -- secrets -------------------------------------------------------------------------


@pytest.mark.parametrize("service", sorted(SECRET_ENV))
def test_secrets_come_from_the_existing_secret_by_reference(renders: Renders, service: str) -> None:
    manifests = renders.get(chart_tools.UMBRELLA, "prod")
    expected = {name: (f"{service}-secrets", key) for name, key in SECRET_ENV[service].items()}
    workloads = [m for m in manifests if m.kind in ("Deployment", "Job") and m.name.startswith(service)]
    # the server and its migration Job; billing's rater too
    assert len(workloads) == (3 if service == "billing" else 2)
    for workload in workloads:
        assert secret_refs(containers(workload)[0]) == expected


def test_another_secret_name_is_only_a_reference(renders: Renders) -> None:
    manifests = renders.render("netsim", {"existingSecret": "netsim-from-vault"})
    deployment = find(manifests, "Deployment")[0]
    assert secret_refs(containers(deployment)[0]) == {
        "NETSIM_DATABASE_URL": ("netsim-from-vault", "database-url"),
        "NETSIM_PAGE_TOKEN_SECRET": ("netsim-from-vault", "page-token-secret"),
        "NETSIM_SEALING_KEY": ("netsim-from-vault", "sealing-key"),
    }


def test_a_secret_value_never_appears_in_rendered_output(renders: Renders) -> None:
    """No Secret objects, no secret-looking literal anywhere, and a canary in the secret's name is only a name."""
    for chart in chart_tools.CHART_NAMES:
        for environment in (None, *chart_tools.environment_names()):
            manifests = renders.get(chart, environment)
            assert not find(manifests, "Secret")
            text = yaml.safe_dump_all([m.obj for m in manifests])
            assert "postgresql" not in text  # no database URL of any kind
    manifests = renders.render("identity", {"existingSecret": "canary-secret-name"})
    text = yaml.safe_dump_all([m.obj for m in manifests])
    assert CANARY not in text
    names = {
        ref[0] for m in manifests if m.kind in ("Deployment", "Job") for ref in secret_refs(containers(m)[0]).values()
    }
    assert names == {"canary-secret-name"}


def test_the_gateway_needs_no_secret(renders: Renders) -> None:
    manifests = renders.get("gateway")
    assert secret_refs(containers(find(manifests, "Deployment")[0])[0]) == {}


# -- the migration hook --------------------------------------------------------------


@pytest.mark.parametrize(
    "service", ["identity", "accounts", "inventory", "netsim", "billing", "ticketing", "notifications"]
)
def test_the_migration_job_is_a_pre_install_and_pre_upgrade_hook(renders: Renders, service: str) -> None:
    manifests = renders.get(chart_tools.UMBRELLA)
    job = find(manifests, "Job", f"{service}-migrate")[0]
    assert job.annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert job.annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
    container = containers(job)[0]
    assert container["command"] == ["python", "-m", service, "migrate"]
    deployment = containers(find(manifests, "Deployment", service)[0])[0]
    assert container["image"] == deployment["image"]
    assert container["securityContext"] == deployment["securityContext"]
    assert secret_refs(container) == secret_refs(deployment)
    # Hooks run before the ConfigMap exists: the plain settings are inline, the same as the ConfigMap's.
    config = find(manifests, "ConfigMap", f"{service}-config")[0].obj["data"]
    inline = {v["name"]: v["value"] for v in container["env"] if "value" in v and not v["name"].startswith("OTEL_RES")}
    assert inline == config
    assert "envFrom" not in container


def test_the_gateway_has_no_migration(renders: Renders) -> None:
    assert not find(renders.get("gateway"), "Job")


# -- values.yaml conventions ---------------------------------------------------------

KEY = re.compile(r"^(?P<indent> *)(?P<key>[^\s#-][^:]*):(\s|$)")
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")


@pytest.mark.parametrize("chart", chart_tools.CHART_NAMES)
def test_values_keys_are_camel_case_and_each_has_a_comment_above(chart: str) -> None:
    lines = (chart_tools.CHARTS / chart / "values.yaml").read_text().splitlines()
    problems: list[str] = []
    checked = 0
    for number, line in enumerate(lines):
        match = KEY.match(line)
        if not match or len(match["indent"]) > 2:
            continue  # deeper keys are data (labels, probe fields) under a commented parent
        checked += 1
        key = match["key"]
        if not CAMEL.match(key):
            problems.append(f"line {number + 1}: {key} is not camelCase")
        previous = lines[number - 1].strip() if number else ""
        if not previous.startswith("#"):
            problems.append(f"line {number + 1}: {key} has no comment above it")
    assert checked > 5
    assert problems == []


@pytest.mark.parametrize(
    "path", sorted((chart_tools.ROOT / "deploy" / "environments").glob("*.yaml")), ids=lambda p: p.name
)
def test_environment_files_only_set_what_the_charts_know(path: Path) -> None:
    values = yaml.safe_load(path.read_text())
    umbrella_schema = json.loads((chart_tools.CHARTS / chart_tools.UMBRELLA / "values.schema.json").read_text())
    assert set(values) <= set(umbrella_schema["properties"])
