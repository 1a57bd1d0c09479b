"""identity's commands as the action history names them (sign-ins arrive as their own events)."""

from __future__ import annotations

from typing import Any

from simfleet_runtime.audit import Command, obj

U = "/simfleet.identity.v1.CustomerUserService/"
R = "/simfleet.identity.v1.RoleService/"
P = "/simfleet.identity.v1.ProfileService/"
A = "/simfleet.identity.v1.IdentityAdminService/"


def _grants(grants: Any) -> list[Any]:
    return [obj("grant", g.id, g.node_id) for g in grants]


COMMANDS = {
    U + "InviteUser": Command(
        "users.invite",
        lambda req, ans: (
            [obj("user", ans.user.id), *_grants(ans.grants)]
            if ans
            else [obj("node", g.node_id, g.node_id) for g in req.grants]
        ),
    ),
    U + "DisableUser": Command("users.disable", lambda req, _ans: [obj("user", req.user_id)]),
    U + "EnableUser": Command("users.enable", lambda req, _ans: [obj("user", req.user_id)]),
    U + "AddGrant": Command(
        "users.grant.add",
        lambda req, ans: (
            [obj("user", req.user_id), obj("grant", ans.grant.id, ans.grant.node_id)]
            if ans
            else [obj("user", req.user_id), obj("node", req.grant.node_id, req.grant.node_id)]
        ),
    ),
    U + "RemoveGrant": Command(
        "users.grant.remove", lambda req, _ans: [obj("user", req.user_id), obj("grant", req.grant_id)]
    ),
    R + "CreateRole": Command("roles.create", lambda _req, ans: [obj("role", ans.role.id)] if ans else []),
    R + "UpdateRole": Command("roles.update", lambda req, _ans: [obj("role", req.role_id)]),
    R + "DeleteRole": Command("roles.delete", lambda req, _ans: [obj("role", req.role_id)]),
    P + "ChangePassword": Command("profile.password.change"),
    A + "CreateUser": Command(
        "users.create",
        lambda _req, ans: [obj("user", ans.user.id)] if ans else [],
        customer=lambda req, _ans: str(req.customer_id),
    ),
}
