# ruff: noqa: E402  (imports follow _use_the_installed_gateway, see below)
"""The gateway against scripted services: real grpc.aio servers on free ports.

:class:`ScriptedIdentity` serves identity's AuthService, ProfileService,
CustomerUserService and RoleService (and the standard health service);
:class:`ScriptedInventory` (``scripted.py``) serves inventory's LineService and
OperationService; ``accounts`` (a :class:`ScriptedServices`) serves accounts'
AccountsAdminService and AuditService. All serve through the runtime's
ServerInterceptor, so a scripted :class:`DomainError` reaches the gateway
exactly as the service's would: a status with ``google.rpc`` details. Each
answers with a plausible default (or the empty response) unless a test scripts
something else, and records every call with the metadata it carried.
"""

from __future__ import annotations

import importlib
import sys


def _use_the_installed_gateway() -> None:
    """Undo a shadowing of the ``gateway`` package by its own folder.

    In importlib mode pytest names this file ``gateway.tests.conftest`` and, unless
    the real package was imported already, registers the folder ``gateway/`` (no
    ``__init__.py``) as a namespace package ``gateway``, which hides the installed
    ``gateway`` (``gateway/src/gateway``). Put the installed one back.
    """
    module = sys.modules.get("gateway")
    if module is not None and getattr(module, "__file__", None) is None:
        del sys.modules["gateway"]
        importlib.import_module("gateway")


_use_the_installed_gateway()

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
from fastapi import FastAPI
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from gateway.main import create_app
from gateway.settings import GatewaySettings
from gateway.upstream.accounts import open_accounts_channel
from gateway.upstream.identity import open_identity_channel
from gateway.upstream.inventory import open_inventory_channel
from simfleet.accounts.v1 import admin_pb2, audit_pb2
from simfleet.identity.v1 import auth_pb2, common_pb2, profile_pb2, users_pb2

from .scripted import Abort, Delay, ScriptedInventory, ScriptedServices

AUTH = "simfleet.identity.v1.AuthService"
PROFILE = "simfleet.identity.v1.ProfileService"
CLIENT_ADDRESS = ("203.0.113.10", 50000)


def _tokens(n: int = 1) -> common_pb2.SessionTokens:
    return common_pb2.SessionTokens(
        access_token=f"access.token.{n}",
        refresh_token=f"refresh-{n}",
        token_type="Bearer",
        expires_in=600,
        session_id="01J9Z3K8Q4W7N2M5X6Y8B0SESS",
    )


def _ts(seconds: int) -> Timestamp:
    return Timestamp(seconds=seconds)


