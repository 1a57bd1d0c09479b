"""Copy the Grafana dashboards and Prometheus rules into the umbrella chart.

Helm reads files only from inside a chart, so ``charts/simfleet/files/`` holds
copies of the sources of truth:

* ``deploy/grafana/dashboards/*.json`` -> ``charts/simfleet/files/dashboards/``
* ``deploy/prometheus/rules.yaml`` -> ``charts/simfleet/files/prometheus/rules.yaml``

``python tools/sync_chart_assets.py`` brings the copies up to date (and removes
copies whose source is gone); ``--check`` changes nothing and exits 1 when a
copy is stale, missing or left over (tests/charts/test_assets.py does the same).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
RULES = ROOT / "deploy" / "prometheus" / "rules.yaml"
CHART_FILES = ROOT / "charts" / "simfleet" / "files"
DASHBOARD_COPIES = CHART_FILES / "dashboards"
RULE_COPIES = CHART_FILES / "prometheus"


def planned_copies() -> dict[Path, Path]:
    """Each copy in the chart and its source."""
    plan = {DASHBOARD_COPIES / source.name: source for source in sorted(DASHBOARDS.glob("*.json"))}
    if RULES.is_file():
        plan[RULE_COPIES / RULES.name] = RULES
    return plan


def leftovers(plan: dict[Path, Path]) -> list[Path]:
    """Copies in the chart whose source is gone."""
    present = sorted(DASHBOARD_COPIES.glob("*.json")) + sorted(RULE_COPIES.glob("*.yaml"))
    return [path for path in present if path not in plan]


def stale() -> list[str]:
    """What differs between the sources and the chart's copies, one line each; empty when in step."""
    plan = planned_copies()
    problems: list[str] = []
    for copy, source in plan.items():
        name = copy.relative_to(ROOT)
        if not copy.is_file():
            problems.append(f"{name}: missing (copy of {source.relative_to(ROOT)})")
        elif copy.read_bytes() != source.read_bytes():
            problems.append(f"{name}: differs from {source.relative_to(ROOT)}")
    problems += [f"{path.relative_to(ROOT)}: its source is gone" for path in leftovers(plan)]
    return problems


def sync() -> list[str]:
    """Bring the copies in step; returns what changed."""
    plan = planned_copies()
    changed: list[str] = []
    for copy, source in plan.items():
        data = source.read_bytes()
        if copy.is_file() and copy.read_bytes() == data:
            continue
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(data)
        changed.append(f"copied {source.relative_to(ROOT)} -> {copy.relative_to(ROOT)}")
    for path in leftovers(plan):
        path.unlink()
        changed.append(f"removed {path.relative_to(ROOT)}")
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/sync_chart_assets.py", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a copy is out of step")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale()
        for problem in problems:
            print(problem)
        if problems:
            print("run: python tools/sync_chart_assets.py", file=sys.stderr)
            return 1
        return 0
    for line in sync():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
