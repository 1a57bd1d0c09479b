from __future__ import annotations

import dataclasses
import socket
from pathlib import Path

from simfleet_devstack.platform import PlatformConfig
from simfleet_devstack.ports import port_in_use


def test_free_ports_gives_distinct_free_ports_for_every_listener(tmp_path: Path) -> None:
    config = PlatformConfig.free_ports(tmp_path)
    ports = list(config.ports().values())
    assert len(ports) == 20
    assert len(set(ports)) == len(ports)
    defaults = PlatformConfig(data_dir=tmp_path)
    assert set(ports).isdisjoint(defaults.ports().values())
    assert not any(port_in_use(port) for port in ports)


def test_free_ports_keeps_the_other_fields_and_takes_overrides(tmp_path: Path) -> None:
    config = PlatformConfig.free_ports(tmp_path, operator_key="k", stop_timeout=1.0)
    assert config.data_dir == tmp_path
    assert config.operator_key == "k"
    assert config.stop_timeout == 1.0
    # every port field is covered by ports(), so the launcher checks them all
    port_fields = {f.name for f in dataclasses.fields(config) if f.type == "int"}
    assert {getattr(config, name) for name in port_fields} == set(config.ports().values())


def test_port_in_use_sees_a_listener() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert port_in_use(port)
    assert not port_in_use(port)
