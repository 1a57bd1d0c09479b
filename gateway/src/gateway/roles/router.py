"""/v1/roles and /v1/permissions (ID-10): the predefined roles, the customer's own, the catalogue."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from gateway.deps import SignedInIdentity
from gateway.openapi import sends
from gateway.problems import problem_responses
from gateway.roles.schemas import PermissionItem, PermissionsList, RoleBody, RoleResponse, RolesList
from simfleet.identity.v1 import users_pb2 as pb

router = APIRouter(tags=["roles"])

RoleIdPath = Annotated[str, Path(min_length=1, max_length=64, description="a custom role's id")]


@router.get(
    "/v1/permissions",
    operation_id="listPermissions",
    summary="The permission catalogue",
    responses=problem_responses(401),
)
async def list_permissions(identity: SignedInIdentity) -> PermissionsList:
    answer = await identity.call(identity.roles.ListPermissions, pb.ListPermissionsRequest())
    return PermissionsList(items=[PermissionItem(name=p.name, description=p.description) for p in answer.permissions])


@router.get(
    "/v1/roles",
    operation_id="listRoles",
    summary="Predefined roles, then the customer's own",
    description="`sort=predefined` (default) lists the predefined roles first, then the customer's by name.",
    responses=problem_responses(400, 401, 422),
)
async def list_roles(
    identity: SignedInIdentity,
    q: Annotated[str | None, Query(max_length=100, description="names containing this")] = None,
    sort: Annotated[Literal["predefined", "name", "-name"], Query()] = "predefined",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1024)] = None,
) -> RolesList:
    answer = await identity.call(
        identity.roles.ListRoles,
        pb.ListRolesRequest(query=q or "", order_by=sort, page_size=limit, page_token=cursor or ""),
    )
    return RolesList(
        items=[RoleResponse.from_proto(r) for r in answer.roles], next_cursor=answer.next_page_token or None
    )


@router.post(
    "/v1/roles",
    operation_id="createRole",
    status_code=status.HTTP_201_CREATED,
    summary="Create a custom role",
    description="Needs `roles:manage`; a role cannot hold a permission the caller does not hold.",
    responses={201: sends("Location"), **problem_responses(400, 401, 403, 409, 422)},
)
async def create_role(body: RoleBody, identity: SignedInIdentity, response: Response) -> RoleResponse:
    answer = await identity.call(
        identity.roles.CreateRole,
        pb.CreateRoleRequest(name=body.name, description=body.description, permissions=body.permissions),
    )
    response.headers["Location"] = f"/v1/roles/{answer.role.id}"
    return RoleResponse.from_proto(answer.role)


@router.put(
    "/v1/roles/{role_id}",
    operation_id="updateRole",
    summary="Change a custom role",
    description="Holders get the new permissions with their next token (10 minutes at most).",
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
async def update_role(role_id: RoleIdPath, body: RoleBody, identity: SignedInIdentity) -> RoleResponse:
    answer = await identity.call(
        identity.roles.UpdateRole,
        pb.UpdateRoleRequest(
            role_id=role_id, name=body.name, description=body.description, permissions=body.permissions
        ),
    )
    return RoleResponse.from_proto(answer.role)


@router.delete(
    "/v1/roles/{role_id}",
    operation_id="deleteRole",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a custom role no grant uses",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def delete_role(role_id: RoleIdPath, identity: SignedInIdentity) -> Response:
    await identity.call(identity.roles.DeleteRole, pb.DeleteRoleRequest(role_id=role_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
