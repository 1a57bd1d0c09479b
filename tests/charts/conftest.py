"""Fixtures of the chart tests: the charts built once per session, each render memoized.

Everything goes through tools/charts.py, the same code `make charts` runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools import charts as chart_tools

ENVIRONMENTS: list[str | None] = [None, *chart_tools.environment_names()]


class Renders:
    """Renders of the built charts, each computed once."""

    def __init__(self, charts_dir: Path) -> None:
        self.charts_dir = charts_dir
        self._cache: dict[tuple[str, str | None], list[chart_tools.Manifest]] = {}

    def get(self, chart: str, environment: str | None = None) -> list[chart_tools.Manifest]:
        key = (chart, environment)
        if key not in self._cache:
            self._cache[key] = chart_tools.render(self.charts_dir, chart, chart_tools.values_for(chart, environment))
        return self._cache[key]

    def render(self, chart: str, values: dict[str, Any]) -> list[chart_tools.Manifest]:
        """A one-off render with explicit values (not memoized)."""
        return chart_tools.render(self.charts_dir, chart, values)


@pytest.fixture(scope="session")
def charts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return chart_tools.build_charts(tmp_path_factory.mktemp("charts"))


@pytest.fixture(scope="session")
def renders(charts_dir: Path) -> Renders:
    return Renders(charts_dir)


def find(manifests: list[chart_tools.Manifest], kind: str, name: str | None = None) -> list[chart_tools.Manifest]:
    return [m for m in manifests if m.kind == kind and (name is None or m.name == name)]
