"""Running the platform in the foreground until Ctrl-C, SIGTERM or a child's death.

:func:`run_foreground` is what ``make up`` does: start, wait until ready, run
the ``when_ready`` step (seed, print instructions), then watch the children.
SIGINT/SIGTERM stop everything in order and give exit status 0; a child that
dies on its own stops the rest and gives 1 with its log tail; taken ports give 2.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TextIO

from simfleet_devstack.platform import Platform, PlatformError, PortsInUseError
from simfleet_devstack.process import ManagedProcess

EXIT_OK = 0
EXIT_CHILD_FAILED = 1
EXIT_PORTS_IN_USE = 2


class StopRequested(BaseException):
    """Raised in the main thread by SIGINT/SIGTERM (a BaseException, like KeyboardInterrupt)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise StopRequested(signum)


def raise_on_stop_signals() -> None:
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)


def ignore_stop_signals() -> None:
    """While stopping, a second Ctrl-C must not cut the orderly stop short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def watch(platform: Platform, poll: float = 0.25) -> ManagedProcess:
    """Block until a child that should run has exited, and return it (signals interrupt this)."""
    while True:
        dead = platform.dead_process()
        if dead is not None:
            return dead
        time.sleep(poll)


class LogEcho:
    """Copies new lines of the children's logs to the terminal, short and prefixed with the process name."""

    def __init__(self, paths: dict[str, Path], out: TextIO, poll: float = 0.2) -> None:
        self._paths = paths
        self._out = out
        self._poll = poll
        self._offsets = {name: _size(path) for name, path in paths.items()}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="log-echo", daemon=True)
        self._width = max((len(name) for name in paths), default=0)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._flush()

    def _run(self) -> None:
        while not self._stop.wait(self._poll):
            self._flush()

    def _flush(self) -> None:
        for name, path in self._paths.items():
            try:
                with open(path, "rb") as handle:
                    handle.seek(self._offsets[name])
                    data = handle.read()
            except FileNotFoundError:
                continue
            end = data.rfind(b"\n") + 1
            if not end:
                continue
            self._offsets[name] += end
            for raw in data[:end].decode("utf-8", errors="replace").splitlines():
                line = shorten(raw)
                if line.strip() and not _is_probe(line):
                    self._out.write(f"{name:>{self._width}} | {line}\n")
            self._out.flush()


def shorten(line: str, width: int = 160) -> str:
    """A JSON log record as ``level message``; other lines as they are; cut to ``width``."""
    with contextlib.suppress(ValueError):
        record = json.loads(line)
        if isinstance(record, dict) and "message" in record:
            line = f"{str(record.get('level', '')).upper():<7} {record['message']}"
    return line if len(line) <= width else line[: width - 1] + "…"


_PROBES = ("GET /readyz", "GET /healthz")


def _is_probe(line: str) -> bool:
    """The launcher's own readiness polling, which would bury the interesting lines."""
    return any(probe in line for probe in _PROBES)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def run_foreground(
    platform: Platform,
    *,
    when_ready: Callable[[Platform], None],
    ready_timeout: float = 90.0,
    echo_logs: bool = True,
    out: TextIO = sys.stderr,
) -> int:
    """Run the platform until a stop signal (exit 0), a child's death (1) or taken ports (2)."""
    raise_on_stop_signals()
    echo: LogEcho | None = None
    try:
        platform.start()
        if echo_logs:
            echo = LogEcho({name: p.log_path for name, p in platform.processes.items()}, out)
            echo.start()
        platform.wait_ready(ready_timeout)
        when_ready(platform)
        dead = watch(platform)
        out.write(
            f"\n{dead.name} exited unexpectedly with status {dead.returncode}; stopping the platform.\n"
            f"--- last lines of {dead.log_path} ---\n{dead.log_tail()}\n"
        )
        return EXIT_CHILD_FAILED
    except StopRequested as stop:
        out.write(f"\n{signal.Signals(stop.signum).name} received: stopping the platform...\n")
        return EXIT_OK
    except PortsInUseError as exc:
        out.write(f"cannot start the platform: {exc}\nStop whatever uses them (an earlier `make up`?) and retry.\n")
        return EXIT_PORTS_IN_USE
    except PlatformError as exc:
        out.write(f"the platform failed: {exc}\n")
        return EXIT_CHILD_FAILED
    finally:
        ignore_stop_signals()
        started = bool(platform.processes)
        platform.stop()
        if echo is not None:
            echo.stop()
        if started:
            out.write("stopped.\n")
        out.flush()
