"""One child process of the launcher: started in its own session, tied to the launcher's life.

Every child is started with ``start_new_session=True`` so that a Ctrl-C in the
terminal reaches only the launcher (which then stops the children in order),
and with ``PR_SET_PDEATHSIG=SIGTERM`` so that the kernel terminates the child
when the launcher dies, even by SIGKILL. The death signal fires when the
*thread* that started the child exits, so start children from a thread that
lives as long as the launcher (the main thread, normally).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    prctl: Callable[..., int] = libc.prctl
    return prctl


def die_with_parent(parent_pid: int) -> Callable[[], None]:
    """A ``preexec_fn`` that asks the kernel to SIGTERM the child when the launcher dies."""
    prctl = _load_prctl()  # loaded before fork: nothing to look up in the child

    def preexec() -> None:
        if prctl is None:
            return
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        # The launcher may have died between fork() and prctl(): then no signal will come.
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def read_rss_bytes(pid: int) -> int | None:
    """Resident memory of ``pid`` (VmRSS from /proc), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def read_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time ``pid`` has used so far, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def read_cpu_wait_seconds(pid: int) -> float | None:
    """Seconds ``pid``'s main thread has spent runnable but waiting for a CPU (the scheduler's run queue).

    From ``/proc/<pid>/schedstat`` (its second field, in nanoseconds); None when the process is gone or the
    kernel keeps no scheduler statistics. A service's main thread runs its event loop: this is how long the
    loop had work to do and no CPU to do it on.
    """
    try:
        with open(f"/proc/{pid}/schedstat", encoding="ascii") as stat:
            fields = stat.read().split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return int(fields[1]) / 1e9 if len(fields) >= 2 else None


def read_machine_cpu_seconds() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine since boot, summed over its CPUs (/proc/stat)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(value) for value in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal (guest time is inside user)
    idle = fields[3] + fields[4]
    return (total - idle) / ticks, total / ticks


def tail(path: Path, lines: int = 40, since: int = 0) -> str:
    """The last ``lines`` lines of a log file, read from byte ``since`` on."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            start = max(since, size - 64 * 1024)
            handle.seek(start)
            data = handle.read()
    except FileNotFoundError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


class ManagedProcess:
    """A child process whose output goes to a log file; stopped with SIGTERM, then SIGKILL."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env) if env is not None else None
        self.log_path = log_path
        self.cwd = cwd
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_start = 0
        self._terminated: int | None = None  # the pid that was sent SIGTERM by terminate()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def returncode(self) -> int | None:
        """The exit status once the process has ended (negative: killed by that signal)."""
        return self._process.poll() if self._process is not None else None

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, *, truncate_log: bool = False) -> None:
        if self.running():
            raise RuntimeError(f"{self.name} is already running")
        if threading.current_thread() is not threading.main_thread():
            warnings.warn(
                f"{self.name} is started from thread {threading.current_thread().name}: it will get SIGTERM "
                "when that thread ends (PR_SET_PDEATHSIG follows the thread); start it from the main thread",
                RuntimeWarning,
                stacklevel=2,
            )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb" if truncate_log else "ab")  # noqa: SIM115 - closed in stop()
        self._log_start = self._log.tell()
        self._process = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
            preexec_fn=die_with_parent(os.getpid()),
        )

    def log_tail(self, lines: int = 40) -> str:
        """The end of what this run of the process wrote."""
        return tail(self.log_path, lines, since=self._log_start)

    def terminate(self) -> None:
        """SIGTERM without waiting: the process begins its graceful stop (:meth:`stop` then waits for it)."""
        process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            self._terminated = process.pid

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL; returns the exit status. Idempotent."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            try:
                if self._terminated != process.pid:  # one SIGTERM: a second may cut the graceful stop short
                    process.send_signal(signal.SIGTERM)
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        # Anything the child left behind in its session's process group goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None
        return process.returncode

    def kill(self) -> int | None:
        """SIGKILL at once, the way a crash ends a process: no signal handler runs. Idempotent."""
        process = self._process
        if process is None:
            return None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        return process.returncode

    def wait_exit(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` seconds for the process to end by itself."""
        if self._process is None:
            return None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self._process.poll()
            if code is not None:
                return code
            time.sleep(0.02)
        return self._process.poll()
