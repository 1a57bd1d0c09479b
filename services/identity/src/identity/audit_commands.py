"""identity's commands as the action history names them (sign-ins arrive as their own events)."""

from __future__ import annotations

from typing import Any

from simfleet_runtime.audit import Command, obj

U = "/simfleet.identity.v1.CustomerUserService/"
R = "/simfleet.identity.v1.RoleService/"
P = "/simfleet.identity.v1.ProfileService/"
A = "/simfleet.identity.v1.IdentityAdminService/"


INVITE = "users.invite"
DISABLE = "users.disable"
ENABLE = "users.enable"
GRANT_ADD = "users.grant.add"
GRANT_REMOVE = "users.grant.remove"
ROLE_CREATE = "roles.create"
ROLE_UPDATE = "roles.update"
ROLE_DELETE = "roles.delete"
PASSWORD_CHANGE = "profile.password.change"
USER_CREATE = "users.create"
"""Written by each command in the transaction of its change (``in_transaction``): the change and its event
commit together. The interceptor records refusals, and a command that changed nothing (a replay, a user
enabled who was)."""


def _grants(grants: Any) -> list[Any]:
    return [obj("grant", g.id, g.node_id) for g in grants]


COMMANDS = {
    U + "InviteUser": Command(
        INVITE,
        lambda req, ans: (
            [obj("user", ans.user.id), *_grants(ans.grants)]
            if ans
            else [obj("node", g.node_id, g.node_id) for g in req.grants]
        ),
        in_transaction=True,
    ),
    U + "DisableUser": Command(DISABLE, lambda req, _ans: [obj("user", req.user_id)], in_transaction=True),
    U + "EnableUser": Command(ENABLE, lambda req, _ans: [obj("user", req.user_id)], in_transaction=True),
    U + "AddGrant": Command(
        GRANT_ADD,
        lambda req, ans: (
            [obj("user", req.user_id), obj("grant", ans.grant.id, ans.grant.node_id)]
            if ans
            else [obj("user", req.user_id), obj("node", req.grant.node_id, req.grant.node_id)]
        ),
        in_transaction=True,
    ),
    U + "RemoveGrant": Command(
        GRANT_REMOVE,
        lambda req, _ans: [obj("user", req.user_id), obj("grant", req.grant_id)],
        in_transaction=True,
    ),
    R + "CreateRole": Command(
        ROLE_CREATE, lambda _req, ans: [obj("role", ans.role.id)] if ans else [], in_transaction=True
    ),
    R + "UpdateRole": Command(ROLE_UPDATE, lambda req, _ans: [obj("role", req.role_id)], in_transaction=True),
    R + "DeleteRole": Command(ROLE_DELETE, lambda req, _ans: [obj("role", req.role_id)], in_transaction=True),
    P + "ChangePassword": Command(PASSWORD_CHANGE, in_transaction=True),
    A + "CreateUser": Command(
        USER_CREATE,
        lambda _req, ans: [obj("user", ans.user.id)] if ans else [],
        customer=lambda req, _ans: str(req.customer_id),
        in_transaction=True,
    ),
}
