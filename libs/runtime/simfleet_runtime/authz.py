"""Authorisation: permission and scope, decided the same way in every service.

A customer's user holds *grants*: a role (a set of permissions from
:data:`PERMISSIONS`) over a node of the customer's hierarchy. A grant's scope is
its node's subtree. Identity writes the grants into the access token
(``grants`` claim: ``[{"node": id, "role": name, "perms": [...]}]``), so a
service decides without asking anyone:

* it verifies the token itself (:class:`~simfleet_runtime.auth.TokenVerifier`);
* it finds the path of the node an object hangs under (the ids from the
  company's root node down to that node) in its own copy of the tree
  (:class:`NodePaths`): ``accounts`` owns the tree, every other service keeps a
  projection of it from ``accounts``' events;
* the object is in scope when one of the grants' nodes is on that path, and the
  permissions there are the union of those grants' permissions.

An object outside the caller's scope, or another customer's, answers NOT_FOUND,
exactly as one that does not exist would (OWASP API1); an object in scope
without the permission the method needs answers PERMISSION_DENIED.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from simfleet_runtime.audit import OPERATOR, set_actor
from simfleet_runtime.auth import Principal, TokenVerifier, require_operator_key
from simfleet_runtime.context import current_call
from simfleet_runtime.errors import NotFound, PermissionDenied, Unauthenticated
from simfleet_runtime.revocations import GRANTS_VERSION_CLAIM, Revocations

PERMISSIONS: Mapping[str, str] = {
    "lines:read": "See lines, their SIM cards, services, APNs, forwarding and state",
    "lines:activate": "Activate lines that are ready",
    "lines:block": "Block and unblock lines",
    "lines:lift-protected-blocks": "Lift financial and lost-or-stolen blocks (with lines:block)",
    "lines:replace-sim": "Replace a line's SIM card",
    "lines:change-number": "Give a line another number",
    "lines:order-sims": "Order new SIM cards and numbers",
    "lines:configure": "Change a line's APNs and call forwarding",
    "lines:move": "Move a line to another node or personal account",
    "lines:read-puk": "Read the PUK codes of SIM cards (every read is recorded)",
    "lines:locate": "Locate lines' handsets: cell and coordinates (every location read is recorded)",
    "lines:send-sms": "Send SMS to lines' handsets",
    "lines:terminate": "Terminate lines for good (their SIM is retired, their number goes to quarantine)",
    "lines:label": "Label lines and put them in groups",
    "tariffs:change": "Change tariffs and services",
    "billing:read": "See balances, bills, payments and usage",
    "billing:pay": "Pay, transfer money between accounts, take promised payments",
    "packages:buy": "Buy data and minute packages",
    "users:read": "See users and their grants",
    "users:manage": "Create, change and disable users and give them grants",
    "roles:manage": "Create, change and delete custom roles",
    "hierarchy:manage": "Create, rename, move and delete departments, branches and cities",
    "tickets:read": "See tickets",
    "tickets:write": "File tickets and write in them",
    "reports:read": "See and export reports",
    "audit:read": "See the action history",
}
"""The fixed catalogue: ``<area>:<action>`` → what it allows (shown to customers building roles)."""

LIFT_PROTECTED_BLOCKS = "lines:lift-protected-blocks"
TERMINATE = "lines:terminate"
LABEL_LINES = "lines:label"
CHANGE_TARIFFS = "tariffs:change"

GRANTS_CLAIM = "grants"
OPERATOR_CLAIM = "op"
"""Operator staff's tokens carry ``{"role": ..., "perms": [...]}`` here, and no customer."""

TICKETS_SUPPORT = "tickets:support"
"""The operator permission of the support desk: every customer's tickets, assigning, moving and answering them."""

OPERATOR_PERMISSIONS: Mapping[str, str] = {
    "customers:read": "See corporate customers, their contracts and accounts",
    "customers:onboard": "Onboard corporate customers and add their accounts",
    TICKETS_SUPPORT: "Work the support desk: every customer's tickets, assign, move and answer them",
}
"""What operator staff may do in the back-office (their roles are identity's)."""


def unknown_permissions(names: Iterable[str]) -> list[str]:
    return sorted(set(names) - PERMISSIONS.keys())


