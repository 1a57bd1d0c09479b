"""``python -m accounts`` serves; ``python -m accounts migrate`` applies migrations and exits."""

from __future__ import annotations

import asyncio
import sys

from accounts.main import migrate, serve
from accounts.settings import AccountsSettings


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    settings = AccountsSettings()
    if command == "serve":
        asyncio.run(serve(settings))
    elif command == "migrate":
        asyncio.run(migrate(settings))
    else:
        sys.exit(f"usage: python -m accounts [serve|migrate] (got {command!r})")


if __name__ == "__main__":
    main()
