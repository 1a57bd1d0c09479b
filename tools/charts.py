"""Render, lint and check SIMfleet's Helm charts (what ``make charts`` runs).

Every chart under ``charts/`` (the service charts, the web console's and the
``simfleet`` umbrella) is rendered with Helm's own engine (the ``helm-python-sdk`` package:
no helm binary) under its default values and under each environment file of
``deploy/environments/``, linted strictly, and every rendered object is
validated with ``kubernetes-validate --strict`` against Kubernetes 1.33. The
Prometheus Operator's kinds (ServiceMonitor, PrometheusRule) have no schema
there, so they are checked against the small strict schemas in
``tools/crd_schemas/``. Then the rules SIMfleet holds every workload to:

* the Pod Security "restricted" profile (non-root, no privilege escalation,
  all capabilities dropped, RuntimeDefault seccomp, read-only root file system,
  no host namespaces or host paths), a writable ``/tmp`` from an emptyDir;
* requests and limits of CPU and memory on every container;
* startup, readiness and liveness probes on Deployments, each a native gRPC or
  an HTTP probe on one of the container's ports;
* the standard ``app.kubernetes.io/*`` labels and ``helm.sh/chart``;
* secrets only through ``secretKeyRef``, never a literal value;
* a NetworkPolicy that denies all ingress and egress selecting each pod;
* Services, HorizontalPodAutoscalers and PodDisruptionBudgets that point at a
  Deployment that exists.

The charts are copied to a temporary folder to resolve their ``file://``
dependencies, so the work tree is left untouched. Exit status 1 on any problem.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema  # type: ignore[import-untyped]
import kubernetes_validate  # type: ignore[import-untyped]
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHARTS = ROOT / "charts"
ENVIRONMENTS = ROOT / "deploy" / "environments"
CRD_SCHEMAS = Path(__file__).resolve().parent / "crd_schemas"

LIBRARY = "simfleet-lib"
SERVICES = ("identity", "accounts", "inventory", "netsim", "billing", "ticketing", "notifications", "gateway")
CONSOLE = "console"
"""The web console's chart: static files behind nginx, its image built from web/Dockerfile."""
UMBRELLA = "simfleet"
CHART_NAMES = (*SERVICES, CONSOLE, UMBRELLA)
KUBERNETES_VERSION = "1.33.0"
RELEASE = "simfleet"
NAMESPACE = "simfleet"

STANDARD_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
)
WORKLOAD_KINDS = ("Deployment", "Job")
CRD_SCHEMA_FILES = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule.json",
}
# Volume types the restricted profile allows.
RESTRICTED_VOLUME_TYPES = frozenset(
    {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
)
# An environment variable whose name says it holds a secret must come from a Secret.
SECRET_NAME_PARTS = (
    "PASSWORD",
    "PASSPHRASE",
    "PEPPER",
    "SECRET",
    "TOKEN",
    "OPERATOR_KEY",
    "PUK_KEY",
    "SEALING_KEY",
    "DATABASE_URL",
)


class ChartError(Exception):
    """A chart could not be prepared or rendered."""


@dataclass(frozen=True)
class Manifest:
    """One rendered Kubernetes object and the template it came from."""

    template: str
    obj: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))

    @property
    def name(self) -> str:
        return str(_mapping(self.obj.get("metadata")).get("name", ""))

    @property
    def labels(self) -> dict[str, Any]:
        return _mapping(_mapping(self.obj.get("metadata")).get("labels"))

    @property
    def annotations(self) -> dict[str, Any]:
        return _mapping(_mapping(self.obj.get("metadata")).get("annotations"))

    def ref(self) -> str:
        return f"{self.kind}/{self.name} ({self.template})"


@dataclass
class Report:
    """What checking one chart under one set of values found."""

    chart: str
    values_name: str
    manifests: list[Manifest] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.chart} [{self.values_name}]"


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# -- preparing and rendering --------------------------------------------------


