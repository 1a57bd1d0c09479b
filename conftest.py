"""The suite runs on two pytest-xdist workers (`make test`): tests that share a running platform stay together.

A folder of cross-service tests shares one platform (``tests/e2e``, ``tests/security``, ``tests/contract``,
``tests/observability``), and each fault test module starts its own: each of those is one unit of work, so one
worker starts the platform once and runs all of its tests. The console's browser tests
(``tests/e2e/test_console*.py``) are a unit of their own with a platform of their own, so that the two workers
share the end-to-end tests rather than one running them all while the other runs out of work.
Other tests are shared out a module at a time (xdist's ``loadscope``), the platforms first: they are the longest
units, so the workers finish together.
"""

from __future__ import annotations

from typing import Any

_PACKAGE_PLATFORMS = ("e2e", "security", "contract", "observability")


def platform_group(nodeid: str) -> str | None:
    """The platform a test shares (its unit of work), or None for a test that shares none."""
    parts = nodeid.split("::", 1)[0].split("/")
    if len(parts) < 3 or parts[0] != "tests":
        return None
    if parts[1] == "e2e" and parts[2].startswith("test_console"):
        return "tests/e2e/console"
    if parts[1] in _PACKAGE_PLATFORMS:
        return f"tests/{parts[1]}"
    if parts[1] == "fault":
        return "/".join(parts[:3])
    return None


def pytest_xdist_make_scheduler(config: Any, log: Any) -> Any:
    # xdist's own ``loadgroup`` cannot be used: it renames items' node ids, which pytest 9 no longer reads.
    from xdist.scheduler import LoadScopeScheduling

    class PlatformScopes(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return platform_group(nodeid) or super()._split_scope(nodeid)

    return PlatformScopes(config, log)