@dataclass(frozen=True, slots=True)
class Grant:
    """A role over a node: the permissions hold in the node's whole subtree."""

    node_id: str
    permissions: frozenset[str]
    role: str = ""

    def claim(self) -> dict[str, Any]:
        return {"node": self.node_id, "role": self.role, "perms": sorted(self.permissions)}


def grants_claim(grants: Iterable[Grant]) -> list[dict[str, Any]]:
    return [g.claim() for g in grants]


def grants_from_claims(claims: Mapping[str, Any]) -> tuple[Grant, ...]:
    """The grants a verified token carries; a malformed claim is an invalid token."""
    raw = claims.get(GRANTS_CLAIM, [])
    if not isinstance(raw, list):
        raise Unauthenticated("the access token's grants are malformed", reason="TOKEN_INVALID")
    grants = []
    for item in raw:
        if not isinstance(item, dict):
            raise Unauthenticated("the access token's grants are malformed", reason="TOKEN_INVALID")
        node, perms, role = item.get("node"), item.get("perms", []), item.get("role", "")
        if not isinstance(node, str) or not node or not isinstance(perms, list) or not isinstance(role, str):
            raise Unauthenticated("the access token's grants are malformed", reason="TOKEN_INVALID")
        # Names the catalogue does not know grant nothing (a newer identity may know more).
        grants.append(Grant(node, frozenset(p for p in perms if isinstance(p, str) and p in PERMISSIONS), role))
    return tuple(grants)


@dataclass(frozen=True, slots=True)
class Access:
    """What the caller of the current call may do: who they are and their grants."""

    principal: Principal
    grants: tuple[Grant, ...]

    @property
    def customer_id(self) -> str:
        return self.principal.customer_id

    @property
    def user_id(self) -> str:
        return self.principal.user_id

    def sees(self, path: Sequence[str]) -> bool:
        """True when a grant's node lies on ``path`` (root → node): the node is in scope."""
        on_path = set(path)
        return any(g.node_id in on_path for g in self.grants)

    def permissions_at(self, path: Sequence[str]) -> frozenset[str]:
        on_path = set(path)
        held: set[str] = set()
        for grant in self.grants:
            if grant.node_id in on_path:
                held |= grant.permissions
        return frozenset(held)

    def holds(self, permission: str) -> bool:
        """True when some grant carries ``permission`` (somewhere in the tree)."""
        return any(permission in g.permissions for g in self.grants)

    def require(self, permission: str, *alternatives: str, at: Sequence[str] | None = None) -> None:
        """Refuse (403) unless ``permission``, or one of ``alternatives``, holds: at the node of path ``at``
        (root → node) when given, else anywhere in the tree (a call on no one node, whose answer is then
        limited to the scope). Scope is not this method's business: ``at`` is a path the caller sees."""
        if at is None:
            held = any(self.holds(p) for p in (permission, *alternatives))
        else:
            held = not self.permissions_at(at).isdisjoint((permission, *alternatives))
        if not held:
            raise permission_missing(permission, *alternatives, here=at is not None)

    def roots(self, permission: str | None = None) -> tuple[str, ...]:
        """The nodes whose subtrees make up the scope (of ``permission`` when given)."""
        return tuple(dict.fromkeys(g.node_id for g in self.grants if permission is None or permission in g.permissions))

    def check(self, permission: str | None, path: Sequence[str] | None, *, what: str = "object") -> None:
        """Refuse unless the node at ``path`` is in scope and ``permission`` holds there.

        ``path`` is None when the node is unknown or belongs to another customer:
        the answer is the same NOT_FOUND as for a node outside the scope.
        """
        if path is None or not self.sees(path):
            raise not_found(what)
        if permission is not None:
            self.require(permission, at=path)


def permission_missing(permission: str, *alternatives: str, here: bool = False) -> PermissionDenied:
    """The one refusal for a missing permission: 403 ``PERMISSION_MISSING`` naming ``permission``.

    With ``alternatives`` any one of them would have done; the message names them all, the metadata
    (what the console translates) the first. ``here``: the permission is missing at the node the call is
    about (it may hold elsewhere), rather than anywhere in the caller's grants.
    """
    needed = " or ".join((permission, *alternatives))
    return PermissionDenied(
        f"you may not do this{' here' if here else ''}: it needs the {needed} permission",
        reason="PERMISSION_MISSING",
        metadata={"permission": permission},
    )


