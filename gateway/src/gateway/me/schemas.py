"""Bodies of /v1/me: the signed-in user, their password, their sign-in history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import BaseModel, ConfigDict, Field

from simfleet.identity.v1 import common_pb2, profile_pb2
from simfleet_runtime.timestamps import to_datetime

UserStatus = Literal["active", "disabled"]
SignInMethod = Literal["unspecified", "password", "otp_sms", "otp_email", "password_reset"]
SignInResult = Literal["unspecified", "succeeded", "bad_credentials", "code_expired", "locked", "user_disabled"]
Password = Annotated[str, Field(min_length=1, max_length=256)]


def _utc(ts: Timestamp) -> datetime:
    return to_datetime(ts)


def _enum_name(full_name: str, prefix: str, allowed: tuple[str, ...]) -> str:
    name = full_name.removeprefix(prefix).lower()
    return name if name in allowed else "unspecified"


def method_name(value: common_pb2.SignInMethod.ValueType) -> SignInMethod:
    try:
        full = common_pb2.SignInMethod.Name(value)
    except ValueError:
        return "unspecified"
    name = _enum_name(full, "SIGN_IN_METHOD_", get_args(SignInMethod))
    return name  # type: ignore[return-value]


def result_name(value: common_pb2.SignInResult.ValueType) -> SignInResult:
    try:
        full = common_pb2.SignInResult.Name(value)
    except ValueError:
        return "unspecified"
    name = _enum_name(full, "SIGN_IN_RESULT_", get_args(SignInResult))
    return name  # type: ignore[return-value]


class UserResponse(BaseModel):
    """The signed-in user."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "01J9Z3K8Q4W7N2M5X6Y8B0C1D2",
                    "customer_id": "01M80FS1VH2MZKYX1PNS53P8M2",
                    "phone": "+79990000000",
                    "email": "manager@demo.example",
                    "display_name": "Demo Profile Manager",
                    "status": "active",
                    "has_password": True,
                    "created_at": "2026-01-15T09:30:00Z",
                }
            ]
        },
    )

    id: str
    customer_id: str
    phone: str = Field(description="E.164")
    email: str | None
    display_name: str
    status: UserStatus
    has_password: bool = Field(description="false until the user has set a permanent password")
    created_at: datetime

    @classmethod
    def from_proto(cls, user: common_pb2.User) -> UserResponse:
        return cls(
            id=user.id,
            customer_id=user.customer_id,
            phone=user.phone,
            email=user.email or None,
            display_name=user.display_name,
            status="active" if user.status == common_pb2.USER_STATUS_ACTIVE else "disabled",
            has_password=user.has_password,
            created_at=_utc(user.created_at),
        )


class Membership(BaseModel):
    """One customer the signed-in phone number is a user of."""

    customer_id: str
    user_id: str
    display_name: str = Field(description="the name that customer knows the user by")


class MeResponse(UserResponse):
    """The signed-in user, and every customer their phone number is a user of."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "01J9Z3K8Q4W7N2M5X6Y8B0C1D2",
                    "customer_id": "01M80FS1VH2MZKYX1PNS53P8M2",
                    "phone": "+79990000000",
                    "email": "manager@demo.example",
                    "display_name": "Demo Profile Manager",
                    "status": "active",
                    "has_password": True,
                    "created_at": "2026-01-15T09:30:00Z",
                    "memberships": [
                        {
                            "customer_id": "01M80FS1VH2MZKYX1PNS53P8M2",
                            "user_id": "01J9Z3K8Q4W7N2M5X6Y8B0C1D2",
                            "display_name": "Demo Profile Manager",
                        }
                    ],
                }
            ]
        },
    )

    memberships: list[Membership] = Field(
        description=(
            "the active users with this phone number, one per customer, this one first; sign in to another "
            "with `customer_id` in `POST /v1/auth/otp` or `POST /v1/auth/password`"
        )
    )

    @classmethod
    def from_me(cls, answer: profile_pb2.GetMeResponse) -> MeResponse:
        user = UserResponse.from_proto(answer.user)
        return cls(
            **user.model_dump(),
            memberships=[
                Membership(customer_id=m.customer_id, user_id=m.user_id, display_name=m.display_name)
                for m in answer.memberships
            ],
        )


def me_json(answer: profile_pb2.GetMeResponse) -> dict[str, Any]:
    """What ``MeResponse.from_me(answer)`` serializes to, built without the models (every ``GET /v1/me``)."""
    user = answer.user
    email = user.email
    return {
        "id": user.id,
        "customer_id": user.customer_id,
        "phone": user.phone,
        "email": email or None,
        "display_name": user.display_name,
        "status": "active" if user.status == common_pb2.USER_STATUS_ACTIVE else "disabled",
        "has_password": user.has_password,
        "created_at": _utc(user.created_at),
        "memberships": [
            {"customer_id": m.customer_id, "user_id": m.user_id, "display_name": m.display_name}
            for m in answer.memberships
        ],
    }


class ChangePasswordRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"current_password": "Example-Passw0rd-1", "new_password": "Example-Passw0rd-2"}]
        },
    )

    current_password: Password
    new_password: Password


class SignInItem(BaseModel):
    id: str
    occurred_at: datetime
    method: SignInMethod
    result: SignInResult
    client_address: str
    user_agent: str

    @classmethod
    def from_proto(cls, attempt: common_pb2.SignInAttempt) -> SignInItem:
        return cls(
            id=attempt.id,
            occurred_at=_utc(attempt.occurred_at),
            method=method_name(attempt.method),
            result=result_name(attempt.result),
            client_address=attempt.client_address,
            user_agent=attempt.user_agent,
        )


class SignInsPage(BaseModel):
    """The user's sign-in attempts, newest first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": "01J9Z3M2A7B8C9D0E1F2G3H4J5",
                            "occurred_at": "2026-01-15T09:31:02Z",
                            "method": "otp_sms",
                            "result": "succeeded",
                            "client_address": "198.51.100.7",
                            "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
                        },
                        {
                            "id": "01J9Z3M0Q1R2S3T4V5W6X7Y8Z9",
                            "occurred_at": "2026-01-15T09:30:40Z",
                            "method": "password",
                            "result": "bad_credentials",
                            "client_address": "198.51.100.7",
                            "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
                        },
                    ],
                    "next_cursor": "MDFKOVozTTBRMVIyUzNUNFY1VzZYN1k4Wjk",
                }
            ]
        },
    )

    items: list[SignInItem]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")
