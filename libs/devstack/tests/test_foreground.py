"""The ``make up`` code path (``simfleet_devstack.__main__.up``) run as a real launcher process on fake services."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from simfleet_devstack.platform import PlatformConfig
from simfleet_runtime.testing import wait_until

from .conftest import LAUNCHER, alive, children_of, write_launcher_config  # type: ignore[import-not-found]

MakeConfig = Callable[..., PlatformConfig]


@contextmanager
def launcher(config: PlatformConfig, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    path = write_launcher_config(config, tmp_path / "launcher.json")
    process = subprocess.Popen(
        [sys.executable, str(LAUNCHER), str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        yield process
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def read_until(process: subprocess.Popen[str], marker: str, timeout: float = 30.0) -> str:
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"{marker!r} not printed; output so far:\n{''.join(seen)}")


def ended(process: subprocess.Popen[str], timeout: float = 60.0) -> tuple[int, str]:
    """The launcher's exit status and the rest of its output, read while it stops: a launcher whose output is not
    read blocks once the pipe is full and never exits, and on a loaded machine stopping ten children takes a while."""
    rest, _ = process.communicate(timeout=timeout)
    return process.returncode, rest or ""


def test_ctrl_c_stops_every_child_and_exits_0(fake_config: MakeConfig, tmp_path: Path) -> None:
    with launcher(fake_config(), tmp_path) as process:
        printed = read_until(process, "Ctrl-C stops everything")
        assert "demo customer onboarded" in printed
        assert "/v1/auth/otp" in printed and "/handsets/+79990000001/sms" in printed
        children = children_of(process.pid)
        assert len(children) == 10  # nats, netsim, identity, accounts, inventory, billing, its rater, ticketing,
        # notifications, gateway
        process.send_signal(signal.SIGINT)
        code, rest = ended(process)
        assert code == 0, rest
        assert "SIGINT received" in rest and "stopped." in rest
        assert not any(alive(pid) for pid in children)


def test_sigterm_stops_cleanly_and_a_second_run_reuses_the_data(fake_config: MakeConfig, tmp_path: Path) -> None:
    config = fake_config()
    with launcher(config, tmp_path) as first:
        read_until(first, "Ctrl-C stops everything")
        first.send_signal(signal.SIGTERM)
        code, rest = ended(first)
        assert code == 0, rest
    with launcher(config, tmp_path) as second:
        printed = read_until(second, "Ctrl-C stops everything")
        assert "demo customer already there" in printed
        second.send_signal(signal.SIGINT)
        code, rest = ended(second)
        assert code == 0, rest


def test_no_orphan_survives_a_sigkilled_launcher(fake_config: MakeConfig, tmp_path: Path) -> None:
    with launcher(fake_config(), tmp_path) as process:
        read_until(process, "Ctrl-C stops everything")
        children = children_of(process.pid)
        assert len(children) == 10 and all(alive(pid) for pid in children)
        process.kill()
        process.wait()
        wait_until(lambda: not any(alive(pid) for pid in children), timeout=10, what="the children to die")


def test_a_child_that_dies_stops_the_rest_and_exits_nonzero_with_its_log(
    fake_config: MakeConfig, tmp_path: Path
) -> None:
    config = fake_config(extra_env={"identity": {"FAKE_EXIT_AFTER": "1.5"}})
    with launcher(config, tmp_path) as process:
        read_until(process, "Ctrl-C stops everything")
        children = children_of(process.pid)
        code, rest = ended(process)
        assert code == 1, rest
        assert "identity exited unexpectedly with status 3" in rest
        assert "fake identity exits on purpose" in rest
        assert not any(alive(pid) for pid in children)


def test_taken_ports_are_named_and_exit_nonzero(fake_config: MakeConfig, tmp_path: Path) -> None:
    config = fake_config()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", config.identity_grpc))
        squatter.listen()
        with launcher(config, tmp_path) as process:
            code, output = ended(process)
            assert code == 2, output
    assert f"identity gRPC {config.identity_grpc}" in output
