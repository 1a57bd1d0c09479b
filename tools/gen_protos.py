"""Generate the Python stubs of protos/ into libs/protos/ (or another folder).

Usage: python tools/gen_protos.py [OUT_DIR]

The output is committed; tests/contract/test_protos.py regenerates into a
temporary folder and fails when the committed stubs differ.
"""

from __future__ import annotations

import shutil
import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"


def generate(out_dir: Path) -> list[Path]:
    """Generate stubs for every .proto under protos/ into out_dir/simfleet."""
    target = out_dir / "simfleet"
    if target.exists():
        shutil.rmtree(target)
    out_dir.mkdir(parents=True, exist_ok=True)
    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    bindir = Path(sys.executable).parent
    well_known = str(resources.files("grpc_tools") / "_proto")
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        f"--plugin=protoc-gen-mypy={bindir / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={bindir / 'protoc-gen-mypy_grpc'}",
        f"--mypy_out={out_dir}",
        f"--mypy_grpc_out={out_dir}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for folder in [target, *(p for p in target.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()
    (target / "py.typed").touch()
    return sorted(p for p in target.rglob("*") if p.is_file())


def check() -> int:
    """Regenerate into a temporary folder; fail when libs/protos differs."""
    import filecmp
    import tempfile

    committed = ROOT / "libs" / "protos"
    with tempfile.TemporaryDirectory() as tmp:
        fresh = sorted(p.relative_to(tmp) for p in generate(Path(tmp)))
        current = sorted(p.relative_to(committed) for p in (committed / "simfleet").rglob("*") if p.is_file())
        stale = [
            str(p)
            for p in fresh
            if not (committed / p).exists() or not filecmp.cmp(Path(tmp) / p, committed / p, shallow=False)
        ]
        extra = [str(p) for p in current if p not in fresh and p.suffix != ".pyc" and "__pycache__" not in p.parts]
    if stale or extra:
        print("libs/protos is stale; run `make protos` and commit. Differs:", *stale, *extra, sep="\n  ")
        return 1
    print(f"libs/protos is fresh ({len(fresh)} files)")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        raise SystemExit(check())
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "libs" / "protos"
    for path in generate(out):
        print(path.relative_to(out))
