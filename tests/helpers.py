"""What the cross-service tests share: a running platform, users, reading codes off handsets."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path
from typing import Any

import grpc
import httpx

from simfleet.billing.v1 import admin_pb2 as billing_admin
from simfleet.billing.v1 import admin_pb2_grpc as billing_admin_grpc
from simfleet.billing.v1 import ledger_pb2
from simfleet_devstack.platform import BILLING_RATER, DATABASE_SERVICES, MODULES, Platform, PlatformConfig
from simfleet_devstack.seed import DEMO_CUSTOMER_ID, SeedUser, create_user
from simfleet_runtime.context import OPERATOR_KEY
from simfleet_runtime.testing import postgres_base_url, wait_until

WEB_DIST = Path(__file__).resolve().parent.parent / "web" / "dist"
"""The built web console (`make test` builds it first): the tests' gateway serves it as `make up`'s does."""
CODE = re.compile(r"\b(\d{6})\b")
_numbers = count(1)

# e2e requests all come from 127.0.0.1: lift the per-client limits so that only
# the per-number rules (what the tests check) apply.
E2E_ENV = {
    "identity": {"IDENTITY_OTP_SEND_LIMIT_PER_CLIENT": "100000", "IDENTITY_LOG_LEVEL": "INFO"},
    "gateway": {"GATEWAY_AUTH_RATE_LIMIT_PER_MINUTE": "100000"},
    # A burst of notices is gathered for half a second, not the local three.
    "notifications": {"NOTIFICATIONS_GROUPING_WINDOW_SECONDS": "0.5", "NOTIFICATIONS_SENDER_INTERVAL_SECONDS": "0.2"},
    # A narrow window of items in the network, so that a bulk operation has lines still to send when cancelled.
    "inventory": {"INVENTORY_MAX_IN_FLIGHT_ITEMS": "200", "INVENTORY_COMMAND_BATCH_SIZE": "50"},
    # Unanswered payments are asked about again within a second; accounts below their floor are held within one.
    # Monthly fees are charged when billing starts and then not again during a test run: a fee run mid-test
    # (at midnight) would move the balances the tests compare.
    "billing": {
        "BILLING_PAYMENTS_INTERVAL_SECONDS": "0.5",
        "BILLING_PAYMENT_RETRY_SECONDS": "0.2",
        "BILLING_HOLDS_INTERVAL_SECONDS": "0.5",
        "BILLING_LIMITS_INTERVAL_SECONDS": "0.5",
        "BILLING_RECEIPTS_INTERVAL_SECONDS": "0.5",
        "BILLING_FEES_INTERVAL_SECONDS": "86400",
        # A promised payment lasts about 3 seconds, and is taken back within half a second once due.
        "BILLING_PROMISED_DAYS": "0.000035",
        "BILLING_PROMISED_INTERVAL_SECONDS": "0.5",
    },
}


POSTGRES_POOL_SIZE = "4"
"""Each process's pool on PostgreSQL in tests (twice that with its overflow): the test platforms of two
workers side by side, each of nine processes, stay within the server's 100 connections under a burst."""


