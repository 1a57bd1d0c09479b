"""Bodies of /v1/roles and /v1/permissions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gateway.text import HumanText
from simfleet.identity.v1 import users_pb2 as pb

_ROLE_EXAMPLE: dict[str, JsonValue] = {
    "id": "01JA0ZC1V2B3N4M5Q6W7E8R9T0",
    "name": "Fleet coordinator",
    "description": "Blocks lines and files tickets for the fleet",
    "permissions": ["lines:block", "lines:read", "tickets:write"],
    "predefined": False,
    "created_at": "2026-01-15T09:30:00Z",
    "updated_at": "2026-01-15T09:30:00Z",
}


class PermissionItem(BaseModel):
    name: str = Field(examples=["lines:block"])
    description: str = Field(examples=["Block and unblock lines"])


class PermissionsList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [{"name": "lines:block", "description": "Block and unblock lines"}]}]}
    )

    items: list[PermissionItem]


class RoleResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ROLE_EXAMPLE]})

    id: str = Field(description="a predefined role's name, or a custom role's id")
    name: str
    description: str
    permissions: list[str]
    predefined: bool
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_proto(cls, role: pb.Role) -> RoleResponse:
        return cls(
            id=role.id,
            name=role.name,
            description=role.description,
            permissions=list(role.permissions),
            predefined=role.predefined,
            created_at=role.created_at.ToDatetime(tzinfo=UTC) if role.HasField("created_at") else None,
            updated_at=role.updated_at.ToDatetime(tzinfo=UTC) if role.HasField("updated_at") else None,
        )


class RolesList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_ROLE_EXAMPLE], "next_cursor": None}]})

    items: list[RoleResponse]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null on the last")


class RoleBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Fleet coordinator",
                    "description": "Blocks lines and files tickets for the fleet",
                    "permissions": ["lines:read", "lines:block", "tickets:write"],
                }
            ]
        },
    )

    name: Annotated[str, HumanText] = Field(min_length=1, max_length=100)
    description: Annotated[str, HumanText] = Field("", max_length=500)
    permissions: list[str] = Field(min_length=1, max_length=100, description="names from /v1/permissions")
