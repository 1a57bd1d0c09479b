"""billing's roles: one process runs everything, or the API and the rater run apart, each taking only its part."""

from __future__ import annotations

from pathlib import Path

from billing.main import build

from .conftest import settings_for

RATING = "billing-rating"


def test_each_role_runs_its_part_and_together_they_run_everything(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'billing.db'}"
    wiring = {r: build(settings_for(url, role=r)).runtime.wiring for r in ("all", "api", "rater")}
    everything, api, rater = wiring["all"], wiring["api"], wiring["rater"]
    # The rater rates and keeps the catalogue it prices with; nothing else, and no API.
    assert rater == {"servicers": [], "consumers": [RATING], "tasks": ["catalogue"]}
    # The API runs all the rest.
    assert RATING not in api["consumers"]
    assert api["servicers"] == everything["servicers"] and len(api["servicers"]) == 9
    assert sorted(api["consumers"] + rater["consumers"]) == sorted(everything["consumers"])
    assert set(api["tasks"]) | set(rater["tasks"]) == set(everything["tasks"])
    assert everything["tasks"].count("catalogue") == 1
