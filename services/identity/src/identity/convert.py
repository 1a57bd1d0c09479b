"""Between domain objects and their protobuf form."""

from __future__ import annotations

from identity.sessions.service import Tokens
from identity.signins import models as signin
from identity.signins.models import SignInAttempt
from identity.users.models import ACTIVE, User
from simfleet.identity.v1 import common_pb2 as pb
from simfleet_runtime.timestamps import timestamp

CHANNELS: dict[int, str] = {pb.OTP_CHANNEL_SMS: "sms", pb.OTP_CHANNEL_EMAIL: "email"}

METHODS = {
    signin.PASSWORD: pb.SIGN_IN_METHOD_PASSWORD,
    signin.OTP_SMS: pb.SIGN_IN_METHOD_OTP_SMS,
    signin.OTP_EMAIL: pb.SIGN_IN_METHOD_OTP_EMAIL,
    signin.PASSWORD_RESET: pb.SIGN_IN_METHOD_PASSWORD_RESET,
}
RESULTS = {
    signin.SUCCEEDED: pb.SIGN_IN_RESULT_SUCCEEDED,
    signin.BAD_CREDENTIALS: pb.SIGN_IN_RESULT_BAD_CREDENTIALS,
    signin.CODE_EXPIRED: pb.SIGN_IN_RESULT_CODE_EXPIRED,
    signin.LOCKED: pb.SIGN_IN_RESULT_LOCKED,
    signin.USER_DISABLED: pb.SIGN_IN_RESULT_USER_DISABLED,
}


def channel(value: int) -> str:
    """The domain's channel name; an unset or unknown channel becomes "" (refused by the use case)."""
    return CHANNELS.get(value, "")


def tokens(value: Tokens) -> pb.SessionTokens:
    return pb.SessionTokens(
        access_token=value.access_token,
        refresh_token=value.refresh_token,
        token_type="Bearer",
        expires_in=value.expires_in,
        session_id=value.session_id,
    )


def user(value: User) -> pb.User:
    return pb.User(
        id=value.id,
        customer_id=value.customer_id,
        phone=value.phone,
        email=value.email,
        display_name=value.display_name,
        status=pb.USER_STATUS_ACTIVE if value.status == ACTIVE else pb.USER_STATUS_DISABLED,
        has_password=value.password_hash is not None,
        created_at=timestamp(value.created_at),
    )


def attempt(value: SignInAttempt) -> pb.SignInAttempt:
    return pb.SignInAttempt(
        id=value.id,
        occurred_at=timestamp(value.occurred_at),
        method=METHODS.get(value.method, pb.SIGN_IN_METHOD_UNSPECIFIED),
        result=RESULTS.get(value.result, pb.SIGN_IN_RESULT_UNSPECIFIED),
        client_address=value.client_address,
        user_agent=value.user_agent,
    )
