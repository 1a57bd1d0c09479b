"""Bodies of /v1/users: the customer's users and their grants."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gateway.me.schemas import UserResponse
from gateway.text import HumanText
from simfleet.identity.v1 import users_pb2 as pb

_GRANT_EXAMPLE: dict[str, JsonValue] = {
    "id": "01JA0Z9Q2W3E4R5T6Y7U8I9O0P",
    "user_id": "01J9Z3K8Q4W7N2M5X6Y8B0C1D2",
    "role": "viewer",
    "role_name": "Viewer",
    "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B",
    "permissions": ["billing:read", "lines:read", "reports:read", "tickets:read", "users:read"],
    "created_at": "2026-01-15T09:30:00Z",
}
_USER_EXAMPLE: dict[str, JsonValue] = {
    "id": "01J9Z3K8Q4W7N2M5X6Y8B0C1D2",
    "customer_id": "01M80FS1VH2MZKYX1PNS53P8M2",
    "phone": "+79990000002",
    "email": "head.of.sales@demo.example",
    "display_name": "Head of Sales",
    "status": "active",
    "has_password": False,
    "created_at": "2026-01-15T09:30:00Z",
}
RoleRef = Annotated[
    str,
    Field(min_length=1, max_length=64, description="a predefined role (e.g. viewer) or a custom role's id"),
]
NodeId = Annotated[str, Field(min_length=26, max_length=26, pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]


class GrantBody(BaseModel):
    """A role over a node: its permissions hold in the node's whole subtree."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"role": "viewer", "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B"}]}
    )

    role: RoleRef
    node_id: NodeId


class GrantResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_GRANT_EXAMPLE]})

    id: str
    user_id: str
    role: str
    role_name: str
    node_id: str
    permissions: list[str]
    created_at: datetime

    @classmethod
    def from_proto(cls, grant: pb.Grant) -> GrantResponse:
        return cls(
            id=grant.id,
            user_id=grant.user_id,
            role=grant.role,
            role_name=grant.role_name,
            node_id=grant.node_id,
            permissions=list(grant.permissions),
            created_at=grant.created_at.ToDatetime(tzinfo=UTC),
        )


class GrantsList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_GRANT_EXAMPLE], "next_cursor": None}]})

    items: list[GrantResponse]
    next_cursor: str | None


class InviteUserRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "phone": "+79990000002",
                    "email": "head.of.sales@demo.example",
                    "name": "Head of Sales",
                    "grants": [{"role": "account_manager", "node_id": "01JA0Z6X3W8T9R2Q1P0N5M4K7B"}],
                }
            ]
        },
    )

    phone: str = Field(min_length=1, max_length=32, description="E.164")
    email: str = Field(min_length=3, max_length=254)
    name: Annotated[str, HumanText] = Field(min_length=1, max_length=200)
    grants: list[GrantBody] = Field(min_length=1, max_length=50, description="at least one")


class InvitedUser(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"user": _USER_EXAMPLE, "grants": [_GRANT_EXAMPLE]}]})

    user: UserResponse
    grants: list[GrantResponse]


class UsersPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_USER_EXAMPLE], "next_cursor": None}]})

    items: list[UserResponse]
    next_cursor: str | None
