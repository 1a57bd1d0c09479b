"""Permission and scope: grants from tokens, NOT_FOUND outside the scope, PERMISSION_DENIED without the permission."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from simfleet_runtime.auth import JwksCache, TokenVerifier
from simfleet_runtime.authz import (
    PERMISSIONS,
    Access,
    Authorizer,
    Grant,
    grants_claim,
    grants_from_claims,
    permission_missing,
    unknown_permissions,
)
from simfleet_runtime.clock import Clock
from simfleet_runtime.context import CallContext, reset_current_call, set_current_call
from simfleet_runtime.errors import NotFound, PermissionDenied, Unauthenticated
from simfleet_runtime.testing import KeyRing

CUSTOMER = "01M80FS1VH2MZKYX1PNS53P8M2"
# company ─ sales ─ north
#        └ finance
TREE = {
    "company": ("company",),
    "sales": ("company", "sales"),
    "north": ("company", "sales", "north"),
    "finance": ("company", "finance"),
}


class Tree:
    def __init__(self, customer_id: str, paths: dict[str, tuple[str, ...]]) -> None:
        self.customer_id = customer_id
        self._paths = paths

    async def paths(self, customer_id: str, node_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        if customer_id != self.customer_id:
            return {}
        return {n: self._paths[n] for n in node_ids if n in self._paths}


@pytest.fixture
def ring() -> KeyRing:
    ring = KeyRing()
    ring.new_key("k1")
    return ring


@pytest.fixture
def authorizer(ring: KeyRing) -> Authorizer:
    verifier = TokenVerifier(keys=JwksCache(ring.fetch), clock=Clock())
    return Authorizer(verifier=verifier, nodes=Tree(CUSTOMER, TREE))


@pytest.fixture
def as_caller(ring: KeyRing) -> Any:
    """Sets the current call's token; each async test runs in its own context, so nothing leaks."""

    def use(grants: list[Grant] | None = None, **claims: Any) -> None:
        if grants is not None:
            claims["grants"] = grants_claim(grants)
        set_current_call(CallContext(bearer_token=ring.token("k1", **claims)))

    return use


def grant(node: str, *perms: str, role: str = "custom") -> Grant:
    return Grant(node, frozenset(perms), role)


def test_the_catalogue_names_area_and_action() -> None:
    for name in PERMISSIONS:
        area, _, action = name.partition(":")
        assert area and action and name == name.lower(), name
    assert unknown_permissions(["lines:read", "lines:fly", "root"]) == ["lines:fly", "root"]


def test_grants_survive_the_claim_round_trip() -> None:
    grants = (grant("sales", "lines:read", "lines:block", role="number_manager"), grant("finance", "billing:read"))
    assert grants_from_claims({"grants": grants_claim(grants)}) == grants


def test_permissions_the_catalogue_does_not_know_grant_nothing() -> None:
    (parsed,) = grants_from_claims({"grants": [{"node": "sales", "perms": ["lines:read", "everything:*"]}]})
    assert parsed.permissions == {"lines:read"}


@pytest.mark.parametrize(
    "claim",
    ["sales", [["sales"]], [{"perms": ["lines:read"]}], [{"node": "", "perms": []}], [{"node": "x", "perms": "all"}]],
)
def test_a_malformed_grants_claim_is_an_invalid_token(claim: Any) -> None:
    with pytest.raises(Unauthenticated):
        grants_from_claims({"grants": claim})


def access(*grants: Grant) -> Access:
    from simfleet_runtime.auth import Principal

    return Access(Principal("u", CUSTOMER, "s", "t", 0.0), grants)


def test_a_grant_covers_its_node_and_everything_below() -> None:
    a = access(grant("sales", "lines:read"))
    assert a.sees(TREE["sales"]) and a.sees(TREE["north"])
    assert not a.sees(TREE["company"]) and not a.sees(TREE["finance"])


def test_permissions_add_up_along_the_path() -> None:
    a = access(grant("company", "lines:read"), grant("sales", "lines:block"))
    assert a.permissions_at(TREE["north"]) == {"lines:read", "lines:block"}
    assert a.permissions_at(TREE["finance"]) == {"lines:read"}
    assert a.roots() == ("company", "sales")
    assert a.roots("lines:block") == ("sales",)
    assert a.holds("lines:block") and not a.holds("billing:pay")


def test_outside_the_scope_is_not_found_and_without_the_permission_is_denied() -> None:
    a = access(grant("sales", "lines:read"))
    a.check("lines:read", TREE["north"], what="line")
    with pytest.raises(NotFound) as outside:
        a.check("lines:read", TREE["finance"], what="line")
    with pytest.raises(NotFound) as unknown:
        a.check("lines:read", None, what="line")
    # The two answers cannot be told apart.
    assert (outside.value.reason, outside.value.message) == (unknown.value.reason, unknown.value.message)
    assert outside.value.reason == "LINE_NOT_FOUND"
    with pytest.raises(PermissionDenied) as denied:
        a.check("lines:block", TREE["north"], what="line")
    assert denied.value.metadata == {"permission": "lines:block"}


