"""``python -m inventory`` serves; ``python -m inventory migrate`` applies migrations and exits."""

from __future__ import annotations

import asyncio
import sys

from inventory.main import migrate, serve
from inventory.settings import InventorySettings


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    settings = InventorySettings()
    if command == "serve":
        asyncio.run(serve(settings))
    elif command == "migrate":
        asyncio.run(migrate(settings))
    else:
        sys.exit(f"usage: python -m inventory [serve|migrate] (got {command!r})")


if __name__ == "__main__":
    main()
