"""``python -m simfleet_devstack [up]``: the whole platform on this machine (what ``make up`` runs).

Data (SQLite files, the NATS store, logs) lives in ``<repo>/.data`` and is reused
by the next run. Ctrl-C stops everything.

``python -m simfleet_devstack seed-scale [--lines N]`` (``make seed-scale``), while
the platform runs: a customer with a million lines (or N) for scale work, their
lines registered in netsim's HLR; see :mod:`simfleet_devstack.scale`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TextIO

import grpc

from simfleet_devstack import scale
from simfleet_devstack.platform import Platform, PlatformConfig, PlatformError
from simfleet_devstack.seed import DEMO_LINES_PREFIX, DEMO_MANAGER, DEMO_OPERATOR, DEMO_SUPPORT
from simfleet_devstack.supervise import run_foreground


def repo_root() -> Path:
    """The repository this package was installed from (editable), else the one around the current folder."""
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for folder in (start, *start.parents):
            if (folder / "libs" / "devstack").is_dir() and (folder / "Makefile").is_file():
                return folder
    return Path.cwd().resolve()


def sign_in_help(platform: Platform) -> str:
    gateway, console = platform.gateway_url, platform.console_url
    web = f"{gateway}/" if platform.config.web_dir else "not built (make up builds it from web/)"
    phone, email, password = DEMO_MANAGER.phone, DEMO_MANAGER.email, DEMO_MANAGER.password
    return f"""
SIMfleet is running.
  web console          {web}
  gateway (REST API)   {gateway}        API docs: {gateway}/docs
  netsim console       {console}        simulated handsets and mailboxes
  identity gRPC        {platform.identity_target}
  accounts gRPC        {platform.accounts_target}
  inventory gRPC       {platform.inventory_target}
  billing gRPC         {platform.billing_target}
  ticketing gRPC       {platform.ticketing_target}
  notifications gRPC   {platform.notifications_target}
  NATS                 {platform.nats_url}
  data and logs        {platform.data_dir}

The demo customer is Demo Logistics LLC: a general account, 3 business and 6
personal accounts, and departments, cities and a branch its manager drew.
Sign in as its profile manager ({DEMO_MANAGER.display_name}, {phone}, {email}):

  1. Ask for a one-time code by SMS (or "channel": "email"):
       curl -s -X POST {gateway}/v1/auth/otp -H 'content-type: application/json' \\
            -d '{{"phone": "{phone}", "channel": "sms"}}'
     The answer carries a challenge_id.
  2. Read the code on the simulated handset (SMS) or in the mailbox (email):
       curl -s {console}/handsets/{phone}/sms
       curl -s {console}/mailboxes/{email}
  3. Exchange it for tokens:
       curl -s -X POST {gateway}/v1/auth/otp/verify -H 'content-type: application/json' \\
            -d '{{"challenge_id": "<challenge_id>", "code": "<6 digits>"}}'

  Or sign in with the password:
       curl -s -X POST {gateway}/v1/auth/password -H 'content-type: application/json' \\
            -d '{{"phone": "{phone}", "password": "{password}"}}'

  Then: curl -s {gateway}/v1/me -H 'authorization: Bearer <access_token>'
        curl -s '{gateway}/v1/nodes?view=tree' -H 'authorization: Bearer <access_token>'

The back-office (operator staff, /v1/admin): {DEMO_OPERATOR.phone}, password {DEMO_OPERATOR.password}.
The support desk (/v1/admin/tickets): {DEMO_SUPPORT.phone}, password {DEMO_SUPPORT.password}.

Ctrl-C stops everything.
"""


def _seed_and_greet(out: TextIO) -> Callable[[Platform], None]:
    def when_ready(platform: Platform) -> None:
        try:
            created = platform.seed()
        except grpc.RpcError as exc:
            raise PlatformError(
                f"onboarding the demo customer failed: {exc.code().name} {exc.details()}",
                service="accounts",
                log_tail=platform.processes["accounts"].log_tail(),
            ) from exc
        out.write(f"\ndemo customer {'onboarded' if created else 'already there'}\n")
        out.write(sign_in_help(platform))
        out.flush()

    return when_ready


LOCAL_USAGE = {"NETSIM_USAGE_RECORDS_PER_SECOND": "2", "NETSIM_USAGE_MSISDN_PREFIXES": DEMO_LINES_PREFIX}
"""``make up``'s network makes a gentle flow of usage for the demo customer's lines (the tests' platform makes none).

They seed a fresh database only: the console's ``/ui/usage`` changes the stored settings, which then win."""


def with_local_usage(config: PlatformConfig) -> PlatformConfig:
    """``config`` with :data:`LOCAL_USAGE` under netsim's environment (what is given there already wins)."""
    extra = {name: dict(env) for name, env in config.extra_env.items()}
    extra["netsim"] = {**LOCAL_USAGE, **extra.get("netsim", {})}
    return replace(config, extra_env=extra)


def up(config: PlatformConfig, *, echo_logs: bool = True, out: TextIO = sys.stdout) -> int:
    """Run the platform in the foreground; the exit status of ``make up``."""
    config = with_local_usage(config)
    out.write(f"starting SIMfleet (data in {config.data_dir}, logs in {config.data_dir / 'logs'})\n")
    out.flush()
    when_ready = _seed_and_greet(out)
    return run_foreground(Platform(config), when_ready=when_ready, echo_logs=echo_logs, out=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simfleet_devstack", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        default="up",
        choices=["up", "seed-scale"],
        help="up (default): run the platform; seed-scale: a customer with many lines, on the running platform",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="default: <repository>/.data")
    parser.add_argument("--quiet", action="store_true", help="up: do not copy the services' logs to the terminal")
    parser.add_argument(
        "--lines", type=int, default=scale.DEFAULT_LINES, help="seed-scale: how many lines (default 1,000,000)"
    )
    args = parser.parse_args(argv)
    data_dir = (args.data_dir or repo_root() / ".data").resolve()
    # `make up` builds the console (web/dist) first, and again whenever web/ changes.
    web_dir = repo_root() / "web" / "dist"
    config = PlatformConfig(data_dir=data_dir, web_dir=web_dir if (web_dir / "index.html").is_file() else None)
    if args.command == "seed-scale":
        return scale.main(Platform(config), lines=args.lines)
    return up(config, echo_logs=not args.quiet)


if __name__ == "__main__":
    sys.exit(main())
