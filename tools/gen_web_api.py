"""Generate the web console's API types (web/src/api/schema.d.ts) from the gateway's OpenAPI document.

Usage: python tools/gen_web_api.py [--check]

The document is made in-process (the gateway's app, no server), then
openapi-typescript (web/node_modules, installed by `npm ci`) turns it into
TypeScript. The output is committed; ``--check`` regenerates into a temporary
folder and fails when the committed file differs (``make web-api-check``, part of
``make test``, like the protos).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from gateway.main import create_app
from gateway.settings import GatewaySettings

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
TARGET = WEB / "src" / "api" / "schema.d.ts"
GENERATOR = WEB / "node_modules" / ".bin" / "openapi-typescript"


def generate(out: Path) -> None:
    if not GENERATOR.exists():
        sys.exit(f"{GENERATOR} is missing: run `npm ci` in web/ (make web-deps) first")
    document = create_app(GatewaySettings()).openapi()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "openapi.json"
        source.write_text(json.dumps(document, indent=2, sort_keys=True))
        subprocess.run([str(GENERATOR), str(source), "--output", str(out)], check=True, capture_output=True)


def main() -> int:
    if "--check" in sys.argv[1:]:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "schema.d.ts"
            generate(fresh)
            if not TARGET.exists() or fresh.read_text() != TARGET.read_text():
                print(f"{TARGET.relative_to(ROOT)} is stale: run `make web-api`", file=sys.stderr)
                return 1
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    generate(TARGET)
    return 0


if __name__ == "__main__":
    sys.exit(main())
