"""``python -m billing`` serves; ``python -m billing migrate`` applies migrations and exits."""

from __future__ import annotations

import asyncio
import sys

from billing.main import migrate, serve
from billing.settings import BillingSettings


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    settings = BillingSettings()
    if command == "serve":
        asyncio.run(serve(settings))
    elif command == "migrate":
        asyncio.run(migrate(settings))
    else:
        sys.exit(f"usage: python -m billing [serve|migrate] (got {command!r})")


if __name__ == "__main__":
    main()