def test_a_missing_permission_is_one_refusal_naming_it() -> None:
    refusal = permission_missing("billing:read")
    assert isinstance(refusal, PermissionDenied)
    assert (refusal.reason, refusal.metadata) == ("PERMISSION_MISSING", {"permission": "billing:read"})
    assert refusal.message == "you may not do this: it needs the billing:read permission"
    here = permission_missing("lines:replace-sim", "lines:order-sims", here=True)
    # Any one would have done: the message names them all, the metadata (what the console translates) the first.
    assert here.message == "you may not do this here: it needs the lines:replace-sim or lines:order-sims permission"
    assert here.metadata == {"permission": "lines:replace-sim"}


def test_require_anywhere_asks_for_the_permission_in_any_grant() -> None:
    a = access(grant("north", "lines:read"), grant("finance", "billing:read"))
    a.require("lines:read")
    a.require("billing:read")
    a.require("lines:order-sims", "lines:read")  # an alternative is enough
    with pytest.raises(PermissionDenied) as denied:
        a.require("billing:pay")
    assert (denied.value.reason, denied.value.metadata) == ("PERMISSION_MISSING", {"permission": "billing:pay"})
    assert "here" not in denied.value.message
    with pytest.raises(PermissionDenied) as either:
        a.require("lines:replace-sim", "lines:order-sims")
    assert either.value.metadata == {"permission": "lines:replace-sim"}
    with pytest.raises(PermissionDenied):
        access().require("lines:read")  # no grants: nothing holds


def test_require_at_a_path_asks_for_the_permission_there() -> None:
    a = access(grant("company", "lines:read"), grant("sales", "billing:read"))
    a.require("billing:read", at=TREE["north"])
    a.require("users:read", "lines:read", at=TREE["finance"])
    # Held in sales, not over finance: refused there although held somewhere.
    with pytest.raises(PermissionDenied) as denied:
        a.require("billing:read", at=TREE["finance"])
    assert denied.value.metadata == {"permission": "billing:read"}
    assert denied.value.message == "you may not do this here: it needs the billing:read permission"


async def test_the_authorizer_decides_from_the_verified_token(authorizer: Authorizer, as_caller: Any) -> None:
    as_caller([grant("sales", "lines:read", "lines:block")], cid=CUSTOMER)
    caller = await authorizer.require("lines:block", "north", what="line")
    assert caller.customer_id == CUSTOMER and caller.user_id == "user-1"
    with pytest.raises(NotFound):
        await authorizer.require("lines:read", "finance", what="line")
    with pytest.raises(NotFound):
        await authorizer.require("lines:read", "no-such-node", what="line")
    with pytest.raises(PermissionDenied):
        await authorizer.require("billing:read", "north")
    assert await authorizer.visible(caller, ["north", "finance", "company", "ghost"]) == {"north"}


async def test_a_forged_node_id_is_nothing_and_is_never_looked_up(ring: KeyRing, as_caller: Any) -> None:
    """A NUL, a space, a lone surrogate or 65 characters name no node: NOT_FOUND, no query (PostgreSQL would 5xx)."""
    asked: list[str] = []

    class Recording(Tree):
        async def paths(self, customer_id: str, node_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
            ids = list(node_ids)
            asked.extend(ids)
            return await super().paths(customer_id, ids)

    verifier = TokenVerifier(keys=JwksCache(ring.fetch), clock=Clock())
    authorizer = Authorizer(verifier=verifier, nodes=Recording(CUSTOMER, TREE))
    as_caller([grant("company", *PERMISSIONS)], cid=CUSTOMER)
    forged = ["north\x00", "no rth", "\ud800", "x" * 65, "sales\n", "ёлка"]
    for node in forged:
        with pytest.raises(NotFound):
            await authorizer.require("lines:read", node, what="line")
    caller = await authorizer.access()
    assert await authorizer.visible(caller, [*forged, "north"]) == {"north"}
    assert asked == ["north"]


async def test_another_customers_token_sees_nothing(authorizer: Authorizer, as_caller: Any) -> None:
    # Node ids of one customer mean nothing under another customer's token,
    # even with a grant naming the very same node.
    as_caller([grant("company", *PERMISSIONS)], cid="01ANOTHERCUSTOMER000000000")
    with pytest.raises(NotFound):
        await authorizer.require("lines:read", "sales", what="line")


async def test_a_token_without_customer_or_with_bad_signature_is_refused(
    authorizer: Authorizer, ring: KeyRing, as_caller: Any
) -> None:
    as_caller([grant("company", "lines:read")], cid="")
    with pytest.raises(Unauthenticated):
        await authorizer.access()
    other = KeyRing()
    other.new_key("k1")  # same kid, another key: a forgery
    handle = set_current_call(CallContext(bearer_token=other.token("k1", grants=[{"node": "company", "perms": []}])))
    try:
        with pytest.raises(Unauthenticated):
            await authorizer.access()
    finally:
        reset_current_call(handle)


async def test_a_token_without_grants_sees_nothing(authorizer: Authorizer, as_caller: Any) -> None:
    as_caller(cid=CUSTOMER)
    access = await authorizer.access()
    assert access.grants == ()
    with pytest.raises(NotFound):
        await authorizer.require(None, "company")
