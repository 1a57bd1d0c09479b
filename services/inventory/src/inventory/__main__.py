"""``python -m inventory`` serves; ``migrate`` applies migrations; ``seed-lines`` writes many lines for scale work."""

from __future__ import annotations

import asyncio
import sys

from inventory.main import migrate, serve
from inventory.settings import InventorySettings


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    if command == "serve":
        asyncio.run(serve(InventorySettings()))
    elif command == "migrate":
        asyncio.run(migrate(InventorySettings()))
    elif command == "seed-lines":
        from inventory.admin.scale import main as seed_lines

        seed_lines(sys.argv[2:])
    else:
        sys.exit(f"usage: python -m inventory [serve|migrate|seed-lines] (got {command!r})")


if __name__ == "__main__":
    main()
