"""``python -m netsim`` serves; ``python -m netsim migrate`` applies the migrations and exits.

Configuration comes from the environment (``NETSIM_*``, see :mod:`netsim.settings`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from netsim.main import migrate, serve
from netsim.settings import NetsimSettings
from simfleet_runtime import telemetry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m netsim", description="SIMfleet's network simulator.")
    parser.add_argument(
        "command",
        nargs="?",
        choices=["serve", "migrate"],
        default="serve",
        help="serve (the default) or migrate: apply the database migrations and exit",
    )
    args = parser.parse_args(argv)
    settings = NetsimSettings()
    if args.command == "migrate":
        telemetry.setup_logging(settings.service_name, settings.log_level, settings.log_json)
        migrate(settings)
        return 0
    return asyncio.run(serve(settings))


if __name__ == "__main__":
    sys.exit(main())
