"""The web console's chart and image: static files behind an unprivileged nginx, routed beside the gateway.

The server's configuration (charts/console/files/nginx.conf, mounted by the chart and baked into the image by
web/Dockerfile) must answer as the gateway's ConsoleMiddleware does on `make up`: the same Content-Security-Policy
and caching headers, index.html for every page of the console's router, the API's paths never a page.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gateway.edge import console as middleware
from tests.charts.conftest import Renders, find
from tools import charts as chart_tools

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "charts" / "console" / "files" / "nginx.conf"
WEB_DOCKERFILE = ROOT / "web" / "Dockerfile"
API_PATHS = ["/v1", "/healthz", "/readyz", "/openapi.json", "/docs", "/redoc"]


def locations(conf: str) -> dict[str, str]:
    """Each `location <match> { ... }` block of the server, by its match (no nested blocks in ours)."""
    return {m.group(1).strip(): m.group(2) for m in re.finditer(r"location\s+([^{]+)\{([^{}]*)\}", conf)}


def headers(block: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r'add_header\s+(\S+)\s+"([^"]*)"\s+always;', block)}


def test_pages_and_assets_get_the_gateway_consoles_headers() -> None:
    found = locations(NGINX_CONF.read_text())
    page = headers(found["/"])
    assert page == {**middleware._PAGE_HEADERS, "X-Content-Type-Options": "nosniff"}
    assert page["Content-Security-Policy"] == middleware.CONSOLE_CONTENT_SECURITY_POLICY
    assert "try_files /index.html =404;" in found["/"]  # the console's router: every page is index.html
    assets = found[middleware.ASSETS_PREFIX]
    assert headers(assets) == {"Cache-Control": middleware.IMMUTABLE, "X-Content-Type-Options": "nosniff"}
    assert "try_files $uri =404;" in assets  # a missing asset is a 404, never index.html
    assert "return 404;" in found["= /v1"] and "return 404;" in found["/v1/"]


def test_the_server_writes_only_under_tmp_and_listens_unprivileged() -> None:
    conf = NGINX_CONF.read_text()
    assert re.search(r"^\s*listen 8080;$", conf, re.M)
    assert "pid /tmp/nginx.pid;" in conf
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        assert re.search(rf"^\s*{temp}_temp_path /tmp/\w+;$", conf, re.M), temp
    assert "server_tokens off;" in conf


def pod(manifests: list[chart_tools.Manifest]) -> dict[str, Any]:
    [deployment] = find(manifests, "Deployment", "console")
    spec: dict[str, Any] = deployment.obj["spec"]["template"]["spec"]
    return spec


def test_the_pod_is_unprivileged_with_a_read_only_root_and_the_mounted_configuration(renders: Renders) -> None:
    manifests = renders.get(chart_tools.UMBRELLA)
    spec = pod(manifests)
    [container] = spec["containers"]
    assert spec["securityContext"]["runAsUser"] == 101 and spec["securityContext"]["runAsNonRoot"] is True
    assert spec["automountServiceAccountToken"] is False
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["resources"]["limits"] and container["resources"]["requests"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert set(mounts) == {"/tmp", "/var/cache/nginx", "/etc/nginx/nginx.conf"}
    assert mounts["/etc/nginx/nginx.conf"]["readOnly"] is True
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert "emptyDir" in volumes["tmp"] and "emptyDir" in volumes["cache"]
    [config] = find(manifests, "ConfigMap", "console")
    assert config.obj["data"]["nginx.conf"].strip() == NGINX_CONF.read_text().strip()
    assert [p["containerPort"] for p in container["ports"]] == [8080]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/", "port": "http"}
    assert find(manifests, "PodDisruptionBudget", "console")
    assert find(manifests, "Service", "console")[0].obj["spec"]["ports"][0]["port"] == 8080


def test_only_the_ingress_controller_reaches_the_console_and_it_reaches_nothing(renders: Renders) -> None:
    manifests = renders.get(chart_tools.UMBRELLA)
    [allow] = find(manifests, "NetworkPolicy", "console")
    spec = allow.obj["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert not spec.get("egress")
    [rule] = spec["ingress"]
    assert rule["ports"] == [{"port": 8080, "protocol": "TCP"}]
    assert rule["from"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
        }
    ]
    assert find(manifests, "NetworkPolicy", "console-default-deny")


def routes(manifests: list[chart_tools.Manifest]) -> tuple[dict[str, Any], dict[str, str]]:
    [ingress] = find(manifests, "Ingress")
    [rule] = ingress.obj["spec"]["rules"]
    paths = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert all(p["pathType"] == "Prefix" for p in rule["http"]["paths"])
    return ingress.obj["spec"], paths


def test_one_host_routes_the_api_to_the_gateway_and_the_rest_to_the_console(renders: Renders) -> None:
    spec, paths = routes(renders.get(chart_tools.UMBRELLA))
    assert paths == {**dict.fromkeys(API_PATHS, "gateway"), "/": "console"}
    assert spec["ingressClassName"] == "nginx"
    assert "tls" not in spec

    prod, prod_paths = routes(renders.get(chart_tools.UMBRELLA, "prod"))
    assert prod_paths == paths
    assert prod["rules"][0]["host"] == "console.simfleet.example"
    assert prod["tls"] == [{"hosts": ["console.simfleet.example"], "secretName": "console-simfleet-tls"}]

    # Without the console the API is still routed; without the Ingress there is none.
    _, alone = routes(renders.render(chart_tools.UMBRELLA, {"console": {"enabled": False}}))
    assert alone == dict.fromkeys(API_PATHS, "gateway")
    assert not find(renders.render(chart_tools.UMBRELLA, {"ingress": {"enabled": False}}), "Ingress")


def test_the_image_serves_the_build_with_the_same_configuration_as_an_unprivileged_user() -> None:
    text = WEB_DOCKERFILE.read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$", text, re.M)
    assert [name for _, name in stages] == ["build", ""]
    build, final = stages[0][0], stages[-1][0]
    assert re.fullmatch(r"node:\d+\.\d+\.\d+-bookworm-slim", build), build
    assert re.fullmatch(r"nginxinc/nginx-unprivileged:\d+\.\d+\.\d+-alpine", final), final
    assert "RUN npm ci " in text and "RUN npm run build" in text
    final_steps = text.split(f"FROM {final}", 1)[1]
    assert "COPY charts/console/files/nginx.conf /etc/nginx/nginx.conf" in final_steps
    assert "COPY --from=build /src/web/dist/ /usr/share/nginx/html/" in final_steps
    assert re.search(r"^USER 101:101$", final_steps, re.M)
    assert re.search(r"^EXPOSE 8080$", final_steps, re.M)
    lines = (ROOT / "web" / "Dockerfile.dockerignore").read_text().splitlines()
    ignore = [line for line in lines if line and not line.startswith("#")]
    assert ignore[:3] == ["*", "!web", "!charts/console/files/nginx.conf"]
    assert {"web/node_modules", "web/dist"} <= set(ignore)