def not_found(what: str) -> NotFound:
    return NotFound(f"the {what} does not exist", reason=f"{what.upper().replace(' ', '_')}_NOT_FOUND")


class NodePaths(Protocol):
    """A service's view of the hierarchy: node id → the ids from the company root down to it."""

    async def paths(self, customer_id: str, node_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """The paths of those of ``node_ids`` that exist and belong to ``customer_id``."""
        ...


_NODE_ID = re.compile(r"[\x21-\x7e]{1,64}")


def is_node_id(value: str) -> bool:
    """Whether ``value`` could name a node: 1 to 64 printable ASCII characters, no space.

    Anything else names nothing and is not looked up: a NUL or a lone surrogate in a query parameter
    would make PostgreSQL refuse the statement (a 5xx for a forged id, where a missing node is a 404).
    """
    return _NODE_ID.fullmatch(value) is not None


class Authorizer:
    """The one helper every service's gRPC methods use to decide."""

    def __init__(self, *, verifier: TokenVerifier, nodes: NodePaths, revocations: Revocations | None = None) -> None:
        self._verifier = verifier
        self._nodes = nodes
        self._revocations = revocations

    async def _principal(self) -> Principal:
        principal = await self._verifier.current()
        if self._revocations is not None:
            self._revocations.check(principal)
        return principal

    async def access(self) -> Access:
        """The verified caller of the current call, with their grants; an ended session or disabled user is refused."""
        principal = await self._principal()
        if OPERATOR_CLAIM in principal.claims:
            raise PermissionDenied("operator staff work through the back-office API", reason="OPERATOR_TOKEN")
        if not principal.customer_id:
            raise Unauthenticated("the access token names no customer", reason="TOKEN_INVALID")
        set_actor(principal.user_id, principal.customer_id)
        return Access(principal, grants_from_claims(principal.claims))

    async def operator(self, permission: str) -> Principal:
        """The verified operator staff member calling, once they hold ``permission``."""
        principal = await self._principal()
        claim = principal.claims.get(OPERATOR_CLAIM)
        if not isinstance(claim, dict):
            raise PermissionDenied("this is for operator staff only", reason="OPERATOR_ONLY")
        perms = claim.get("perms", [])
        if not isinstance(perms, list) or permission not in perms:
            raise permission_missing(permission)
        set_actor(principal.user_id, "", OPERATOR)
        return principal

    async def operator_or_key(self, permission: str, operator_key: str) -> str:
        """Who acts for the operator in a back-office call: the staff member's user id (their access token,
        holding ``permission``), or ``OPERATOR`` for the platform's automation presenting the operator key."""
        call = current_call()
        if call.bearer_token:
            return (await self.operator(permission)).user_id
        if call.operator_key:
            require_operator_key(operator_key)
            return OPERATOR
        raise Unauthenticated("an operator's access token is required", reason="TOKEN_MISSING")

    async def path(self, access: Access, node_id: str) -> tuple[str, ...] | None:
        """The path of ``node_id`` in the caller's customer; None for no such node (nor for a forged id)."""
        if not is_node_id(node_id):
            return None
        return (await self._nodes.paths(access.customer_id, [node_id])).get(node_id)

    async def require(self, permission: str | None, node_id: str, *, what: str = "object") -> Access:
        """The caller, once they may use ``permission`` on an object under ``node_id``."""
        access = await self.access()
        access.check(permission, await self.path(access, node_id), what=what)
        return access

    async def visible(self, access: Access, node_ids: Iterable[str]) -> set[str]:
        """Those of ``node_ids`` the caller sees (for filtering lists)."""
        paths = await self._nodes.paths(access.customer_id, [n for n in node_ids if is_node_id(n)])
        return {node_id for node_id, path in paths.items() if access.sees(path)}


__all__ = [
    "GRANTS_CLAIM",
    "GRANTS_VERSION_CLAIM",
    "LIFT_PROTECTED_BLOCKS",
    "OPERATOR_CLAIM",
    "OPERATOR_PERMISSIONS",
    "PERMISSIONS",
    "TICKETS_SUPPORT",
    "Access",
    "Authorizer",
    "Grant",
    "NodePaths",
    "grants_claim",
    "grants_from_claims",
    "is_node_id",
    "not_found",
    "permission_missing",
    "unknown_permissions",
]