def build_charts(destination: Path) -> Path:
    """Copy charts/ under ``destination`` and resolve the file:// dependencies there.

    The library first, then the service charts that embed it, then the umbrella
    that embeds them. Returns the copied charts folder.
    """
    target = destination / "charts"
    shutil.copytree(CHARTS, target, ignore=shutil.ignore_patterns("charts", "Chart.lock", "*.tgz"))
    for name in (*SERVICES, CONSOLE, UMBRELLA):
        try:
            helm.dependency_update(target / name, skip_refresh=True)
        except helm.HelmError as exc:
            raise ChartError(f"{name}: cannot resolve its dependencies: {exc}") from exc
    return target


def environment_names() -> list[str]:
    return sorted(path.stem for path in ENVIRONMENTS.glob("*.yaml"))


def environment_values(environment: str) -> dict[str, Any]:
    """The umbrella's values for one environment (deploy/environments/<environment>.yaml)."""
    loaded = yaml.safe_load((ENVIRONMENTS / f"{environment}.yaml").read_text(encoding="utf-8"))
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ChartError(f"deploy/environments/{environment}.yaml: not a mapping")
    return loaded


def values_for(chart: str, environment: str | None) -> dict[str, Any]:
    """Values to render ``chart`` with: none (its defaults), or an environment's.

    A service chart rendered alone takes its section of the environment file,
    the one the umbrella would hand it.
    """
    if environment is None:
        return {}
    values = environment_values(environment)
    if chart == UMBRELLA:
        return values
    return dict(_mapping(values.get(chart)))


def render(charts_dir: Path, chart: str, values: Mapping[str, Any] | None = None) -> list[Manifest]:
    """Render ``chart`` (install, release "simfleet" in namespace "simfleet") into its objects.

    Raises ChartError when Helm refuses (a template error, or values that
    values.schema.json rejects).
    """
    try:
        with helm.Chart.load(charts_dir / chart) as loaded:
            rendered = loaded.render(dict(values or {}), name=RELEASE, namespace=NAMESPACE, is_install=True)
    except helm.HelmError as exc:
        raise ChartError(f"{chart}: {exc}") from exc
    manifests: list[Manifest] = []
    for template, text in sorted(rendered.items()):
        if not template.endswith((".yaml", ".yml", ".json")):
            continue  # NOTES.txt and the like
        try:
            documents = list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            raise ChartError(f"{template}: not YAML: {exc}") from exc
        for document in documents:
            if document is None:
                continue
            if not isinstance(document, dict):
                raise ChartError(f"{template}: a document that is not an object")
            manifests.append(Manifest(template, document))
    return manifests


def lint(charts_dir: Path, chart: str, values: Mapping[str, Any] | None = None) -> list[str]:
    """``helm lint --strict`` (warnings fail) for Kubernetes 1.33, subcharts included."""
    report = helm.lint(
        charts_dir / chart,
        dict(values or {}),
        strict=True,
        namespace=NAMESPACE,
        with_subcharts=True,
        kube_version=f"v{KUBERNETES_VERSION}",
    )
    problems: list[str] = []
    for message in _list(report.get("messages")):
        if _mapping(message).get("severity", 0) >= 2:
            problems.append(f"lint: {message.get('path', '')}: {message.get('error', '')}")
    for error in _list(report.get("errors")):
        text = f"lint: {error}"
        if not any(str(error) in problem for problem in problems):
            problems.append(text)
    return problems


# -- schema validation -----------------------------------------------------------


