"""``python -m simfleet_devstack seed-scale``: a customer with a million lines for scale work, on the running platform.

Against the platform ``make up`` runs (or any :class:`Platform`), the way a
real customer would arrive, and then fast:

1. accounts' back-office onboards *Scale Test LLC* (``OnboardCustomer``,
   idempotent by its request id): a general account, a business account and a
   personal account under it, and a profile manager with a known phone and
   password;
2. once inventory has the personal account in its projection of the tree
   (``ListLines`` on it answers the manager), ``python -m
   inventory.admin.scale`` runs with inventory's own environment and writes the lines
   straight into its database, each chunk with the REGISTER commands that
   the running inventory's outbox relay publishes and netsim's HLR applies;
3. it waits until the HLR holds the last line.

Running it again adds nothing (the numbers are there) and says so. This
package imports no service's code: it talks to them over gRPC and runs
inventory as a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import grpc

from simfleet.accounts.v1 import admin_pb2 as accounts_admin
from simfleet.accounts.v1 import admin_pb2_grpc as accounts_admin_grpc
from simfleet.accounts.v1 import hierarchy_pb2
from simfleet.identity.v1 import auth_pb2, auth_pb2_grpc
from simfleet.inventory.v1 import lines_pb2, lines_pb2_grpc
from simfleet.netsim.v1 import hlr_pb2, hlr_pb2_grpc
from simfleet_devstack import probes
from simfleet_devstack.platform import ACCOUNTS, IDENTITY, INVENTORY, NETSIM, Platform
from simfleet_devstack.seed import SeedUser, account_spec, with_inn_check_digit, with_ogrn_check_digit
from simfleet_runtime.context import OPERATOR_KEY

SEEDER = "inventory.admin.scale"
"""The seeder's module, run with inventory's environment (it ships in no image)."""
SCALE_CUSTOMER = "Scale Test LLC"
SCALE_REQUEST_ID = "scale-customer"
SCALE_MANAGER = SeedUser(
    customer_id="",
    phone="+79990005000",
    email="manager@scale.example",
    display_name="Scale Test Profile Manager",
    password="Scale-Passw0rd-2026",  # a published password of the local platform, like the demo ones
)
SCALE_PREFIX = "+7994"
"""The scale customer's numbers: +79940000000 on (the demo's are +79991..., the bench's +79995... and +79996...)."""
SCALE_SERIAL_BASE = 30_000_000
"""Where its SIM serial numbers start (clear of the demo's and the bench's)."""
DEFAULT_LINES = 1_000_000


class ScaleError(RuntimeError):
    """seed-scale cannot go on; the message says why and what to do."""


SCALE_ONBOARDING = accounts_admin.OnboardCustomerRequest(
    request_id=SCALE_REQUEST_ID,
    legal_entity=accounts_admin.LegalEntity(
        name=SCALE_CUSTOMER,
        tax_number=with_inn_check_digit("770999100"),
        registration_number=with_ogrn_check_digit("102770999100"),
        tax_registration_reason_code="770901001",
    ),
    contracts=[accounts_admin.Contract(number="SF-SCALE/0001", signed_on="2026-01-20")],
    general_account=account_spec("Scale Test: general account", 4_300_000_001),
    business_accounts=[
        account_spec("Scale Test: business account", 4_300_000_010, (account_spec("Scale Test: lines", 4_300_000_011),))
    ],
    profile_manager=accounts_admin.ProfileManagerSpec(
        phone=SCALE_MANAGER.phone,
        email=SCALE_MANAGER.email,
        display_name=SCALE_MANAGER.display_name,
        password=SCALE_MANAGER.password,
    ),
)


@dataclass(frozen=True)
class ScaleCustomer:
    customer_id: str
    personal_account_id: str
    account_number: str


@dataclass(frozen=True)
class ScaleResult:
    customer: ScaleCustomer
    lines: int
    """The lines asked for (numbers SCALE_PREFIX + 0 .. lines - 1)."""
    added: int
    registered: int
    """Lines whose HLR registration this run wrote (and saw through)."""
    seed_seconds: float
    register_seconds: float
    """From the end of seeding until the HLR held the last line."""


def scale_number(n: int) -> str:
    return f"{SCALE_PREFIX}{n:07d}"


def check_running(platform: Platform) -> None:
    """ScaleError unless identity, accounts, inventory and netsim answer (``make up`` runs them)."""
    for name, target in (
        (IDENTITY, platform.identity_target),
        (ACCOUNTS, platform.accounts_target),
        (INVENTORY, platform.inventory_target),
        (NETSIM, platform.netsim_target),
    ):
        if not probes.grpc_serving(target, timeout=2.0):
            raise ScaleError(
                f"the platform is not running: {name} does not answer at {target}. "
                "Start it with `make up` (in another terminal) and run this again."
            )
    if platform.config.postgres_url is None:
        database = platform.data_dir / f"{INVENTORY}.db"
        if not database.is_file():
            raise ScaleError(
                f"no inventory database at {database}: the running platform keeps its data elsewhere "
                "(give seed-scale the --data-dir `make up` uses)"
            )


