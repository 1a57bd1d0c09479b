"""docs/features.md against the feature catalogue and against what the repository cites.

The catalogue (feature IDs such as ``ID-7`` or ``SIM-13``) is kept with the
product, outside this repository, so a fresh clone cannot read it: its IDs are
written down here (:data:`CATALOGUE`) and docs/features.md carries each
feature's text. The checks: the page lists every catalogue ID once and no other;
every row has a status and, unless not yet, says where the feature lives, with
paths, modules and endpoints that exist; every ID cited anywhere in the
repository's code, protos, docs and tests has a row.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "features.md"

# The catalogue's sections and how many features each has (IDs run from 1, no gaps).
CATALOGUE = {"ID": 11, "AC": 7, "MU": 7, "SIM": 14, "BI": 15, "TK": 4, "AU": 2, "NO": 1, "UI": 3}
CATALOGUE_IDS = {f"{prefix}-{n}" for prefix, count in CATALOGUE.items() for n in range(1, count + 1)}

# A feature ID as the repository cites it: a catalogue section's prefix, a dash, a number.
CITED = re.compile(r"\b(?:{})-\d+\b".format("|".join(CATALOGUE)))
STATUSES = ("done", "partly", "not yet")

SCANNED_SUFFIXES = {".py", ".pyi", ".proto", ".md", ".toml", ".yaml", ".yml", ".txt", ".cfg", ".ini", ".sh"}
SKIPPED_DIRS = {".git", ".venv", ".data", "node_modules", "build", "dist", "__pycache__"}
# Where the top-level packages' sources are, to check the modules the page names.
PACKAGE_DIRS = {
    "identity": "services/identity/src/identity",
    "accounts": "services/accounts/src/accounts",
    "inventory": "services/inventory/src/inventory",
    "netsim": "services/netsim/src/netsim",
    "gateway": "gateway/src/gateway",
    "simfleet_runtime": "libs/runtime/simfleet_runtime",
}
ENDPOINT = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (/\S+)")


@dataclass(frozen=True)
class Row:
    feature_id: str
    status: str
    where: str
    line: int


@cache
def rows() -> list[Row]:
    found = []
    for number, line in enumerate(DOC.read_text().splitlines(), start=1):
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) == 4 and CITED.fullmatch(cells[0]):
            found.append(Row(cells[0], cells[2], cells[3], number))
    return found


def cited_ids() -> dict[str, list[str]]:
    """Every catalogue-style ID cited in the repository's text files (this page aside): ID -> where."""
    cited: dict[str, list[str]] = {}
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.endswith((".egg-info", "_cache"))]
        for name in files:
            path = Path(folder, name)
            if path.suffix not in SCANNED_SUFFIXES or path == DOC:
                continue
            relative = path.relative_to(ROOT).as_posix()
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
                for match in CITED.finditer(line):
                    cited.setdefault(match.group(), []).append(f"{relative}:{number}")
    return cited


def code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


@cache
def endpoints() -> set[tuple[str, str]]:
    from gateway.main import create_app
    from gateway.settings import GatewaySettings

    document = create_app(GatewaySettings()).openapi()
    return {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}


def test_the_page_lists_every_catalogue_feature_once_and_nothing_else() -> None:
    listed = Counter(row.feature_id for row in rows())
    assert listed, f"{DOC.name}: no feature rows (| ID | Feature | Status | Where |)"
    twice = sorted(i for i, n in listed.items() if n > 1)
    assert not twice, f"listed more than once: {twice}"
    unknown = sorted(set(listed) - CATALOGUE_IDS)
    assert not unknown, f"{DOC.name} lists IDs that are not in the catalogue: {unknown}"
    missing = sorted(CATALOGUE_IDS - set(listed))
    assert not missing, f"{DOC.name} leaves out catalogue features: {missing}"


def test_every_cited_feature_id_is_on_the_page() -> None:
    cited = cited_ids()
    assert cited, "no feature ID cited anywhere: the scan is broken"
    listed = {row.feature_id for row in rows()}
    missing = {i: where[:3] for i, where in sorted(cited.items()) if i not in listed}
    assert not missing, f"cited in the repository but not in {DOC.name} (ID: first places): {missing}"


@pytest.mark.parametrize("row", rows(), ids=lambda row: row.feature_id)
def test_every_feature_has_a_status_and_a_place(row: Row) -> None:
    where = f"{DOC.name}:{row.line} {row.feature_id}"
    status = next((s for s in STATUSES if row.status == s or row.status.startswith(s + ":")), None)
    assert status, f"{where}: status {row.status!r} is not one of {STATUSES} (a note after a colon)"
    if status == "partly":
        assert row.status != "partly", f"{where}: partly, but what is missing is not said"
    if status == "not yet":
        assert not row.where, f"{where}: not yet, yet it names a place: {row.where!r}"
        return
    spans = code_spans(row.where) + code_spans(row.status)
    assert spans, f"{where}: {status}, but it does not say where it lives"
    for span in spans:
        if span.endswith(".py") and "/" in span:
            assert (ROOT / span).is_file(), f"{where}: {span} does not exist"
        elif (endpoint := ENDPOINT.match(span)) is not None:
            method, path = endpoint.groups()
            assert (method, path) in endpoints(), f"{where}: the gateway has no {method} {path}"
        elif span.split(".")[0] in PACKAGE_DIRS and re.fullmatch(r"[a-z_][a-z0-9_.]*", span):
            root, *parts = span.split(".")
            base = ROOT / PACKAGE_DIRS[root] / Path(*parts) if parts else ROOT / PACKAGE_DIRS[root]
            assert base.is_dir() or base.with_suffix(".py").is_file(), f"{where}: no module {span}"


def test_the_checks_see_what_they_look_for() -> None:
    beyond = "AC-" + "10"  # not written whole: this file is scanned too
    assert CITED.findall(f"blocks (SIM-2), {beyond} and TK-1; not XID-1 nor SIM-") == ["SIM-2", beyond, "TK-1"]
    assert ENDPOINT.match("GET /v1/lines/{msisdn}")
    assert ("GET", "/v1/lines/{msisdn}") in endpoints()
