from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simfleet_devstack.platform import Platform
from tests.helpers import running_platform


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir: Path = tmp_path_factory.mktemp("platform")
    with running_platform(data_dir, "e2e") as running:
        yield running


@pytest.fixture
def api(platform: Platform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.gateway_url, timeout=10, headers={"User-Agent": "simfleet-e2e"}) as client:
        yield client