def onboard_scale_customer(platform: Platform, timeout: float = 30.0) -> tuple[ScaleCustomer, bool]:
    """Onboard Scale Test LLC unless it is there; the customer, and whether it was created now."""
    with grpc.insecure_channel(platform.accounts_target) as channel:
        admin = accounts_admin_grpc.AccountsAdminServiceStub(channel)
        operator = ((OPERATOR_KEY, platform.config.operator_key),)
        tax_number = SCALE_ONBOARDING.legal_entity.tax_number
        found = admin.ListCustomers(
            accounts_admin.ListCustomersRequest(query=tax_number), metadata=operator, timeout=timeout
        )
        known = any(c.legal_entity.tax_number == tax_number for c in found.customers)
        answer = admin.OnboardCustomer(SCALE_ONBOARDING, metadata=operator, timeout=timeout)
    [account] = [n for n in answer.nodes if n.kind == hierarchy_pb2.NODE_KIND_PERSONAL_ACCOUNT]
    return ScaleCustomer(answer.customer.id, account.id, account.account_number), not known


def _signed_in(platform: Platform, timeout: float) -> tuple[tuple[tuple[str, str], ...], Callable[[], None]]:
    """The manager's bearer metadata, and how to sign out."""
    channel = grpc.insecure_channel(platform.identity_target)
    auth = auth_pb2_grpc.AuthServiceStub(channel)
    tokens = auth.SignInWithPassword(
        auth_pb2.SignInWithPasswordRequest(phone=SCALE_MANAGER.phone, password=SCALE_MANAGER.password),
        timeout=timeout,
    ).tokens
    bearer = (("authorization", f"Bearer {tokens.access_token}"),)

    def sign_out() -> None:
        try:
            auth.SignOut(auth_pb2.SignOutRequest(refresh_token=tokens.refresh_token), metadata=bearer, timeout=timeout)
        finally:
            channel.close()

    return bearer, sign_out


def _list_lines(platform: Platform, bearer: Any, account_id: str, timeout: float) -> lines_pb2.ListLinesResponse:
    with grpc.insecure_channel(platform.inventory_target) as channel:
        answer: lines_pb2.ListLinesResponse = lines_pb2_grpc.LineServiceStub(channel).ListLines(
            lines_pb2.ListLinesRequest(node_id=account_id, page_size=1), metadata=bearer, timeout=timeout
        )
    return answer