def default_answer(method: str) -> Any:
    """What identity would plausibly answer to a valid call (None: its empty response)."""
    answers: dict[str, Callable[[], Any]] = {
        "StartOtpSignIn": lambda: auth_pb2.StartOtpSignInResponse(
            challenge_id="01J9Z3K8Q4W7N2M5X6Y8B0CHAL", expires_in=300
        ),
        "VerifyOtp": lambda: auth_pb2.VerifyOtpResponse(tokens=_tokens(1)),
        "SignInWithPassword": lambda: auth_pb2.SignInWithPasswordResponse(tokens=_tokens(2)),
        "RefreshSession": lambda: auth_pb2.RefreshSessionResponse(tokens=_tokens(3)),
        "SignOut": lambda: auth_pb2.SignOutResponse(),
        "StartPasswordReset": lambda: auth_pb2.StartPasswordResetResponse(
            challenge_id="01J9Z3K8Q4W7N2M5X6Y8B0RSET", expires_in=300
        ),
        "ConfirmPasswordReset": lambda: auth_pb2.ConfirmPasswordResetResponse(tokens=_tokens(4)),
        "GetJwks": lambda: auth_pb2.GetJwksResponse(
            keys=[common_pb2.Jwk(kty="OKP", crv="Ed25519", x="11qYAYKxCrfVS", kid="k1", alg="EdDSA", use="sig")]
        ),
        "GetMe": lambda: profile_pb2.GetMeResponse(
            user=common_pb2.User(
                id="01J9Z3K8Q4W7N2M5X6Y8B0USER",
                customer_id="01M80FS1VH2MZKYX1PNS53P8M2",
                phone="+79990000001",
                email="manager@demo.example",
                display_name="Demo Profile Manager",
                status=common_pb2.USER_STATUS_ACTIVE,
                has_password=True,
                created_at=_ts(1_768_469_400),  # 2026-01-15T09:30:00Z
            ),
            memberships=[
                profile_pb2.Membership(
                    customer_id="01M80FS1VH2MZKYX1PNS53P8M2",
                    user_id="01J9Z3K8Q4W7N2M5X6Y8B0USER",
                    display_name="Demo Profile Manager",
                ),
                profile_pb2.Membership(
                    customer_id="01M80FS1VH2MZKYX1PNS53P8M3",
                    user_id="01J9Z3K8Q4W7N2M5X6Y8B0OTHR",
                    display_name="Demo Manager (Other Co)",
                ),
            ],
        ),
        "ChangePassword": lambda: profile_pb2.ChangePasswordResponse(),
        "ListSignIns": lambda: profile_pb2.ListSignInsResponse(
            sign_ins=[
                common_pb2.SignInAttempt(
                    id="01J9Z3M2A7B8C9D0E1F2G3H4J5",
                    occurred_at=_ts(1_768_469_462),
                    method=common_pb2.SIGN_IN_METHOD_OTP_SMS,
                    result=common_pb2.SIGN_IN_RESULT_SUCCEEDED,
                    client_address="203.0.113.10",
                    user_agent="pytest",
                ),
                common_pb2.SignInAttempt(
                    id="01J9Z3M0Q1R2S3T4V5W6X7Y8Z9",
                    occurred_at=_ts(1_768_469_440),
                    method=common_pb2.SIGN_IN_METHOD_PASSWORD,
                    result=common_pb2.SIGN_IN_RESULT_BAD_CREDENTIALS,
                    client_address="203.0.113.10",
                    user_agent="pytest",
                ),
            ],
            next_page_token="page-2",
        ),
    }
    answer = answers.get(method)
    return answer() if answer is not None else None


class ScriptedIdentity(ScriptedServices):
    """identity's auth, profile, users and roles services, answering :func:`default_answer`, with a health service."""

    def __init__(self) -> None:
        super().__init__(
            "identity",
            auth_pb2.DESCRIPTOR.services_by_name["AuthService"],
            profile_pb2.DESCRIPTOR.services_by_name["ProfileService"],
            users_pb2.DESCRIPTOR.services_by_name["CustomerUserService"],
            users_pb2.DESCRIPTOR.services_by_name["RoleService"],
            defaults=default_answer,
        )
        self.health = health.aio.HealthServicer()

    async def set_serving(self, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        await self.health.set("", status)

    def _add_more(self, server: grpc.aio.Server) -> None:
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)

    async def start(self) -> None:
        await super().start()
        await self.set_serving(True)


@pytest.fixture(scope="session")
async def identity_server() -> AsyncIterator[ScriptedIdentity]:
    double = ScriptedIdentity()
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def identity(identity_server: ScriptedIdentity) -> AsyncIterator[ScriptedIdentity]:
    identity_server.reset()
    await identity_server.set_serving(True)
    yield identity_server
    identity_server.reset()


