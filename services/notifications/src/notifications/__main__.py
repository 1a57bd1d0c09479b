"""``python -m notifications`` serves; ``python -m notifications migrate`` applies migrations and exits."""

from __future__ import annotations

import asyncio
import sys

from notifications.main import migrate, serve
from notifications.settings import NotificationsSettings


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    settings = NotificationsSettings()
    if command == "serve":
        asyncio.run(serve(settings))
    elif command == "migrate":
        asyncio.run(migrate(settings))
    else:
        sys.exit(f"usage: python -m notifications [serve|migrate] (got {command!r})")


if __name__ == "__main__":
    main()
