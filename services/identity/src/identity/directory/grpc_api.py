"""simfleet.identity.v1.CustomerUserService and RoleService: customers' managers, by their access token."""

from __future__ import annotations

from typing import Any

from identity import convert
from identity.directory.service import Directory, HeldGrant
from identity.grants.catalogue import RoleCatalogue, RoleView
from identity.sessions.service import SessionService
from identity.users.models import ACTIVE, DISABLED
from simfleet.identity.v1 import common_pb2, users_pb2_grpc
from simfleet.identity.v1 import users_pb2 as pb
from simfleet_runtime.authz import PERMISSIONS, Access
from simfleet_runtime.context import current_call
from simfleet_runtime.timestamps import optional_timestamp, timestamp

USERS_SERVICE = "simfleet.identity.v1.CustomerUserService"
ROLES_SERVICE = "simfleet.identity.v1.RoleService"
STATUSES = {common_pb2.USER_STATUS_ACTIVE: ACTIVE, common_pb2.USER_STATUS_DISABLED: DISABLED}


def grant(value: HeldGrant) -> pb.Grant:
    return pb.Grant(
        id=value.record.id,
        user_id=value.record.user_id,
        role=value.role.id,
        role_name=value.role.name,
        node_id=value.record.node_id,
        permissions=sorted(value.role.permissions),
        created_at=timestamp(value.record.created_at),
    )


def role(value: RoleView) -> pb.Role:
    return pb.Role(
        id=value.role.id,
        name=value.role.name,
        description=value.role.description,
        permissions=sorted(value.role.permissions),
        predefined=value.predefined,
        created_at=optional_timestamp(value.created_at),
        updated_at=optional_timestamp(value.updated_at),
    )


class _Caller:
    def __init__(self, *, sessions: SessionService, directory: Directory) -> None:
        self._sessions = sessions
        self._directory = directory

    async def access(self) -> Access:
        """The caller: a live session (revoked ones end at once) with the grants identity holds for them now."""
        principal, _ = await self._sessions.authenticate(current_call())
        return await self._directory.access(principal)


class CustomerUserApi(users_pb2_grpc.CustomerUserServiceServicer):
    def __init__(self, *, sessions: SessionService, directory: Directory) -> None:
        self._caller = _Caller(sessions=sessions, directory=directory)
        self._directory = directory

    async def ListUsers(self, request: pb.ListUsersRequest, context: Any) -> pb.ListUsersResponse:
        access = await self._caller.access()
        users, token = await self._directory.find(
            access,
            node_id=request.node_id,
            query=request.query,
            status=STATUSES.get(request.status, ""),
            page_size=request.page_size,
            page_token=request.page_token,
            order_by=request.order_by,
        )
        return pb.ListUsersResponse(users=[convert.user(u) for u in users], next_page_token=token)

    async def GetUser(self, request: pb.GetUserRequest, context: Any) -> pb.GetUserResponse:
        access = await self._caller.access()
        return pb.GetUserResponse(user=convert.user(await self._directory.get(access, request.user_id)))

    async def InviteUser(self, request: pb.InviteUserRequest, context: Any) -> pb.InviteUserResponse:
        access = await self._caller.access()
        user, held = await self._directory.invite(
            access,
            phone=request.phone,
            email=request.email,
            display_name=request.display_name,
            specs=[(g.role, g.node_id) for g in request.grants],
            request_id=request.request_id,
        )
        return pb.InviteUserResponse(user=convert.user(user), grants=[grant(g) for g in held])

    async def DisableUser(self, request: pb.DisableUserRequest, context: Any) -> pb.DisableUserResponse:
        access = await self._caller.access()
        user = await self._directory.set_status(access, user_id=request.user_id, active=False)
        return pb.DisableUserResponse(user=convert.user(user))

    async def EnableUser(self, request: pb.EnableUserRequest, context: Any) -> pb.EnableUserResponse:
        access = await self._caller.access()
        user = await self._directory.set_status(access, user_id=request.user_id, active=True)
        return pb.EnableUserResponse(user=convert.user(user))

    async def ListGrants(self, request: pb.ListGrantsRequest, context: Any) -> pb.ListGrantsResponse:
        access = await self._caller.access()
        held, token = await self._directory.grants_page(
            access,
            request.user_id,
            page_size=request.page_size,
            page_token=request.page_token,
            order_by=request.order_by,
        )
        return pb.ListGrantsResponse(grants=[grant(g) for g in held], next_page_token=token)

    async def AddGrant(self, request: pb.AddGrantRequest, context: Any) -> pb.AddGrantResponse:
        access = await self._caller.access()
        held = await self._directory.add_grant(
            access, user_id=request.user_id, role=request.grant.role, node_id=request.grant.node_id
        )
        return pb.AddGrantResponse(grant=grant(held))

    async def RemoveGrant(self, request: pb.RemoveGrantRequest, context: Any) -> pb.RemoveGrantResponse:
        access = await self._caller.access()
        await self._directory.remove_grant(access, user_id=request.user_id, grant_id=request.grant_id)
        return pb.RemoveGrantResponse()


class RoleApi(users_pb2_grpc.RoleServiceServicer):
    def __init__(self, *, sessions: SessionService, directory: Directory, roles: RoleCatalogue) -> None:
        self._caller = _Caller(sessions=sessions, directory=directory)
        self._roles = roles

    async def ListPermissions(self, request: pb.ListPermissionsRequest, context: Any) -> pb.ListPermissionsResponse:
        await self._caller.access()
        return pb.ListPermissionsResponse(
            permissions=[pb.Permission(name=name, description=text) for name, text in PERMISSIONS.items()]
        )

    async def ListRoles(self, request: pb.ListRolesRequest, context: Any) -> pb.ListRolesResponse:
        access = await self._caller.access()
        roles, token = await self._roles.page(
            access,
            query=request.query,
            page_size=request.page_size,
            page_token=request.page_token,
            order_by=request.order_by,
        )
        return pb.ListRolesResponse(roles=[role(r) for r in roles], next_page_token=token)

    async def CreateRole(self, request: pb.CreateRoleRequest, context: Any) -> pb.CreateRoleResponse:
        access = await self._caller.access()
        created = await self._roles.create(
            access, name=request.name, description=request.description, permissions=list(request.permissions)
        )
        return pb.CreateRoleResponse(role=role(created))

    async def UpdateRole(self, request: pb.UpdateRoleRequest, context: Any) -> pb.UpdateRoleResponse:
        access = await self._caller.access()
        updated = await self._roles.update(
            access,
            role_id=request.role_id,
            name=request.name,
            description=request.description,
            permissions=list(request.permissions),
        )
        return pb.UpdateRoleResponse(role=role(updated))

    async def DeleteRole(self, request: pb.DeleteRoleRequest, context: Any) -> pb.DeleteRoleResponse:
        access = await self._caller.access()
        await self._roles.delete(access, role_id=request.role_id)
        return pb.DeleteRoleResponse()
