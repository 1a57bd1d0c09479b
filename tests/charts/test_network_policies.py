"""Default deny both ways, then exactly the traffic each service needs (DNS, NATS, database, callers, metrics)."""

from __future__ import annotations

from typing import Any

from tests.charts.conftest import Renders, find
from tools import charts as chart_tools

DNS = [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]


def policies(manifests: list[chart_tools.Manifest]) -> dict[str, dict[str, Any]]:
    return {m.name: m.obj["spec"] for m in find(manifests, "NetworkPolicy")}


def rule_ports(rules: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """port -> the peers of the rules that open it (one port per rule in these charts)."""
    by_port: dict[int, list[dict[str, Any]]] = {}
    for rule in rules:
        peers = rule.get("from", rule.get("to", []))
        for port in rule["ports"]:
            by_port.setdefault(port["port"], []).extend(peers)
    return by_port


def test_each_service_has_a_default_deny_of_both_directions(renders: Renders) -> None:
    specs = policies(renders.get(chart_tools.UMBRELLA))
    for service in ("identity", "accounts", "inventory", "netsim", "billing", "ticketing", "notifications", "gateway"):
        deny = specs[f"{service}-default-deny"]
        assert deny["policyTypes"] == ["Ingress", "Egress"]
        assert "ingress" not in deny
        assert "egress" not in deny
        # every pod of the service's chart: the server and the migration Job alike
        assert deny["podSelector"]["matchLabels"] == {
            "app.kubernetes.io/name": service,
            "app.kubernetes.io/instance": "simfleet",
        }


def test_identity_accepts_the_services_that_verify_tokens_and_monitoring_and_reaches_dns_nats_db_and_smtp(
    renders: Renders,
) -> None:
    spec = policies(renders.get(chart_tools.UMBRELLA))["identity"]
    ingress = rule_ports(spec["ingress"])
    assert set(ingress) == {50051, 9101}
    assert ingress[50051] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}},
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "accounts"}}},
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "inventory"}}},
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "billing"}}},
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "ticketing"}}},
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "notifications"}}},
    ]
    assert ingress[9101] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
            "podSelector": {"matchLabels": {}},
        }
    ]
    assert spec["egress"][0]["ports"] == DNS
    assert spec["egress"][0]["to"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "kube-system"
    }
    egress = rule_ports(spec["egress"][1:])
    assert set(egress) == {4222, 5432, 2525}
    assert egress[4222][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "nats"}
    assert egress[5432] == [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "simfleet-db"}}}]
    assert egress[2525] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "netsim"}}}]


def test_accounts_accepts_the_gateway_ticketing_and_monitoring_and_reaches_dns_nats_db_identity_and_inventory(
    renders: Renders,
) -> None:
    spec = policies(renders.get(chart_tools.UMBRELLA))["accounts"]
    ingress = rule_ports(spec["ingress"])
    assert set(ingress) == {50071, 9107}
    assert ingress[50071] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}},
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "ticketing"}}},
    ]
    assert ingress[9107][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "monitoring"}
    assert spec["egress"][0]["ports"] == DNS
    egress = rule_ports(spec["egress"][1:])
    assert set(egress) == {4222, 5432, 50051, 50081}
    assert egress[4222][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "nats"}
    assert egress[5432] == [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "simfleet-db"}}}]
    assert egress[50051] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "identity"}}}]
    # What a node holds, asked before deleting it.
    assert egress[50081] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "inventory"}}}]


def test_inventory_accepts_the_gateway_accounts_and_monitoring_and_reaches_dns_nats_db_identity_netsim_and_billing(
    renders: Renders,
) -> None:
    spec = policies(renders.get(chart_tools.UMBRELLA))["inventory"]
    ingress = rule_ports(spec["ingress"])
    assert set(ingress) == {50081, 9108}
    assert ingress[50081] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}},
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "accounts"}}},
    ]
    assert ingress[9108] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
            "podSelector": {"matchLabels": {}},
        }
    ]
    assert spec["egress"][0]["ports"] == DNS
    egress = rule_ports(spec["egress"][1:])
    assert set(egress) == {4222, 5432, 50051, 50061, 50091}
    assert egress[4222][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "nats"}
    assert egress[5432] == [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "simfleet-db"}}}]
    assert egress[50051] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "identity"}}}]
    assert egress[50061] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "netsim"}}}]
    # Which lines may take a tariff or a service, asked before changing them.
    assert egress[50091] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "billing"}}}]


