"""The repository's own contracts: fresh stubs, clean protos, independent services."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_generated_stubs_are_fresh() -> None:
    result = run(sys.executable, "tools/gen_protos.py", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_protos_pass_buf_lint() -> None:
    result = run(str(BIN / "buf"), "lint", cwd=ROOT / "protos")
    assert result.returncode == 0, result.stdout + result.stderr


def test_protos_keep_what_has_shipped() -> None:
    """No change breaks a client or a stored event built on the contract as it last shipped.

    ``protos/shipped.binpb`` is that contract (``make protos-shipped`` writes it
    from the protos as they are, on purpose, when a breaking change is agreed).
    """
    result = run(str(BIN / "buf"), "breaking", "--against", "shipped.binpb", cwd=ROOT / "protos")
    assert result.returncode == 0, result.stdout + result.stderr


def test_services_do_not_import_each_other() -> None:
    result = run(str(BIN / "lint-imports"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Services and the gateway never import each other KEPT" in result.stdout
    # The images leave these modules out (.dockerignore): nothing that ships may need them.
    assert "Shipped code never imports the test helpers or the scale seeder KEPT" in result.stdout
