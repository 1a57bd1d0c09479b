"""The security regression suite: what attackers try, against the real processes (`../shared/DESIGN.md` § Tested as
an attacker would). One platform for the package; each test works in customers of its own, never the demo data
other suites read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simfleet_devstack.platform import Platform
from tests.helpers import running_platform


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir: Path = tmp_path_factory.mktemp("security-platform")
    with running_platform(data_dir, "security") as running:
        yield running


@pytest.fixture
def api(platform: Platform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.gateway_url, timeout=10, headers={"User-Agent": "simfleet-security"}) as client:
        yield client
