"""skaffold.yaml builds the six images and deploys NATS, PostgreSQL and SIMfleet in that order.

No cluster here: these tests hold the file to its contract and to the charts
and manifests it points at (paths, names, the NATS URL, the database selector).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tools import charts as chart_tools

ROOT = chart_tools.ROOT


@pytest.fixture(scope="module")
def configs() -> dict[str, dict[str, Any]]:
    documents = list(yaml.safe_load_all((ROOT / "skaffold.yaml").read_text()))
    return {document["metadata"]["name"]: document for document in documents}


def profile(config: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in config["profiles"] if p["name"] == name)
    return found


def load_all(path: str) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all((ROOT / path).read_text()) if document]


def test_configs_deploy_in_order_with_dev_and_prod_profiles(configs: dict[str, dict[str, Any]]) -> None:
    assert list(configs) == ["nats", "postgres-operator", "postgres", "simfleet"]
    for config in configs.values():
        assert config["apiVersion"] == "skaffold/v4beta14"
        assert config["kind"] == "Config"
        assert [p["name"] for p in config["profiles"]] == ["dev", "prod"]


def test_the_eight_images_build_from_the_repository_root(configs: dict[str, dict[str, Any]]) -> None:
    """One Dockerfile at the root; the build argument SERVICE names the service, the image keeps its name.

    The console's image is built from web/Dockerfile (Node.js, then nginx), from the same context."""
    artifacts = configs["simfleet"]["build"]["artifacts"]
    builds = {a["image"]: (a["docker"]["dockerfile"], a["docker"].get("buildArgs")) for a in artifacts}
    assert builds.pop("simfleet/console") == ("web/Dockerfile", None)
    assert (ROOT / "web" / "Dockerfile").is_file()
    assert builds == {
        f"simfleet/{service}": ("Dockerfile", {"SERVICE": service})
        for service in (
            "identity",
            "accounts",
            "inventory",
            "netsim",
            "billing",
            "ticketing",
            "notifications",
            "gateway",
        )
    }
    assert {a["context"] for a in artifacts} == {"."}
    assert (ROOT / "Dockerfile").is_file()


def test_the_umbrella_gets_the_built_images(configs: dict[str, dict[str, Any]]) -> None:
    release = configs["simfleet"]["deploy"]["helm"]["releases"][0]
    assert (ROOT / release["chartPath"] / "Chart.yaml").is_file()
    templates = release["setValueTemplates"]
    for service in (*chart_tools.SERVICES, chart_tools.CONSOLE):
        artifact = f"simfleet_{service}"
        assert templates[f"{service}.image.repository"] == f"{{{{.IMAGE_REPO_{artifact}}}}}"
        assert templates[f"{service}.image.tag"] == f"{{{{.IMAGE_TAG_{artifact}}}}}@{{{{.IMAGE_DIGEST_{artifact}}}}}"
    assert release["valuesFiles"] == ["deploy/environments/dev.yaml"]
    prod = profile(configs["simfleet"], "prod")["patches"]
    assert {
        "op": "replace",
        "path": "/deploy/helm/releases/0/valuesFiles/0",
        "value": "deploy/environments/prod.yaml",
    } in prod
    hook = configs["simfleet"]["deploy"]["helm"]["hooks"]["before"][0]["host"]["command"]
    assert "helm dependency build" in hook[-1]
    loop = hook[-1].split(";")[0].split()  # for chart in <every service chart>
    assert loop[:3] == ["for", "chart", "in"]
    assert sorted(loop[3:]) == sorted([*chart_tools.SERVICES, chart_tools.CONSOLE])


def test_nats_runs_jetstream_on_files_and_fsyncs_before_acknowledging(configs: dict[str, dict[str, Any]]) -> None:
    release = configs["nats"]["deploy"]["helm"]["releases"][0]
    assert release["remoteChart"] == "nats"
    assert release["repo"] == "https://nats-io.github.io/k8s/helm/charts/"
    base = load_all(release["valuesFiles"][0])[0]
    jetstream = base["config"]["jetstream"]
    assert jetstream["enabled"] is True
    assert jetstream["fileStore"]["enabled"] is True
    assert jetstream["merge"]["sync_interval"] == "always"
    patch = profile(configs["nats"], "prod")["patches"][0]
    assert patch["path"] == "/deploy/helm/releases/0/valuesFiles/-"
    prod = load_all(patch["value"])[0]
    assert prod["config"]["cluster"] == {"enabled": True, "replicas": 3}