@cache
def _crd_validator(file_name: str) -> Any:
    schema = json.loads((CRD_SCHEMAS / file_name).read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def validate(manifests: Iterable[Manifest]) -> list[str]:
    """kubernetes-validate --strict (Kubernetes 1.33) for every object; tools/crd_schemas for the CRDs."""
    problems: list[str] = []
    for manifest in manifests:
        key = (str(manifest.obj.get("apiVersion", "")), manifest.kind)
        if key in CRD_SCHEMA_FILES:
            validator = _crd_validator(CRD_SCHEMA_FILES[key])
            for error in sorted(validator.iter_errors(manifest.obj), key=lambda e: list(e.path)):
                path = ".".join(str(part) for part in error.path)
                problems.append(f"{manifest.ref()}: {path}: {error.message}")
            continue
        try:
            kubernetes_validate.validate(manifest.obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(part) for part in exc.path)
            problems.append(f"{manifest.ref()}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{manifest.ref()}: no schema to validate it: {exc.message}")
    return problems


# -- SIMfleet's rules for workloads -------------------------------------------------


def _pod_template(manifest: Manifest) -> dict[str, Any]:
    return _mapping(_mapping(manifest.obj.get("spec")).get("template"))


def _selector_matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a set of labels."""
    for key, value in _mapping(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for expression in _list(selector.get("matchExpressions")):
        key = expression.get("key")
        operator = expression.get("operator")
        values = _list(expression.get("values"))
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _check_labels(manifest: Manifest, labels: Mapping[str, Any], where: str) -> list[str]:
    missing = [label for label in STANDARD_LABELS if not labels.get(label)]
    if not missing:
        return []
    return [f"{manifest.ref()}: {where} lacks the standard labels {', '.join(missing)}"]


def _check_security(manifest: Manifest, pod: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    ref = manifest.ref()
    context = _mapping(pod.get("securityContext"))
    if context.get("runAsNonRoot") is not True:
        problems.append(f"{ref}: pod securityContext.runAsNonRoot must be true")
    if not isinstance(context.get("runAsUser"), int) or context.get("runAsUser") == 0:
        problems.append(f"{ref}: pod securityContext.runAsUser must be a non-root id")
    pod_seccomp = _mapping(context.get("seccompProfile")).get("type")
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(flag):
            problems.append(f"{ref}: {flag} is not allowed")
    if pod.get("automountServiceAccountToken") is not False:
        problems.append(f"{ref}: automountServiceAccountToken must be false")
    volumes = {volume.get("name"): volume for volume in _list(pod.get("volumes"))}
    for name, volume in volumes.items():
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUME_TYPES:
            problems.append(f"{ref}: volume {name} of type {', '.join(sorted(kinds))} is not allowed")
    containers = _list(pod.get("containers")) + _list(pod.get("initContainers"))
    if not containers:
        problems.append(f"{ref}: no containers")
    for container in containers:
        cref = f"{ref}: container {container.get('name')}"
        security = _mapping(container.get("securityContext"))
        if security.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{cref}: allowPrivilegeEscalation must be false")
        if security.get("privileged"):
            problems.append(f"{cref}: privileged is not allowed")
        if security.get("runAsNonRoot") is False or security.get("runAsUser") == 0:
            problems.append(f"{cref}: must not run as root")
        if security.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{cref}: readOnlyRootFilesystem must be true")
        capabilities = _mapping(security.get("capabilities"))
        if "ALL" not in _list(capabilities.get("drop")):
            problems.append(f"{cref}: capabilities must drop ALL")
        if set(_list(capabilities.get("add"))) - {"NET_BIND_SERVICE"}:
            problems.append(f"{cref}: only NET_BIND_SERVICE may be added")
        seccomp = _mapping(security.get("seccompProfile")).get("type") or pod_seccomp
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{cref}: seccompProfile must be RuntimeDefault")
        mounts = {mount.get("mountPath"): mount.get("name") for mount in _list(container.get("volumeMounts"))}
        tmp = volumes.get(mounts.get("/tmp"))  # noqa: S108 - a path inside the container, checked, not used
        if tmp is None or "emptyDir" not in tmp:
            problems.append(f"{cref}: /tmp must be an emptyDir (the root file system is read-only)")
    return problems


def _check_resources(manifest: Manifest, pod: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for container in _list(pod.get("containers")) + _list(pod.get("initContainers")):
        resources = _mapping(container.get("resources"))
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if not _mapping(resources.get(kind)).get(resource):
                    problems.append(f"{manifest.ref()}: container {container.get('name')}: no {kind}.{resource}")
    return problems


def _check_probes(manifest: Manifest, pod: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for container in _list(pod.get("containers")):
        cref = f"{manifest.ref()}: container {container.get('name')}"
        ports = _list(container.get("ports"))
        numbers = {port.get("containerPort") for port in ports}
        names = {port.get("name") for port in ports}
        for probe_name in ("startupProbe", "readinessProbe", "livenessProbe"):
            probe = _mapping(container.get(probe_name))
            if not probe:
                problems.append(f"{cref}: no {probe_name}")
                continue
            grpc_probe = _mapping(probe.get("grpc"))
            http_probe = _mapping(probe.get("httpGet"))
            if grpc_probe:
                if grpc_probe.get("port") not in numbers:
                    problems.append(
                        f"{cref}: {probe_name} asks gRPC port {grpc_probe.get('port')}, not a container port"
                    )
            elif http_probe:
                port = http_probe.get("port")
                if port not in numbers and port not in names:
                    problems.append(f"{cref}: {probe_name} asks HTTP port {port}, not a container port")
            else:
                problems.append(f"{cref}: {probe_name} must be a gRPC or an HTTP probe")
    return problems


def _looks_secret(name: str) -> bool:
    return any(part in name.upper() for part in SECRET_NAME_PARTS)


def _check_secret_env(manifest: Manifest, pod: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for container in _list(pod.get("containers")) + _list(pod.get("initContainers")):
        for variable in _list(container.get("env")):
            name = str(variable.get("name", ""))
            if _looks_secret(name) and "secretKeyRef" not in _mapping(variable.get("valueFrom")):
                problems.append(f"{manifest.ref()}: {name} must come from a Secret (secretKeyRef), not a value")
    return problems


def _default_denies(policy: Manifest) -> bool:
    """True for a NetworkPolicy that denies all ingress and all egress of the pods it selects."""
    spec = _mapping(policy.obj.get("spec"))
    types = set(_list(spec.get("policyTypes")))
    return {"Ingress", "Egress"} <= types and not spec.get("ingress") and not spec.get("egress")


def _check_network_policy(manifest: Manifest, pod: Mapping[str, Any], policies: Sequence[Manifest]) -> list[str]:
    labels = _mapping(_mapping(pod.get("metadata")).get("labels"))
    selecting = [
        p for p in policies if _selector_matches(_mapping(_mapping(p.obj.get("spec")).get("podSelector")), labels)
    ]
    if not any(_default_denies(policy) for policy in selecting):
        return [f"{manifest.ref()}: no NetworkPolicy denying all ingress and egress selects its pods"]
    allowing = [policy for policy in selecting if not _default_denies(policy)]
    if not allowing:
        return [f"{manifest.ref()}: no NetworkPolicy allows its pods anything (not even DNS)"]
    return []


def _check_references(manifests: Sequence[Manifest]) -> list[str]:
    """Services, HPAs and PDBs point at Deployments that exist."""
    problems: list[str] = []
    deployments = {m.name: m for m in manifests if m.kind == "Deployment"}
    pod_labels = [_mapping(_mapping(_pod_template(d).get("metadata")).get("labels")) for d in deployments.values()]
    for manifest in manifests:
        spec = _mapping(manifest.obj.get("spec"))
        if manifest.kind == "Service":
            selector = {"matchLabels": _mapping(spec.get("selector"))}
            if not any(_selector_matches(selector, labels) for labels in pod_labels):
                problems.append(f"{manifest.ref()}: selects no Deployment's pods")
        elif manifest.kind == "HorizontalPodAutoscaler":
            target = _mapping(spec.get("scaleTargetRef"))
            if target.get("kind") != "Deployment" or target.get("name") not in deployments:
                problems.append(
                    f"{manifest.ref()}: scales {target.get('kind')}/{target.get('name')}, not a rendered Deployment"
                )
        elif manifest.kind == "PodDisruptionBudget" and not any(
            _selector_matches(_mapping(spec.get("selector")), labels) for labels in pod_labels
        ):
            problems.append(f"{manifest.ref()}: selects no Deployment's pods")
    return problems


def check_policies(manifests: Sequence[Manifest]) -> list[str]:
    """SIMfleet's rules for every workload (Deployment and Job) and the objects around them."""
    problems: list[str] = []
    policies = [m for m in manifests if m.kind == "NetworkPolicy"]
    for manifest in manifests:
        problems += _check_labels(manifest, manifest.labels, "metadata")
        if manifest.kind not in WORKLOAD_KINDS:
            continue
        template = _pod_template(manifest)
        pod = _mapping(template.get("spec"))
        problems += _check_labels(
            manifest, _mapping(_mapping(template.get("metadata")).get("labels")), "its pod template"
        )
        problems += _check_security(manifest, pod)
        problems += _check_resources(manifest, pod)
        problems += _check_secret_env(manifest, pod)
        problems += _check_network_policy(manifest, template, policies)
        if manifest.kind == "Deployment":
            problems += _check_probes(manifest, pod)
    for manifest in manifests:
        if manifest.kind == "ConfigMap":
            for key in _mapping(manifest.obj.get("data")):
                if _looks_secret(str(key)):
                    problems.append(f"{manifest.ref()}: {key} looks like a secret: it belongs in the Secret")
    problems += _check_references(manifests)
    return problems


# -- putting it together -------------------------------------------------------------


def check_chart(charts_dir: Path, chart: str, environment: str | None) -> Report:
    """Render, lint, validate and check one chart under its defaults or an environment's values."""
    report = Report(chart, environment or "default values")
    values = values_for(chart, environment)
    report.problems += lint(charts_dir, chart, values)
    try:
        report.manifests = render(charts_dir, chart, values)
    except ChartError as exc:
        report.problems.append(f"render: {exc}")
        return report
    if not report.manifests:
        report.problems.append("render: no objects")
    report.problems += validate(report.manifests)
    report.problems += check_policies(report.manifests)
    return report


def check_all(charts_dir: Path, charts: Sequence[str], environments: Sequence[str | None]) -> list[Report]:
    reports: list[Report] = []
    library_problems = lint(charts_dir, LIBRARY)
    if library_problems:
        reports.append(Report(LIBRARY, "default values", problems=library_problems))
    for chart in charts:
        for environment in environments:
            reports.append(check_chart(charts_dir, chart, environment))
    return reports


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/charts.py", description=__doc__.splitlines()[0])
    parser.add_argument("--chart", action="append", choices=CHART_NAMES, help="check only this chart (repeatable)")
    parser.add_argument(
        "--environment",
        action="append",
        help="check only under these values: 'default' or a file name of deploy/environments (repeatable)",
    )
    args = parser.parse_args(argv)
    charts = args.chart or list(CHART_NAMES)
    chosen = args.environment or ["default", *environment_names()]
    known = {"default", *environment_names()}
    unknown = [name for name in chosen if name not in known]
    if unknown:
        parser.error(f"unknown environment(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    environments: list[str | None] = [None if name == "default" else name for name in chosen]
    with tempfile.TemporaryDirectory(prefix="simfleet-charts-") as workdir:
        try:
            charts_dir = build_charts(Path(workdir))
        except ChartError as exc:
            print(f"FAIL {exc}", file=sys.stderr)
            return 1
        reports = check_all(charts_dir, charts, environments)
    failed = 0
    for report in reports:
        if report.problems:
            failed += 1
            print(f"FAIL {report.title}: {len(report.problems)} problem(s)")
            for problem in report.problems:
                print(f"  - {problem}")
        else:
            kinds = sorted({m.kind for m in report.manifests})
            print(f"ok   {report.title}: {len(report.manifests)} objects ({', '.join(kinds)})")
    if failed:
        print(f"{failed} of {len(reports)} chart checks failed", file=sys.stderr)
        return 1
    print(f"all {len(reports)} chart checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
