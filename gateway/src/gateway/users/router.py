"""/v1/users: the customer's users and their grants (ID-8, ID-9, ID-11), decided by identity.

Identity answers only within the caller's scope: a user none of whose grants
lies there is a 404; granting more than one holds where one grants is a 403.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Response, status

from gateway.deps import SignedInIdentity
from gateway.me.schemas import UserResponse
from gateway.openapi import sends
from gateway.problems import problem_responses
from gateway.upstream.errors import fields_named
from gateway.users.schemas import GrantBody, GrantResponse, GrantsList, InvitedUser, InviteUserRequest, UsersPage
from simfleet.identity.v1 import common_pb2
from simfleet.identity.v1 import users_pb2 as pb

router = APIRouter(prefix="/v1/users", tags=["users"])

UserIdPath = Annotated[str, Path(min_length=1, max_length=64, description="a user id")]
STATUSES = {"active": common_pb2.USER_STATUS_ACTIVE, "disabled": common_pb2.USER_STATUS_DISABLED}


@router.get(
    "",
    operation_id="listUsers",
    summary="Users with a grant in the caller's scope",
    responses=problem_responses(400, 401, 404, 422),
)
async def list_users(
    identity: SignedInIdentity,
    response: Response,
    node_id: Annotated[str | None, Query(max_length=64, description="only users with a grant in this subtree")] = None,
    q: Annotated[str | None, Query(max_length=200, description="names, phones or emails containing this")] = None,
    status_: Annotated[Literal["active", "disabled"] | None, Query(alias="status")] = None,
    sort: Annotated[Literal["display_name", "-display_name", "created_at", "-created_at"], Query()] = "display_name",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1024)] = None,
) -> UsersPage:
    answer = await identity.call(
        identity.users.ListUsers,
        pb.ListUsersRequest(
            node_id=node_id or "",
            query=q or "",
            status=STATUSES[status_] if status_ else common_pb2.USER_STATUS_UNSPECIFIED,
            order_by=sort,
            page_size=limit,
            page_token=cursor or "",
        ),
    )
    response.headers["Cache-Control"] = "no-store"
    return UsersPage(
        items=[UserResponse.from_proto(u) for u in answer.users], next_cursor=answer.next_page_token or None
    )


@router.post(
    "",
    operation_id="inviteUser",
    status_code=status.HTTP_201_CREATED,
    summary="Invite a user",
    description=(
        "Creates the user with their grants (each needs `users:manage` at its node and may hold nothing the caller "
        "lacks there); they get an SMS and set a password by one-time code. An `Idempotency-Key` makes a retry "
        "with the same body return the same user; the key with another body is refused (422 "
        "`IDEMPOTENCY_KEY_REUSED`)."
    ),
    responses={201: sends("Location"), **problem_responses(400, 401, 403, 404, 409, 422)},
)
async def invite_user(
    body: InviteUserRequest,
    identity: SignedInIdentity,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> InvitedUser:
    with fields_named({"display_name": "name"}):
        answer = await identity.call(
            identity.users.InviteUser,
            pb.InviteUserRequest(
                phone=body.phone,
                email=body.email,
                display_name=body.name,
                grants=[pb.GrantRequest(role=g.role, node_id=g.node_id) for g in body.grants],
                request_id=idempotency_key or "",
            ),
        )
    response.headers["Location"] = f"/v1/users/{answer.user.id}"
    return InvitedUser(
        user=UserResponse.from_proto(answer.user), grants=[GrantResponse.from_proto(g) for g in answer.grants]
    )


@router.get("/{user_id}", operation_id="getUser", summary="One user", responses=problem_responses(401, 404, 422))
async def get_user(user_id: UserIdPath, identity: SignedInIdentity) -> UserResponse:
    answer = await identity.call(identity.users.GetUser, pb.GetUserRequest(user_id=user_id))
    return UserResponse.from_proto(answer.user)


@router.post(
    "/{user_id}/disable",
    operation_id="disableUser",
    summary="Disable a user: every session ends at once",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def disable_user(user_id: UserIdPath, identity: SignedInIdentity) -> UserResponse:
    answer = await identity.call(identity.users.DisableUser, pb.DisableUserRequest(user_id=user_id))
    return UserResponse.from_proto(answer.user)


@router.post(
    "/{user_id}/enable",
    operation_id="enableUser",
    summary="Enable a user again",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def enable_user(user_id: UserIdPath, identity: SignedInIdentity) -> UserResponse:
    answer = await identity.call(identity.users.EnableUser, pb.EnableUserRequest(user_id=user_id))
    return UserResponse.from_proto(answer.user)


@router.get(
    "/{user_id}/grants",
    operation_id="listUserGrants",
    summary="The user's grants in the caller's scope",
    responses=problem_responses(400, 401, 404, 422),
)
async def list_grants(
    user_id: UserIdPath,
    identity: SignedInIdentity,
    sort: Annotated[Literal["created_at", "-created_at"], Query()] = "created_at",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1024)] = None,
) -> GrantsList:
    answer = await identity.call(
        identity.users.ListGrants,
        pb.ListGrantsRequest(user_id=user_id, order_by=sort, page_size=limit, page_token=cursor or ""),
    )
    return GrantsList(
        items=[GrantResponse.from_proto(g) for g in answer.grants], next_cursor=answer.next_page_token or None
    )


@router.post(
    "/{user_id}/grants",
    operation_id="addUserGrant",
    status_code=status.HTTP_201_CREATED,
    summary="Give a user a role over a node",
    responses={201: sends("Location"), **problem_responses(400, 401, 403, 404, 409, 422)},
)
async def add_grant(
    user_id: UserIdPath, body: GrantBody, identity: SignedInIdentity, response: Response
) -> GrantResponse:
    answer = await identity.call(
        identity.users.AddGrant,
        pb.AddGrantRequest(user_id=user_id, grant=pb.GrantRequest(role=body.role, node_id=body.node_id)),
    )
    response.headers["Location"] = f"/v1/users/{user_id}/grants/{answer.grant.id}"
    return GrantResponse.from_proto(answer.grant)


@router.delete(
    "/{user_id}/grants/{grant_id}",
    operation_id="removeUserGrant",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Take a grant away",
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def remove_grant(
    user_id: UserIdPath,
    grant_id: Annotated[str, Path(min_length=1, max_length=64)],
    identity: SignedInIdentity,
) -> Response:
    await identity.call(identity.users.RemoveGrant, pb.RemoveGrantRequest(user_id=user_id, grant_id=grant_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