def test_netsim_accepts_inventory_and_billing_on_grpc_identity_on_smtp_and_the_namespace_on_its_console(
    renders: Renders,
) -> None:
    spec = policies(renders.get(chart_tools.UMBRELLA))["netsim"]
    ingress = rule_ports(spec["ingress"])
    assert set(ingress) == {50061, 2525, 8090, 9106}
    assert ingress[50061] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "inventory"}}},
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "billing"}}},
    ]
    assert ingress[2525] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "identity"}}},
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "billing"}}},
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "notifications"}}},
    ]
    assert ingress[8090] == [{"podSelector": {"matchLabels": {}}}]  # every pod of the namespace
    assert set(rule_ports(spec["egress"][1:])) == {4222, 5432}


def test_billing_accepts_the_gateway_inventory_and_monitoring_and_reaches_dns_nats_db_and_identity(
    renders: Renders,
) -> None:
    spec = policies(renders.get(chart_tools.UMBRELLA))["billing"]
    ingress = rule_ports(spec["ingress"])
    assert set(ingress) == {50091, 9109}
    assert ingress[50091] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}},
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "inventory"}}},
    ]
    assert ingress[9109] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
            "podSelector": {"matchLabels": {}},
        }
    ]
    assert spec["egress"][0]["ports"] == DNS
    egress = rule_ports(spec["egress"][1:])
    # NATS: accounts' node events and identity's revocations; identity: the JWKS that verifies tokens;
    # netsim: the payment provider (card acquirer) and the mail relay for receipts.
    assert set(egress) == {4222, 5432, 50051, 50061, 2525}
    assert egress[50061] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "netsim"}}}]
    assert egress[2525] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "netsim"}}}]
    assert egress[4222][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "nats"}
    assert egress[5432] == [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "simfleet-db"}}}]
    assert egress[50051] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "identity"}}}]


def test_ticketing_accepts_the_gateway_and_monitoring_and_reaches_dns_nats_db_identity_and_accounts(
    renders: Renders,
) -> None:
    spec = policies(renders.get(chart_tools.UMBRELLA))["ticketing"]
    ingress = rule_ports(spec["ingress"])
    assert set(ingress) == {50101, 9111}
    assert ingress[50101] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}]
    assert spec["egress"][0]["ports"] == DNS
    egress = rule_ports(spec["egress"][1:])
    # NATS: accounts' node events, identity's revocations, its own events; identity: the JWKS and a form's
    # applicant; accounts: the names a form is filled in with.
    assert set(egress) == {4222, 5432, 50051, 50071}
    assert egress[50051] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "identity"}}}]
    assert egress[50071] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "accounts"}}}]


def test_notifications_accepts_the_gateway_and_monitoring_and_reaches_dns_nats_db_identity_and_smtp(
    renders: Renders,
) -> None:
    spec = policies(renders.get(chart_tools.UMBRELLA))["notifications"]
    ingress = rule_ports(spec["ingress"])
    assert set(ingress) == {50111, 9112}
    assert ingress[50111] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}]
    assert spec["egress"][0]["ports"] == DNS
    egress = rule_ports(spec["egress"][1:])
    # NATS: every service's events and netsim's SMS commands; identity: the JWKS and users' access; the SMTP sink.
    assert set(egress) == {4222, 5432, 50051, 2525}
    assert egress[50051] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "identity"}}}]
    assert egress[2525] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "netsim"}}}]


def test_the_gateway_accepts_the_ingress_controller_and_reaches_only_the_services_it_routes_to(
    renders: Renders,
) -> None:
    spec = policies(renders.get(chart_tools.UMBRELLA))["gateway"]
    ingress = spec["ingress"]
    assert [rule["ports"] for rule in ingress] == [[{"port": 8080, "protocol": "TCP"}]] * 2
    assert ingress[0]["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "ingress-nginx"}
    assert spec["egress"][0]["ports"] == DNS
    egress = rule_ports(spec["egress"][1:])
    assert egress == {
        50051: [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "identity"}}}],
        50071: [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "accounts"}}}],
        50081: [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "inventory"}}}],
        50091: [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "billing"}}}],
        50101: [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "ticketing"}}}],
        50111: [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "notifications"}}}],
    }


