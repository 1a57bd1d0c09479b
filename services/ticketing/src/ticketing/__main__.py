"""``python -m ticketing`` serves; ``python -m ticketing migrate`` applies migrations and exits."""

from __future__ import annotations

import asyncio
import sys

from ticketing.main import migrate, serve
from ticketing.settings import TicketingSettings


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    settings = TicketingSettings()
    if command == "serve":
        asyncio.run(serve(settings))
    elif command == "migrate":
        asyncio.run(migrate(settings))
    else:
        sys.exit(f"usage: python -m ticketing [serve|migrate] (got {command!r})")


if __name__ == "__main__":
    main()
