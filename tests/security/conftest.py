"""The security regression suite: what attackers try, against the real processes (`../shared/DESIGN.md` § Tested as
an attacker would). One platform for the package; each test works in customers of its own, never the demo data
other suites read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from simfleet_devstack.platform import Platform
from tests.helpers import E2E_ENV, running_platform

# The gateway trusts X-Forwarded-For from the test client (127.0.0.1), so that a test can speak from addresses of
# its choosing (an attacker's and an owner's, tests/security/test_lockout.py); a request without it is 127.0.0.1's.
SECURITY_ENV = {**E2E_ENV, "gateway": {**E2E_ENV["gateway"], "GATEWAY_TRUSTED_PROXIES": "127.0.0.1/32"}}


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir: Path = tmp_path_factory.mktemp("security-platform")
    with running_platform(data_dir, "security", extra_env=SECURITY_ENV) as running:
        yield running


@pytest.fixture
def api(platform: Platform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.gateway_url, timeout=10, headers={"User-Agent": "simfleet-security"}) as client:
        yield client
