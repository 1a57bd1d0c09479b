"""One platform for the folder (started once, only when a test asks for it), exporting its traces to a receiver.

The metrics, Prometheus and trace tests all read the same running platform: it is started with the usual
``OTEL_*`` variables in its environment, as ``make up`` would be, pointed at an OTLP/HTTP receiver of the tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from simfleet_devstack.platform import Platform
from tests.helpers import running_platform
from tests.observability.otlp import OtlpReceiver


@pytest.fixture(scope="package")
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


@pytest.fixture(scope="package")
def metrics_platform(tmp_path_factory: pytest.TempPathFactory, receiver: OtlpReceiver) -> Iterator[Platform]:
    """Every process on free ports, the demo data seeded, spans exported to ``receiver``."""
    with pytest.MonkeyPatch.context() as env:
        for name in [n for n in os.environ if n.startswith("OTEL_")]:
            env.delenv(name)  # nothing from the machine may redirect or silence the export
        env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        env.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        env.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
        with running_platform(tmp_path_factory.mktemp("observability"), "obs") as platform:
            yield platform
