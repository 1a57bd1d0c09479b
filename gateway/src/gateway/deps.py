"""The dependencies routes declare: identity, accounts or inventory for this request, the bearer, the limiter.

The metadata each call to a service carries (keys in
:mod:`simfleet_runtime.context`): ``x-request-id``, ``simfleet-client-address``,
``simfleet-client-agent`` (the User-Agent), and ``authorization`` when the
request has a bearer token.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.edge import metrics
from gateway.edge.bearer import bearer_token
from gateway.edge.middleware import route_template
from gateway.edge.rate_limit import TokenBucketLimiter
from gateway.problems import ProblemError
from gateway.upstream.accounts import Accounts, AccountsStubs
from gateway.upstream.billing import Billing, BillingStubs
from gateway.upstream.identity import Identity, IdentityStubs, Metadata
from gateway.upstream.inventory import Inventory, InventoryStubs
from gateway.upstream.notifications import Notifications, NotificationsStubs
from gateway.upstream.ticketing import Ticketing, TicketingStubs
from simfleet_runtime.context import AUTHORIZATION, CLIENT_ADDRESS, CLIENT_AGENT, REQUEST_ID

MAX_AGENT_LENGTH = 512
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")

bearer_scheme = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="The access token of a sign-in: `Authorization: Bearer <access_token>`.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def _printable(value: str, limit: int) -> str:
    return _UNPRINTABLE.sub("?", value[:limit])


def call_metadata(request: Request) -> Metadata:
    metadata = [
        (REQUEST_ID, str(request.state.request_id)),
        (CLIENT_ADDRESS, _printable(str(request.state.client_address), 64)),
    ]
    agent = request.headers.get("user-agent")
    if agent:
        metadata.append((CLIENT_AGENT, _printable(agent, MAX_AGENT_LENGTH)))
    token = bearer_token(request)
    if token:
        metadata.append((AUTHORIZATION, f"Bearer {token}"))
    return tuple(metadata)


def _stubs(request: Request) -> IdentityStubs:
    stubs = getattr(request.app.state, "identity", None)
    if not isinstance(stubs, IdentityStubs):
        raise ProblemError(503, "SERVICE_UNAVAILABLE", "the gateway is not ready yet", retry_after=1)
    return stubs


async def identity(request: Request) -> Identity:
    return _stubs(request).for_request(call_metadata(request))


async def identity_with_optional_bearer(request: Request, _credentials: Credentials) -> Identity:
    return await identity(request)


async def identity_of_signed_in_user(request: Request, _credentials: Credentials) -> Identity:
    if bearer_token(request) is None:
        raise ProblemError(
            401,
            "UNAUTHENTICATED",
            "this call needs an access token: Authorization: Bearer <access_token>",
            headers={"WWW-Authenticate": 'Bearer realm="simfleet"'},
        )
    return await identity(request)


def _require_bearer(request: Request) -> None:
    if bearer_token(request) is None:
        raise ProblemError(
            401,
            "UNAUTHENTICATED",
            "this call needs an access token: Authorization: Bearer <access_token>",
            headers={"WWW-Authenticate": 'Bearer realm="simfleet"'},
        )


async def accounts_of_signed_in_user(request: Request, _credentials: Credentials) -> Accounts:
    _require_bearer(request)
    stubs = getattr(request.app.state, "accounts", None)
    if not isinstance(stubs, AccountsStubs):
        raise ProblemError(503, "SERVICE_UNAVAILABLE", "the gateway is not ready yet", retry_after=1)
    return stubs.for_request(call_metadata(request))


async def inventory_of_signed_in_user(request: Request, _credentials: Credentials) -> Inventory:
    _require_bearer(request)
    stubs = getattr(request.app.state, "inventory", None)
    if not isinstance(stubs, InventoryStubs):
        raise ProblemError(503, "SERVICE_UNAVAILABLE", "the gateway is not ready yet", retry_after=1)
    return stubs.for_request(call_metadata(request))


async def billing_of_signed_in_user(request: Request, _credentials: Credentials) -> Billing:
    _require_bearer(request)
    stubs = getattr(request.app.state, "billing", None)
    if not isinstance(stubs, BillingStubs):
        raise ProblemError(503, "SERVICE_UNAVAILABLE", "the gateway is not ready yet", retry_after=1)
    return stubs.for_request(call_metadata(request))


async def ticketing_of_signed_in_user(request: Request, _credentials: Credentials) -> Ticketing:
    _require_bearer(request)
    stubs = getattr(request.app.state, "ticketing", None)
    if not isinstance(stubs, TicketingStubs):
        raise ProblemError(503, "SERVICE_UNAVAILABLE", "the gateway is not ready yet", retry_after=1)
    return stubs.for_request(call_metadata(request))


async def notifications_of_signed_in_user(request: Request, _credentials: Credentials) -> Notifications:
    _require_bearer(request)
    stubs = getattr(request.app.state, "notifications", None)
    if not isinstance(stubs, NotificationsStubs):
        raise ProblemError(503, "SERVICE_UNAVAILABLE", "the gateway is not ready yet", retry_after=1)
    return stubs.for_request(call_metadata(request))


async def limit_sign_in(request: Request) -> None:
    limiter: TokenBucketLimiter = request.app.state.auth_limiter
    if not limiter.enabled:
        return
    decision = limiter.take(str(request.state.client_address))
    # The edge puts them on the answer, whatever it is (see gateway.edge.middleware).
    headers = limiter.headers(decision)
    request.state.rate_limit_headers = headers
    if decision.wait:
        metrics.RATE_LIMITED.labels(route_template(request.scope)).inc()
        raise ProblemError(
            429,
            "RATE_LIMITED",
            "too many sign-in requests from this address; try again later",
            retry_after=decision.wait,
            headers=headers,
        )


AnonymousIdentity = Annotated[Identity, Depends(identity)]
OptionalBearerIdentity = Annotated[Identity, Depends(identity_with_optional_bearer)]
SignedInIdentity = Annotated[Identity, Depends(identity_of_signed_in_user)]
SignedInAccounts = Annotated[Accounts, Depends(accounts_of_signed_in_user)]
SignedInInventory = Annotated[Inventory, Depends(inventory_of_signed_in_user)]
SignedInBilling = Annotated[Billing, Depends(billing_of_signed_in_user)]
SignedInTicketing = Annotated[Ticketing, Depends(ticketing_of_signed_in_user)]
SignedInNotifications = Annotated[Notifications, Depends(notifications_of_signed_in_user)]
SignInRateLimit = Depends(limit_sign_in)