def test_the_migration_jobs_reach_only_dns_and_their_database(renders: Renders) -> None:
    specs = policies(renders.get(chart_tools.UMBRELLA))
    for service in ("identity", "accounts", "inventory", "netsim", "billing", "ticketing", "notifications"):
        spec = specs[f"{service}-migration"]
        assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "migration"
        assert spec["policyTypes"] == ["Ingress", "Egress"]
        assert "ingress" not in spec
        assert [rule["ports"] for rule in spec["egress"]] == [DNS, [{"port": 5432, "protocol": "TCP"}]]
    assert "gateway-migration" not in specs


def test_traces_open_egress_to_the_collector_only_when_configured(renders: Renders) -> None:
    default = policies(renders.get(chart_tools.UMBRELLA))["gateway"]
    assert 4318 not in rule_ports(default["egress"])
    prod = policies(renders.get(chart_tools.UMBRELLA, "prod"))["gateway"]
    assert rule_ports(prod["egress"])[4318][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "observability"
    }


def test_selectors_and_ports_come_from_values(renders: Renders) -> None:
    manifests = renders.render(
        "identity",
        {
            "networkPolicy": {
                "database": {"cidr": "10.20.0.5/32", "port": 6432},
                "nats": {"namespaceSelector": {"kubernetes.io/metadata.name": "messaging"}, "port": 4223},
                "monitoring": {"namespaceSelector": {"kubernetes.io/metadata.name": "observability"}},
            }
        },
    )
    spec = policies(manifests)["simfleet-identity"]
    egress = rule_ports(spec["egress"])
    assert egress[6432] == [{"ipBlock": {"cidr": "10.20.0.5/32"}}]
    assert egress[4223][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "messaging"}
    assert rule_ports(spec["ingress"])[9101][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "observability"
    }
    assert chart_tools.validate(manifests) == []
    assert chart_tools.check_policies(manifests) == []


def test_billing_rater_is_denied_by_default_and_reaches_only_dns_nats_and_the_database(renders: Renders) -> None:
    manifests = renders.get(chart_tools.UMBRELLA)
    specs = policies(manifests)
    rater = find(manifests, "Deployment", "billing-rater")[0].obj["spec"]["template"]["metadata"]["labels"]
    server = find(manifests, "Deployment", "billing")[0].obj["spec"]["template"]["metadata"]["labels"]

    def selecting(labels: dict[str, str]) -> set[str]:
        return {
            name
            for name, spec in specs.items()
            if all(labels.get(key) == value for key, value in spec["podSelector"]["matchLabels"].items())
        }

    # the chart's default deny and the rater's own policy; never the server's (its callers, identity, netsim)
    assert selecting(rater) == {"billing-default-deny", "billing-rater"}
    assert selecting(server) == {"billing-default-deny", "billing"}
    spec = specs["billing-rater"]
    assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "rater"
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    # nobody calls it: only monitoring, on the metrics port (the kubelet's probes need no rule)
    assert spec["ingress"] == [
        {
            "ports": [{"port": 9109, "protocol": "TCP"}],
            "from": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                    "podSelector": {"matchLabels": {}},
                }
            ],
        }
    ]
    assert spec["egress"][0]["ports"] == DNS
    assert spec["egress"][0]["to"] == specs["billing"]["egress"][0]["to"]
    egress = rule_ports(spec["egress"][1:])
    assert set(egress) == {4222, 5432}
    assert egress[4222] == rule_ports(specs["billing"]["egress"])[4222]
    assert egress[5432] == [{"podSelector": {"matchLabels": {"cnpg.io/cluster": "simfleet-db"}}}]


def test_billing_rater_reaches_the_collector_only_when_traces_are_configured(renders: Renders) -> None:
    prod = policies(renders.get(chart_tools.UMBRELLA, "prod"))["billing-rater"]
    egress = rule_ports(prod["egress"][1:])
    assert set(egress) == {4222, 5432, 4318}
    assert egress[4318] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "observability"}},
            "podSelector": {"matchLabels": {}},
        }
    ]
    # an external database's CIDR reaches the rater's policy as the server's
    manifests = renders.render("billing", {"networkPolicy": {"database": {"cidr": "10.20.0.5/32", "port": 6432}}})
    rater = policies(manifests)["simfleet-billing-rater"]
    assert rule_ports(rater["egress"])[6432] == [{"ipBlock": {"cidr": "10.20.0.5/32"}}]
    assert chart_tools.validate(manifests) == []
