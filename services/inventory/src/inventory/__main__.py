"""``python -m inventory`` serves; ``migrate`` applies migrations.

Scale seeding (``python -m inventory.admin.scale``) is no command of the service:
it is left out of the images, and no module of the service imports it.
"""

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
    else:
        sys.exit(f"usage: python -m inventory [serve|migrate] (got {command!r})")


if __name__ == "__main__":
    main()