def test_the_services_find_nats_where_the_chart_puts_it(configs: dict[str, dict[str, Any]]) -> None:
    release = configs["nats"]["deploy"]["helm"]["releases"][0]
    url = f"nats://{release['name']}.{release['namespace']}.svc.cluster.local:4222"
    prod = load_all("deploy/environments/prod.yaml")[0]
    for service in ("identity", "accounts", "inventory", "netsim", "billing", "ticketing", "notifications"):
        assert prod[service]["nats"]["url"] == url
        defaults = load_all(f"charts/{service}/values.yaml")[0]
        assert defaults["nats"]["url"] == url
        assert defaults["networkPolicy"]["nats"]["namespaceSelector"] == {
            "kubernetes.io/metadata.name": release["namespace"]
        }


def test_postgres_is_a_cloudnativepg_cluster_after_its_operator(configs: dict[str, dict[str, Any]]) -> None:
    operator = configs["postgres-operator"]["deploy"]["helm"]["releases"][0]
    assert operator["remoteChart"] == "cloudnative-pg"
    assert operator["wait"] is True  # its webhook must answer before the Cluster is applied
    manifests = configs["postgres"]["manifests"]["rawYaml"]
    assert manifests == ["deploy/namespace.yaml", "deploy/postgres/cluster.yaml"]
    patch = profile(configs["postgres"], "prod")["patches"][0]
    assert patch == {"op": "replace", "path": "/manifests/rawYaml/1", "value": "deploy/postgres/cluster-prod.yaml"}
    namespace = load_all("deploy/namespace.yaml")[0]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    simfleet_namespace = configs["simfleet"]["deploy"]["helm"]["releases"][0]["namespace"]
    assert namespace["metadata"]["name"] == simfleet_namespace
    for path, instances in (("deploy/postgres/cluster.yaml", 1), ("deploy/postgres/cluster-prod.yaml", 3)):
        cluster, *databases = load_all(path)
        assert cluster["kind"] == "Cluster"
        assert cluster["spec"]["instances"] == instances
        assert cluster["metadata"]["namespace"] == simfleet_namespace
        assert cluster["spec"]["bootstrap"]["initdb"]["database"] == "identity"
        # every other service: a managed role (its password from <service>-db-credentials) owning a Database
        roles = {role["name"]: role for role in cluster["spec"]["managed"]["roles"]}
        assert set(roles) == {"netsim", "accounts", "inventory", "billing", "ticketing", "notifications"}
        assert [database["kind"] for database in databases] == ["Database"] * 6
        for database in databases:
            name = database["spec"]["name"]
            assert database["spec"] == {"name": name, "owner": name, "cluster": {"name": cluster["metadata"]["name"]}}
            assert roles[name]["passwordSecret"] == {"name": f"{name}-db-credentials"}
        assert sorted(database["spec"]["name"] for database in databases) == [
            "accounts",
            "billing",
            "inventory",
            "netsim",
            "notifications",
            "ticketing",
        ]
        for service in ("identity", "accounts", "inventory", "netsim", "billing", "ticketing", "notifications"):
            selector = load_all(f"charts/{service}/values.yaml")[0]["networkPolicy"]["database"]["podSelector"]
            assert selector == {"cnpg.io/cluster": cluster["metadata"]["name"]}


def test_every_path_skaffold_names_exists(configs: dict[str, dict[str, Any]]) -> None:
    paths: list[str] = []
    for config in configs.values():
        paths += config.get("manifests", {}).get("rawYaml", [])
        for release in config["deploy"].get("helm", {}).get("releases", []):
            paths += release.get("valuesFiles", [])
            if "chartPath" in release:
                paths.append(release["chartPath"])
        for item in config["profiles"]:
            paths += [
                p["value"] for p in item.get("patches", []) if isinstance(p.get("value"), str) and "/" in p["value"]
            ]
    assert paths
    missing = [path for path in paths if not Path(ROOT / path).exists()]
    assert missing == []
