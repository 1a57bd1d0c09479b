"""Request and response bodies of /v1/auth, validated at the edge."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from simfleet.identity.v1 import auth_pb2, common_pb2
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.validation import normalize_msisdn

_CODE = re.compile(r"[0-9]{6}")


def _phone(value: str) -> str:
    try:
        return normalize_msisdn(value)
    except InvalidArgument as exc:
        raise PydanticCustomError(
            "phone", "must be a phone number in international E.164 form, e.g. +79990000000"
        ) from exc


def _code(value: str) -> str:
    if not _CODE.fullmatch(value):
        raise PydanticCustomError("otp_code", "must be exactly 6 digits")
    return value


Phone = Annotated[
    str,
    Field(min_length=1, max_length=32, description="E.164, e.g. +79990000000"),
    AfterValidator(_phone),
]
OtpCode = Annotated[
    str,
    Field(min_length=6, max_length=6, description="the 6-digit code", json_schema_extra={"pattern": "^[0-9]{6}$"}),
    AfterValidator(_code),
]
ChallengeId = Annotated[str, Field(min_length=1, max_length=64, description="from the answer that sent the code")]
Password = Annotated[str, Field(min_length=1, max_length=256)]
RefreshToken = Annotated[str, Field(min_length=1, max_length=1024)]
Channel = Literal["sms", "email"]
CustomerChoice = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[0-9A-Za-z_.-]+$",
        description=(
            "for a number that is a user of several customers: the customer to sign in to (one of "
            "`memberships` in `GET /v1/me`); without it, the one the number signed in to last. A customer the "
            "number is not a user of is answered as an unknown number is"
        ),
    ),
]

CHANNELS: dict[str, common_pb2.OtpChannel.ValueType] = {
    "sms": common_pb2.OTP_CHANNEL_SMS,
    "email": common_pb2.OTP_CHANNEL_EMAIL,
}


class StartOtpRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"phone": "+79990000000", "channel": "sms"}]},
    )

    phone: Phone
    channel: Channel = Field(description="sms: to the phone; email: to the user's registered address")
    customer_id: CustomerChoice = None


class VerifyOtpRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"challenge_id": "01J9Z3K8Q4W7N2M5X6Y8B0C1D2", "code": "123456"}]},
    )

    challenge_id: ChallengeId
    code: OtpCode


class PasswordSignInRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"phone": "+79990000000", "password": "Example-Passw0rd-1"}]},
    )

    phone: Phone
    password: Password
    customer_id: CustomerChoice = None


class RefreshRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"refresh_token": "rt_7Qm2v9sX0bLk4YwJ1nH8cE5pT3aZ6uRd"}]},
    )

    refresh_token: RefreshToken


class LogoutRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"refresh_token": "rt_7Qm2v9sX0bLk4YwJ1nH8cE5pT3aZ6uRd"}]},
    )

    refresh_token: RefreshToken | None = Field(
        None, description="ends this token's session; without it, the access token's session ends"
    )


class PasswordResetRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"phone": "+79990000000", "channel": "email"}]},
    )

    phone: Phone
    channel: Channel
    customer_id: CustomerChoice = None


class PasswordResetConfirmRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "challenge_id": "01J9Z3K8Q4W7N2M5X6Y8B0C1D2",
                    "code": "123456",
                    "new_password": "Example-Passw0rd-2",
                }
            ]
        },
    )

    challenge_id: ChallengeId
    code: OtpCode
    new_password: Password


class ChallengeResponse(BaseModel):
    """A code is on its way (or, for an unknown number, seems to be: the answer is the same)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"challenge_id": "01J9Z3K8Q4W7N2M5X6Y8B0C1D2", "expires_in": 300}]},
    )

    challenge_id: str
    expires_in: int = Field(description="seconds the code stays valid")


class TokensResponse(BaseModel):
    """A session: send the access token as `Authorization: Bearer <access_token>`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiIwMUo5WiJ9.c2ln",
                    "refresh_token": "rt_7Qm2v9sX0bLk4YwJ1nH8cE5pT3aZ6uRd",
                    "token_type": "Bearer",
                    "expires_in": 600,
                }
            ]
        },
    )

    access_token: str
    refresh_token: str | None = Field(
        description="single use: exchange it at /v1/auth/refresh for a new pair. Null for a browser's sign-in "
        "(`X-SIMfleet-Client: browser`): its refresh token is then in the httpOnly `simfleet_refresh` cookie, "
        "out of the page's reach"
    )
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="seconds until the access token expires")

    @classmethod
    def from_proto(cls, tokens: common_pb2.SessionTokens) -> TokensResponse:
        return cls(access_token=tokens.access_token, refresh_token=tokens.refresh_token, expires_in=tokens.expires_in)


class Jwk(BaseModel):
    kty: str
    crv: str | None = None
    x: str | None = None
    kid: str
    alg: str | None = None
    use: str | None = None


class JwksResponse(BaseModel):
    """The public keys that verify access tokens (RFC 7517)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "keys": [
                        {
                            "kty": "OKP",
                            "crv": "Ed25519",
                            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                            "kid": "01J9Z3K8Q4W7N2M5X6Y8B0C1D2",
                            "alg": "EdDSA",
                            "use": "sig",
                        }
                    ]
                }
            ]
        },
    )

    keys: list[Jwk]

    @classmethod
    def from_proto(cls, answer: auth_pb2.GetJwksResponse) -> JwksResponse:
        return cls(
            keys=[
                Jwk(kty=k.kty, crv=k.crv or None, x=k.x or None, kid=k.kid, alg=k.alg or None, use=k.use or None)
                for k in answer.keys
            ]
        )
