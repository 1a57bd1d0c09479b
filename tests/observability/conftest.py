"""A platform for the metrics tests (started once for the folder, only when a test asks for it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simfleet_devstack.platform import Platform
from tests.helpers import running_platform


@pytest.fixture(scope="package")
def metrics_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """NATS, netsim, identity and the gateway as processes on free ports, the demo data seeded."""
    with running_platform(tmp_path_factory.mktemp("observability"), "obs") as platform:
        yield platform
