"""The umbrella ships the dashboards and alert rules of deploy/, copied in by tools/sync_chart_assets.py.

The copies must match their sources (run `python tools/sync_chart_assets.py`
after changing deploy/grafana/dashboards/ or deploy/prometheus/rules.yaml).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.charts.conftest import Renders, find
from tools import charts as chart_tools
from tools import sync_chart_assets


def test_the_chart_copies_match_deploy() -> None:
    assert sync_chart_assets.stale() == [], "run: python tools/sync_chart_assets.py"
    assert sync_chart_assets.main(["--check"]) == 0


@pytest.fixture
def fake_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """sync_chart_assets pointed at a scratch repository."""
    monkeypatch.setattr(sync_chart_assets, "ROOT", tmp_path)
    monkeypatch.setattr(sync_chart_assets, "DASHBOARDS", tmp_path / "deploy/grafana/dashboards")
    monkeypatch.setattr(sync_chart_assets, "RULES", tmp_path / "deploy/prometheus/rules.yaml")
    monkeypatch.setattr(sync_chart_assets, "DASHBOARD_COPIES", tmp_path / "charts/simfleet/files/dashboards")
    monkeypatch.setattr(sync_chart_assets, "RULE_COPIES", tmp_path / "charts/simfleet/files/prometheus")
    (tmp_path / "deploy/grafana/dashboards").mkdir(parents=True)
    (tmp_path / "deploy/prometheus").mkdir(parents=True)
    (tmp_path / "deploy/grafana/dashboards/overview.json").write_text('{"title": "Overview"}\n')
    (tmp_path / "deploy/prometheus/rules.yaml").write_text("groups: []\n")
    return tmp_path


def test_stale_missing_and_leftover_copies_are_found_and_fixed(fake_repo: Path) -> None:
    assert sorted(sync_chart_assets.stale()) == [
        "charts/simfleet/files/dashboards/overview.json: missing (copy of deploy/grafana/dashboards/overview.json)",
        "charts/simfleet/files/prometheus/rules.yaml: missing (copy of deploy/prometheus/rules.yaml)",
    ]
    assert sync_chart_assets.main(["--check"]) == 1
    assert len(sync_chart_assets.sync()) == 2
    assert sync_chart_assets.stale() == []

    (fake_repo / "deploy/prometheus/rules.yaml").write_text("groups: [{name: x, rules: []}]\n")
    (fake_repo / "charts/simfleet/files/dashboards/retired.json").write_text("{}\n")
    assert sorted(sync_chart_assets.stale()) == [
        "charts/simfleet/files/dashboards/retired.json: its source is gone",
        "charts/simfleet/files/prometheus/rules.yaml: differs from deploy/prometheus/rules.yaml",
    ]
    assert sync_chart_assets.main([]) == 0
    assert sync_chart_assets.stale() == []
    assert not (fake_repo / "charts/simfleet/files/dashboards/retired.json").exists()
    assert (fake_repo / "charts/simfleet/files/prometheus/rules.yaml").read_text().startswith("groups: [{name: x")


def test_the_prometheus_rule_holds_the_rules_file_unchanged(renders: Renders) -> None:
    rules = find(renders.get(chart_tools.UMBRELLA, "prod"), "PrometheusRule")
    assert len(rules) == 1
    source = yaml.safe_load((chart_tools.ROOT / "deploy/prometheus/rules.yaml").read_text())
    assert source["groups"]
    assert rules[0].obj["spec"]["groups"] == source["groups"]
    assert rules[0].labels["release"] == "kube-prometheus-stack"
    assert not find(renders.get(chart_tools.UMBRELLA), "PrometheusRule")  # off by default: needs the CRD


def test_each_dashboard_file_becomes_a_labelled_config_map(renders: Renders) -> None:
    files = sorted((chart_tools.CHARTS / "simfleet/files/dashboards").glob("*.json"))
    for environment in (None, "prod"):
        maps = [m for m in find(renders.get(chart_tools.UMBRELLA, environment), "ConfigMap") if "dashboard" in m.name]
        assert len(maps) == len(files)
        for config_map in maps:
            assert config_map.labels["grafana_dashboard"] == "1"
            (name, text), *rest = config_map.obj["data"].items()
            assert not rest
            assert text.rstrip("\n") == (chart_tools.CHARTS / "simfleet/files/dashboards" / name).read_text().rstrip(
                "\n"
            )
            json.loads(text)
            if environment == "prod":
                assert config_map.obj["metadata"]["namespace"] == "monitoring"
                assert config_map.annotations == {"grafana_folder": "SIMfleet"}


def test_a_new_dashboard_ships_without_touching_the_templates(tmp_path: Path) -> None:
    charts_dir = chart_tools.build_charts(tmp_path)
    board = {"title": "Sign-in and messaging", "panels": [{"type": "timeseries", "title": "OTPs sent"}]}
    text = json.dumps(board, indent=2) + "\n"
    (charts_dir / "simfleet/files/dashboards").mkdir(parents=True, exist_ok=True)
    (charts_dir / "simfleet/files/dashboards/Sign_In.json").write_text(text)
    manifests = chart_tools.render(charts_dir, chart_tools.UMBRELLA)
    config_map = find(manifests, "ConfigMap", "simfleet-dashboard-sign-in")[0]
    assert config_map.labels["grafana_dashboard"] == "1"
    assert json.loads(config_map.obj["data"]["Sign_In.json"]) == board
    assert chart_tools.validate(manifests) == []
    assert chart_tools.check_policies(manifests) == []


def test_an_empty_rules_folder_fails_the_render(tmp_path: Path) -> None:
    charts_dir = chart_tools.build_charts(tmp_path)
    for path in (charts_dir / "simfleet/files/prometheus").glob("*.yaml"):
        path.unlink()
    with pytest.raises(chart_tools.ChartError, match="sync_chart_assets"):
        chart_tools.render(charts_dir, chart_tools.UMBRELLA, {"prometheusRule": {"enabled": True}})
