"""A real Prometheus scrapes the local platform: every target is up, every query of the dashboards and rules runs.

Debian's ``prometheus`` binary runs with its own configuration and storage in a
temporary folder, on a free port, scraping every second the metrics ports of
identity and netsim and the gateway's ``/metrics`` (NATS has no Prometheus
endpoint), with ``deploy/prometheus/rules.yaml`` loaded and evaluated every
second. After a small workload of sign-ins every query the dashboards and the
rules use must evaluate without error, and the dashboards' queries must return
data, except the few in :data:`MAY_BE_EMPTY` whose events a healthy run never
produces. Without the binary the test is skipped, except in CI (``CI=true``).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from simfleet_devstack.platform import Platform
from simfleet_runtime.testing import free_port
from tests.observability.support import (
    JOB_OF_PROCESS,
    JOBS,
    RULES_FILE,
    Query,
    dashboard_queries,
    metric_names,
    recording_rules,
    required_binary,
    rule_queries,
    rules,
    sign_in_workload,
)

pytestmark = pytest.mark.e2e

NAMESPACE = "simfleet-observability"
"""Added to every target, as the Kubernetes service discovery would."""
DEADLINE = 20.0
"""Seconds each wait may take (Prometheus ready, targets up, the workload seen, rules evaluated)."""
MAY_BE_EMPTY = {
    "simfleet_nats_publish_failed_total": "JetStream acknowledges every publish in a healthy run",
    "simfleet_gateway_rate_limited_total": "the tests lift the gateway's rate limits (tests.helpers.E2E_ENV)",
    "simfleet_billing_money_moved_minor_units_total": "the workload posts no entry (its currency label comes with one)",
}
"""Metrics whose series appear only with an event the workload does not cause, and why."""


class PrometheusServer:
    """``prometheus`` on a free port with a configuration of its own, stopped on exit."""

    def __init__(self, folder: Path, targets: dict[str, str]) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "prometheus.log"
        addresses: dict[str, list[str]] = {}
        for process, url in targets.items():
            job = JOB_OF_PROCESS.get(process, process)
            addresses.setdefault(job, []).append(url.removeprefix("http://").split("/", 1)[0])
        scrape_configs = [
            {
                "job_name": job,
                "metrics_path": "/metrics",
                "static_configs": [{"targets": found, "labels": {"namespace": NAMESPACE}}],
            }
            for job, found in addresses.items()
        ]
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES_FILE)],
            "scrape_configs": scrape_configs,
        }
        self.config = folder / "prometheus.yml"
        self.config.write_text(json.dumps(config, indent=2))  # JSON is YAML
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PrometheusServer:
        binary = required_binary("prometheus")
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={self.config}",
                    f"--storage.tsdb.path={self.folder / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--storage.tsdb.retention.time=1h",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self.wait(lambda: self._ready(), "Prometheus ready")
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise AssertionError(f"prometheus exited ({self._process.returncode}):\n{self.log.read_text()[-3000:]}")
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def wait(self, check: Callable[[], Any], what: str) -> Any:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.25)
        raise AssertionError(f"{what}: not within {DEADLINE:.0f}s\n{self.log.read_text()[-3000:]}")

    def api(self, path: str, **params: str) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=10)
        body: dict[str, Any] = response.json()
        return body

    def query(self, expr: str) -> list[dict[str, Any]]:
        body = self.api("query", query=expr)
        assert body["status"] == "success", f"{expr}\n{body.get('errorType')}: {body.get('error')}"
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def value(self, expr: str) -> float | None:
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None


def scraped_value(platform: Platform, process: str, sample: str) -> float:
    """A sample's value read straight from a process's /metrics page."""
    for line in httpx.get(platform.metrics_urls()[process], timeout=10).text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{sample} is not on {process}'s page")


@pytest.fixture(scope="module")
def prometheus(metrics_platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """Prometheus scraping the platform, after a workload it has seen and with every rule evaluated once."""
    with PrometheusServer(tmp_path_factory.mktemp("prometheus"), metrics_platform.metrics_urls()) as server:
        server.wait(lambda: all_targets_up(server), "every target up")
        sign_in_workload(metrics_platform)
        for process, sample, query in (
            (
                "identity",
                'simfleet_identity_sign_ins_total{method="otp_email",result="succeeded"}',
                'sum(simfleet_identity_sign_ins_total{method="otp_email",result="succeeded"})',
            ),
            ("netsim", "simfleet_netsim_mail_received_total", "sum(simfleet_netsim_mail_received_total)"),
            (
                "gateway",
                'simfleet_http_requests_total{method="POST",route="/v1/auth/logout",status="204"}',
                'sum(simfleet_http_requests_total{route="/v1/auth/logout",status="204"})',
            ),
        ):
            expected = scraped_value(metrics_platform, process, sample)
            server.wait(lambda q=query, e=expected: server.value(q) == e, f"Prometheus sees {sample} = {expected}")
        server.wait(lambda: rules_evaluated(server), "every rule evaluated")
        # The gateway's API series exist since the workload: rates over them need two scrapes.
        server.wait(lambda: not unrecorded(server), "every recording rule recording")
        yield server


def all_targets_up(server: PrometheusServer) -> bool:
    targets = server.api("targets")["data"]["activeTargets"]
    jobs = {t["labels"]["job"] for t in targets}
    return (
        jobs == set(JOBS)
        and len(targets) == len(JOBS) + len(JOB_OF_PROCESS)
        and all(t["health"] == "up" for t in targets)
    )


def rules_evaluated(server: PrometheusServer) -> bool:
    evaluated = [r for g in server.api("rules")["data"]["groups"] for r in g["rules"]]
    return len(evaluated) == len(rules()) and all(r["health"] != "unknown" for r in evaluated)


def unrecorded(server: PrometheusServer) -> list[str]:
    return [rule["record"] for rule in recording_rules() if not server.query(rule["record"])]


def test_every_target_is_up_and_every_process_ready(prometheus: PrometheusServer) -> None:
    targets = prometheus.api("targets")["data"]["activeTargets"]
    assert {t["labels"]["job"]: t["health"] for t in targets} == dict.fromkeys(JOBS, "up")
    assert sorted(t["labels"]["job"] for t in targets) == sorted([*JOBS, *JOB_OF_PROCESS.values()])  # billing twice
    ready = [(r["metric"]["job"], float(r["value"][1])) for r in prometheus.query("simfleet_service_ready")]
    assert sorted(ready) == sorted((job, 1.0) for job in [*JOBS, *JOB_OF_PROCESS.values()])


def test_every_rule_evaluates_and_every_recording_rule_records(prometheus: PrometheusServer) -> None:
    evaluated = [r for g in prometheus.api("rules")["data"]["groups"] for r in g["rules"]]
    broken = [f"{r['name']}: {r.get('lastError')}" for r in evaluated if r["health"] != "ok"]
    assert not broken, "\n".join(broken)
    assert not unrecorded(prometheus), "recording rules with no series after the workload"
    for query in rule_queries():
        prometheus.query(query.expr)  # an alert's expression is empty while it does not fire; it must run


def test_every_metric_the_rules_read_exists(prometheus: PrometheusServer) -> None:
    missing = sorted(
        f"{query.where}: {name}"
        for query in rule_queries()
        for name in metric_names(query.expr)
        if name not in MAY_BE_EMPTY and not prometheus.query(f"count({name})")
    )
    assert not missing, "\n".join(missing)


def test_every_dashboard_query_runs_and_returns_data(prometheus: PrometheusServer) -> None:
    empty = []
    for query in dashboard_queries():
        result = prometheus.query(query.resolved(NAMESPACE))
        if not result and not metric_names(query.expr) & set(MAY_BE_EMPTY):
            empty.append(f"{query.where}: {query.resolved(NAMESPACE)}")
    assert not empty, "queries with no data after the workload:\n" + "\n".join(empty)


def test_the_queries_only_see_this_namespace(prometheus: PrometheusServer) -> None:
    """The namespace variable filters: another namespace's dashboards are empty."""
    for query in dashboard_queries()[:20]:
        assert not prometheus.query(Query(query.where, query.expr, query.job).resolved("elsewhere")), query.where


def test_the_allow_list_is_in_use() -> None:
    used = {name for query in dashboard_queries() + rule_queries() for name in metric_names(query.expr)}
    assert set(MAY_BE_EMPTY) <= used