def wait_projected(platform: Platform, bearer: Any, account_id: str, timeout: float = 60.0) -> None:
    """Until inventory knows the personal account (its projection follows accounts' node.created events)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            _list_lines(platform, bearer, account_id, timeout=5.0)
            return
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
            if time.monotonic() > deadline:
                raise ScaleError(
                    f"inventory has not learnt of the personal account {account_id} after {timeout:.0f}s "
                    "(accounts' node.created events do not reach it: is NATS up?)"
                ) from None
        time.sleep(0.2)


def seed_lines(platform: Platform, customer: ScaleCustomer, lines: int, out: TextIO) -> dict[str, Any]:
    """Run ``python -m inventory.admin.scale`` with inventory's environment; its JSON summary."""
    argv = [
        sys.executable,
        "-m",
        SEEDER,
        "--customer-id",
        customer.customer_id,
        "--node-id",
        customer.personal_account_id,
        "--personal-account-id",
        customer.personal_account_id,
        "--count",
        str(lines),
        "--msisdn-prefix",
        SCALE_PREFIX,
        "--serial-base",
        str(SCALE_SERIAL_BASE),
        "--json",
    ]
    summary: dict[str, Any] | None = None
    with subprocess.Popen(
        argv,
        env=platform.env_for(INVENTORY),
        cwd=platform.data_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("{"):
                summary = json.loads(line)
            else:
                out.write(f"  {line}")
                out.flush()
    if child.returncode != 0 or summary is None:
        raise ScaleError(f"python -m {SEEDER} failed (exit status {child.returncode}); see above")
    return summary


def _registered(hlr: hlr_pb2_grpc.HlrServiceStub, msisdn: str) -> bool:
    try:
        hlr.GetSubscriber(hlr_pb2.GetSubscriberRequest(msisdn=msisdn), timeout=5)
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return False
        raise
    return True


def _registered_about(hlr: hlr_pb2_grpc.HlrServiceStub, lines: int) -> int:
    """Roughly how many of the lines the HLR holds (they are registered about in order: a binary search)."""
    low, high = 0, lines  # numbers below ``low`` are there; ``high`` and above are not known to be
    while low < high:
        middle = (low + high) // 2
        if _registered(hlr, scale_number(middle)):
            low = middle + 1
        else:
            high = middle
    return low


def wait_registered(platform: Platform, lines: int, out: TextIO, timeout: float) -> float:
    """Until netsim's HLR holds the last of ``lines``; the seconds it took."""
    started = time.monotonic()
    last_report = started
    with grpc.insecure_channel(platform.netsim_target) as channel:
        hlr = hlr_pb2_grpc.HlrServiceStub(channel)
        while not _registered(hlr, scale_number(lines - 1)):
            now = time.monotonic()
            if now - started > timeout:
                raise ScaleError(
                    f"netsim's HLR does not hold {scale_number(lines - 1)} after {timeout:.0f}s; the registration "
                    "goes on in the background (inventory's outbox keeps the commands): run this again later to check"
                )
            if now - last_report >= 10:
                last_report = now
                out.write(f"  netsim's HLR holds about {_registered_about(hlr, lines):,} of {lines:,} lines\n")
                out.flush()
            time.sleep(0.5)
    return time.monotonic() - started


def seed_scale(
    platform: Platform, *, lines: int = DEFAULT_LINES, out: TextIO = sys.stdout, register_timeout: float | None = None
) -> ScaleResult:
    """The whole of ``seed-scale`` (see the module docstring); ScaleError when it cannot be done."""
    if not 1 <= lines <= 10_000_000:
        raise ScaleError("--lines: 1 to 10,000,000")
    check_running(platform)
    customer, created = onboard_scale_customer(platform)
    out.write(
        f"{SCALE_CUSTOMER} {'onboarded' if created else 'already onboarded'} "
        f"(customer {customer.customer_id}, personal account {customer.account_number})\n"
    )
    out.flush()
    bearer, sign_out = _signed_in(platform, timeout=10.0)
    try:
        wait_projected(platform, bearer, customer.personal_account_id)
        out.write(f"writing {lines:,} lines into inventory's database (python -m {SEEDER})\n")
        out.flush()
        summary = seed_lines(platform, customer, lines, out)
        if not _list_lines(platform, bearer, customer.personal_account_id, timeout=10.0).lines:
            raise ScaleError(
                f"the lines were written into {platform.database_url(INVENTORY)}, but the running inventory does "
                "not show them: does the platform keep its data in another folder (--data-dir)?"
            )
    finally:
        sign_out()
    registered = int(summary["registered"])
    register_seconds = 0.0
    if registered:
        out.write(f"waiting for netsim's HLR to register the {registered:,} new lines\n")
        out.flush()
        register_seconds = wait_registered(
            platform, lines, out, timeout=register_timeout or max(120.0, registered / 500)
        )
    return ScaleResult(
        customer=customer,
        lines=lines,
        added=int(summary["added"]),
        registered=registered,
        seed_seconds=float(summary["seconds"]),
        register_seconds=register_seconds,
    )


def summary_text(platform: Platform, result: ScaleResult) -> str:
    manager = SCALE_MANAGER
    if result.added:
        done = (
            f"{result.added:,} lines added in {result.seed_seconds:.1f}s and registered in netsim's HLR "
            f"({result.registered:,} lines; it held the last of them {result.register_seconds:.1f}s after that)"
        )
    else:
        done = f"nothing to add: {SCALE_CUSTOMER} has its {result.lines:,} lines already"
    gateway = platform.gateway_url
    return f"""
{done}.
{SCALE_CUSTOMER}: numbers {scale_number(0)} to {scale_number(result.lines - 1)} under personal account \
{result.customer.account_number} ({result.customer.personal_account_id}).
Sign in as its profile manager ({manager.display_name}): phone {manager.phone}, password {manager.password}
  curl -s -X POST {gateway}/v1/auth/password -H 'content-type: application/json' \\
       -d '{{"phone": "{manager.phone}", "password": "{manager.password}"}}'
  curl -s '{gateway}/v1/lines?limit=100' -H 'authorization: Bearer <access_token>'
"""


def main(platform: Platform, *, lines: int, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """``seed-scale``'s exit status: 0 done, 1 with the reason on ``err``."""
    try:
        result = seed_scale(platform, lines=lines, out=out)
    except ScaleError as exc:
        err.write(f"seed-scale: {exc}\n")
        return 1
    except grpc.RpcError as exc:
        err.write(f"seed-scale: a call to the platform failed: {exc.code().name} {exc.details()}\n")
        return 1
    out.write(summary_text(platform, result))
    out.flush()
    return 0
