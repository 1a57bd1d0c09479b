from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simfleet_devstack.platform import SERVICES, PlatformConfig

HERE = Path(__file__).parent
FAKE_SERVICE = HERE / "fake_service.py"
LAUNCHER = HERE / "launcher.py"


def fake_commands() -> dict[str, list[str]]:
    return {service: [sys.executable, str(FAKE_SERVICE), service] for service in SERVICES}


@pytest.fixture
def fake_config(tmp_path: Path) -> Callable[..., PlatformConfig]:
    """A config on free ports whose services are fake_service.py; keyword arguments override fields."""

    def make(**overrides: Any) -> PlatformConfig:
        fields: dict[str, Any] = {"service_commands": fake_commands(), "stop_timeout": 5.0}
        fields.update(overrides)
        return PlatformConfig.free_ports(tmp_path / "data", **fields)

    return make


def write_launcher_config(config: PlatformConfig, path: Path) -> Path:
    fields = dataclasses.asdict(config)
    fields["data_dir"] = str(config.data_dir)
    fields["clock_file"] = str(config.clock_file) if config.clock_file else None
    path.write_text(json.dumps(fields))
    return path


def proc_state(pid: int) -> str | None:
    """The process's state letter (R, S, Z...), or None when no such process exists."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("State:"):
                    return line.split()[1]
    except FileNotFoundError:
        return None
    return None


def alive(pid: int) -> bool:
    return proc_state(pid) not in (None, "Z", "X")


def children_of(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found.update(int(child) for child in (task / "children").read_text().split())
        except FileNotFoundError:  # a thread that just ended
            continue
    return found
