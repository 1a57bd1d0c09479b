from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from simfleet_devstack.process import ManagedProcess, read_cpu_seconds, read_rss_bytes
from simfleet_runtime.testing import wait_until

from .conftest import alive  # type: ignore[import-not-found]

IGNORES_SIGTERM = (
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ignoring SIGTERM', flush=True)\n"
    "time.sleep(60)\n"
)


def test_stop_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    child = ManagedProcess("stubborn", [sys.executable, "-c", IGNORES_SIGTERM], log_path=tmp_path / "s.log")
    child.start()
    wait_until(lambda: "ignoring SIGTERM" in child.log_tail(), what="the child to install its handler")
    began = time.monotonic()
    code = child.stop(timeout=0.5)
    assert code == -signal.SIGKILL
    assert 0.5 <= time.monotonic() - began < 5
    assert not child.running()
    assert child.stop(timeout=0.5) == -signal.SIGKILL  # idempotent


def test_stop_lets_a_well_behaved_child_exit_on_sigterm(tmp_path: Path) -> None:
    child = ManagedProcess(
        "sleeper", [sys.executable, "-c", "import time; time.sleep(60)"], log_path=tmp_path / "x.log"
    )
    child.start()
    assert child.running()
    assert child.stop(timeout=5) == -signal.SIGTERM


def test_the_child_runs_in_its_own_session_with_its_environment_and_log(tmp_path: Path) -> None:
    script = "import os; print(os.getsid(0) == os.getpid(), os.environ['ONLY_FOR_CHILD'], flush=True)"
    child = ManagedProcess(
        "probe",
        [sys.executable, "-c", script],
        log_path=tmp_path / "logs" / "probe.log",
        env={**os.environ, "ONLY_FOR_CHILD": "yes"},
    )
    child.start()
    wait_until(lambda: child.returncode is not None, what="the child to finish")
    assert child.returncode == 0
    assert child.log_tail().strip() == "True yes"
    child.stop()
    # a second run appends, and log_tail shows only that run
    child.start()
    wait_until(lambda: child.returncode is not None, what="the second run")
    child.stop()
    assert child.log_tail().strip() == "True yes"
    assert (tmp_path / "logs" / "probe.log").read_text().count("True yes") == 2


def test_rss_and_cpu_of_a_running_process_and_none_once_it_is_gone(tmp_path: Path) -> None:
    script = "import time; print('up', flush=True); time.sleep(60)"
    child = ManagedProcess("sleeper", [sys.executable, "-c", script], log_path=tmp_path / "x.log")
    child.start()
    wait_until(lambda: "up" in child.log_tail(), what="the interpreter to start")
    assert child.pid is not None
    rss = read_rss_bytes(child.pid)
    assert rss is not None and rss > 1024 * 1024
    assert read_cpu_seconds(child.pid) is not None
    child.stop()
    assert read_rss_bytes(child.pid) is None


LAUNCHER_OF_SLEEPERS = """
import sys, time
from pathlib import Path
from simfleet_devstack.process import ManagedProcess
SLEEP = [sys.executable, "-c", "import time; time.sleep(120)"]
children = [ManagedProcess(f"sleeper{i}", SLEEP, log_path=Path(sys.argv[1]) / f"{i}.log") for i in range(2)]
for child in children:
    child.start()
print(" ".join(str(child.pid) for child in children), flush=True)
time.sleep(120)
"""


def test_no_orphan_survives_a_sigkilled_launcher(tmp_path: Path) -> None:
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER_OF_SLEEPERS, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert launcher.stdout is not None
        pids = [int(pid) for pid in launcher.stdout.readline().split()]
        assert len(pids) == 2
        assert all(alive(pid) for pid in pids)
        launcher.kill()
        launcher.wait()
        wait_until(lambda: not any(alive(pid) for pid in pids), timeout=5, what="the orphans to die")
    finally:
        launcher.kill()
        launcher.wait()


def test_starting_from_another_thread_warns_because_the_child_dies_with_that_thread(tmp_path: Path) -> None:
    import threading

    child = ManagedProcess(
        "sleeper", [sys.executable, "-c", "import time; time.sleep(60)"], log_path=tmp_path / "x.log"
    )
    caught: list[Warning] = []

    def start() -> None:
        import warnings

        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            child.start()
        caught.extend(w.message for w in seen)  # type: ignore[misc]

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    try:
        assert any(isinstance(w, RuntimeWarning) and "main thread" in str(w) for w in caught)
        wait_until(lambda: child.returncode is not None, timeout=5, what="PR_SET_PDEATHSIG to end the child")
        assert child.returncode == -signal.SIGTERM
    finally:
        child.stop()