def make_settings(target: str, **overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {"identity_target": target, "access_log": False}
    values.update(overrides)
    return GatewaySettings(**values)


@pytest.fixture
def settings(identity: ScriptedIdentity) -> GatewaySettings:
    return make_settings(identity.target)


@dataclass
class Gateway:
    app: FastAPI
    client: httpx.AsyncClient
    settings: GatewaySettings


GatewayFactory = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def open_gateway(identity: ScriptedIdentity) -> AsyncIterator[GatewayFactory]:
    """Opens gateways on the scripted identity; settings overrides as keywords."""
    opened: list[tuple[httpx.AsyncClient, grpc.aio.Channel]] = []

    async def open_(*, client_address: tuple[str, int] = CLIENT_ADDRESS, **overrides: Any) -> Gateway:
        settings = make_settings(identity.target, **overrides)
        channel = open_identity_channel(settings)
        app = create_app(settings, identity_channel=channel)
        transport = httpx.ASGITransport(app=app, client=client_address)
        client = httpx.AsyncClient(transport=transport, base_url="http://gateway.test")
        opened.append((client, channel))
        return Gateway(app, client, settings)

    yield open_
    for client, channel in opened:
        await client.aclose()
        await channel.close()


@pytest.fixture
async def gateway(open_gateway: GatewayFactory) -> Gateway:
    return await open_gateway()


@pytest.fixture
def client(gateway: Gateway) -> httpx.AsyncClient:
    return gateway.client


@pytest.fixture(scope="session")
async def accounts_server() -> AsyncIterator[ScriptedServices]:
    double = ScriptedServices(
        "accounts",
        admin_pb2.DESCRIPTOR.services_by_name["AccountsAdminService"],
        audit_pb2.DESCRIPTOR.services_by_name["AuditService"],
    )
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def accounts(accounts_server: ScriptedServices) -> AsyncIterator[ScriptedServices]:
    accounts_server.reset()
    yield accounts_server
    accounts_server.reset()


@pytest.fixture
async def accounts_client(identity: ScriptedIdentity, accounts: ScriptedServices) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a gateway whose accounts (back-office, action history) is the scripted one."""
    settings = make_settings(identity.target, accounts_target=accounts.target)
    identity_channel = open_identity_channel(settings)
    accounts_channel = open_accounts_channel(settings)
    app = create_app(settings, identity_channel=identity_channel, accounts_channel=accounts_channel)
    transport = httpx.ASGITransport(app=app, client=CLIENT_ADDRESS)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield client
    await identity_channel.close()
    await accounts_channel.close()


@pytest.fixture(scope="session")
async def inventory_server() -> AsyncIterator[ScriptedInventory]:
    double = ScriptedInventory()
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def inventory(inventory_server: ScriptedInventory) -> AsyncIterator[ScriptedInventory]:
    inventory_server.reset()
    yield inventory_server
    inventory_server.reset()


@pytest.fixture
async def open_inventory_gateway(
    identity: ScriptedIdentity, inventory: ScriptedInventory
) -> AsyncIterator[GatewayFactory]:
    """Opens gateways on the scripted identity and inventory; settings overrides as keywords."""
    opened: list[tuple[httpx.AsyncClient, grpc.aio.Channel, grpc.aio.Channel]] = []

    async def open_(*, client_address: tuple[str, int] = CLIENT_ADDRESS, **overrides: Any) -> Gateway:
        settings = make_settings(identity.target, **{"inventory_target": inventory.target, **overrides})
        identity_channel = open_identity_channel(settings)
        inventory_channel = open_inventory_channel(settings)
        app = create_app(settings, identity_channel=identity_channel, inventory_channel=inventory_channel)
        transport = httpx.ASGITransport(app=app, client=client_address)
        client = httpx.AsyncClient(transport=transport, base_url="http://gateway.test")
        opened.append((client, identity_channel, inventory_channel))
        return Gateway(app, client, settings)

    yield open_
    for client, identity_channel, inventory_channel in opened:
        await client.aclose()
        await identity_channel.close()
        await inventory_channel.close()


@pytest.fixture
async def api(open_inventory_gateway: GatewayFactory) -> httpx.AsyncClient:
    """A client of a gateway whose inventory is the scripted one."""
    return (await open_inventory_gateway()).client


def assert_problem(response: httpx.Response, status: int, reason: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and reason; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["reason"] == reason
    assert body["type"] == "https://simfleet.dev/problems/" + reason.lower().replace("_", "-")
    assert body["title"]
    assert body["detail"]
    assert body["instance"] == response.request.url.path
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@pytest.fixture
def problem() -> Callable[[httpx.Response, int, str], dict[str, Any]]:
    return assert_problem


@pytest.fixture
def abort() -> type[Abort]:
    return Abort


@pytest.fixture
def delay() -> type[Delay]:
    return Delay
