"""``python -m identity`` serves; ``python -m identity migrate`` applies migrations and exits."""

from __future__ import annotations

import asyncio
import sys

from identity.main import migrate, serve
from identity.settings import IdentitySettings


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    settings = IdentitySettings()
    if command == "serve":
        asyncio.run(serve(settings))
    elif command == "migrate":
        asyncio.run(migrate(settings))
    else:
        sys.exit(f"usage: python -m identity [serve|migrate] (got {command!r})")


if __name__ == "__main__":
    main()
