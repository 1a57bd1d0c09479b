"""The predefined roles (ID-9, ID-10): names customers see, permissions from the catalogue.

Custom roles, built by customers from the same catalogue, are rows of their
own; these five exist for every customer and cannot be changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from simfleet_runtime.authz import PERMISSIONS, TICKETS_SUPPORT


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    description: str
    permissions: frozenset[str]


def _all_but(*excluded: str) -> frozenset[str]:
    return frozenset(PERMISSIONS) - set(excluded)


_READ = frozenset({"lines:read", "billing:read", "users:read", "tickets:read", "reports:read"})

PREDEFINED: dict[str, Role] = {
    role.id: role
    for role in (
        Role(
            "profile_manager",
            "Profile manager",
            "The customer's administrator: everything, everywhere in their scope.",
            frozenset(PERMISSIONS),
        ),
        Role(
            "account_manager",
            "Account manager",
            "Manages lines, money and tickets below their node; does not manage users or roles.",
            _all_but("users:manage", "roles:manage"),
        ),
        Role(
            "number_manager",
            "Number manager",
            "Manages lines: blocks, SIM cards, numbers, services, tariffs, labels and packages; terminates lines.",
            frozenset(
                {
                    "lines:read",
                    "lines:activate",
                    "lines:block",
                    "lines:replace-sim",
                    "lines:change-number",
                    "lines:order-sims",
                    "lines:configure",
                    "lines:move",
                    "lines:send-sms",
                    "lines:terminate",
                    "lines:label",
                    "tariffs:change",
                    "packages:buy",
                    "tickets:read",
                    "tickets:write",
                    "reports:read",
                }
            ),
        ),
        Role("viewer", "Viewer", "Sees lines, money, users, tickets and reports; changes nothing.", _READ),
        Role(
            "coordinator_assistant",
            "Coordinator assistant",
            "Helps the coordinator: sees everything a viewer sees, blocks lines, files tickets.",
            _READ | {"lines:block", "tickets:write"},
        ),
    )
}


OPERATOR_ROLES: dict[str, Role] = {
    role.id: role
    for role in (
        Role(
            "back_office",
            "Back office",
            "Onboards corporate customers and adds their accounts.",
            frozenset({"customers:onboard", "customers:read"}),
        ),
        Role(
            "support",
            "Support",
            "Works the support desk: every customer's tickets, and reads corporate customers to answer them.",
            frozenset({"customers:read", TICKETS_SUPPORT}),
        ),
    )
}
"""Roles of the operator's own staff (the back-office), not of customers' users."""