def _with_small_pools(extra_env: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    env = {name: dict(values) for name, values in extra_env.items()}
    for service in (*DATABASE_SERVICES, BILLING_RATER):
        prefix = MODULES.get(service, service).upper()
        env.setdefault(service, {}).setdefault(f"{prefix}_DATABASE_POOL_SIZE", POSTGRES_POOL_SIZE)
    return env


@contextmanager
def running_platform(data_dir: Path, name: str, **overrides: Any) -> Iterator[Platform]:
    pg = postgres_base_url()
    extra_env = overrides.pop("extra_env", E2E_ENV)
    config = PlatformConfig.free_ports(
        data_dir,
        clock_file=data_dir / "clock",
        extra_env=_with_small_pools(extra_env) if pg else extra_env,
        postgres_url=pg.replace("+asyncpg", "") if pg else None,
        postgres_prefix=f"simfleet_{name}",
        postgres_reset=True,
        web_dir=overrides.pop("web_dir", WEB_DIST),
        **overrides,
    )
    with Platform(config) as platform:
        platform.seed()
        yield platform


def new_user(
    platform: Platform,
    *,
    password: str = "",
    email: str = "",
    customer_id: str = DEMO_CUSTOMER_ID,
    grants: tuple[tuple[str, str], ...] = (),
) -> SeedUser:
    n = next(_numbers)
    stamp = int(time.time() * 1000) % 10_000
    user = SeedUser(
        customer_id=customer_id,
        grants=grants,
        phone=f"+7999{stamp:04d}{n:03d}",
        email=email or f"user{n}.{stamp}@demo.example",
        display_name=f"Test User {n}",
        password=password,
    )
    assert create_user(platform.identity_target, platform.config.operator_key, user)
    return user


def inbox(platform: Platform, phone: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{platform.console_url}/handsets/{phone}/sms", timeout=5)
    response.raise_for_status()
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


def mailbox(platform: Platform, address: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{platform.console_url}/mailboxes/{address}", timeout=5)
    response.raise_for_status()
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


def codes_in(messages: list[dict[str, Any]], field: str = "text") -> list[str]:
    found = []
    for m in messages:
        match = CODE.search(str(m.get(field, "")))
        if match and "code" in str(m.get(field, "")):
            found.append(match.group(1))
    return found


def wait_for_sms_code(platform: Platform, phone: str, seen: int = 0, timeout: float = 15.0) -> str:
    """The newest code once the handset holds more than ``seen`` code messages."""
    codes = wait_until(
        lambda: c if len(c := codes_in(inbox(platform, phone))) > seen else None,
        timeout,
        f"a code SMS to {phone}",
    )
    return str(codes[0])


SIGN_IN_NOTICE = "SIMfleet: you signed in on "
SIGN_IN_SUMMARY = re.compile(r"SIMfleet: (\d+) sign-ins to your account")


def sign_ins_told(platform: Platform, phone: str) -> int:
    """How many sign-ins the handset's English notices tell of (ID-7): notifications, which tells customers' users,
    gathers those that arrive together into one summary; identity tells operator staff one by one."""
    told = 0
    for message in inbox(platform, phone):
        text = str(message["text"])
        if text.startswith(SIGN_IN_NOTICE):
            told += 1
        elif summary := SIGN_IN_SUMMARY.match(text):
            told += int(summary.group(1))
    return told


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def pay_in(platform: Platform, customer_id: str, node: str, amount: int, entry_id: str) -> Any:
    """Money paid onto a personal account, as a payment provider's capture will post it: from the operator's
    clearing account, through billing's admin API with the operator key. The PostEntryResponse."""
    key = ((OPERATOR_KEY, platform.config.operator_key),)
    with grpc.insecure_channel(platform.billing_target) as channel:
        admin = billing_admin_grpc.BillingAdminServiceStub(channel)
        personal, clearing = (
            admin.OpenAccount(request, metadata=key, timeout=10).account
            for request in (
                billing_admin.OpenAccountRequest(
                    kind=ledger_pb2.ACCOUNT_KIND_PERSONAL,
                    customer_id=customer_id,
                    personal_account_id=node,
                    currency="RUB",
                ),
                billing_admin.OpenAccountRequest(kind=ledger_pb2.ACCOUNT_KIND_PAYMENTS_CLEARING, currency="RUB"),
            )
        )
        legs = [
            billing_admin.EntryLeg(account_id=clearing.id, side=billing_admin.SIDE_DEBIT, amount=amount),
            billing_admin.EntryLeg(account_id=personal.id, side=billing_admin.SIDE_CREDIT, amount=amount),
        ]
        request = billing_admin.PostEntryRequest(
            entry_id=entry_id, kind="payment", description="top-up by card", currency="RUB", legs=legs
        )
        return admin.PostEntry(request, metadata=key, timeout=10)
