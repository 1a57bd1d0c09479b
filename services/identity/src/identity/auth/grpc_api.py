"""simfleet.identity.v1.AuthService."""

from __future__ import annotations

from typing import Any

from identity import convert
from identity.auth.service import SignInService
from identity.otp import models as otp_models
from identity.sessions.keys import SigningKeyStore
from identity.sessions.service import SessionService
from simfleet.identity.v1 import auth_pb2 as pb
from simfleet.identity.v1 import auth_pb2_grpc, common_pb2
from simfleet_runtime.context import current_call

SERVICE_NAME = "simfleet.identity.v1.AuthService"


class AuthApi(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, *, sign_in: SignInService, sessions: SessionService, keys: SigningKeyStore) -> None:
        self._sign_in = sign_in
        self._sessions = sessions
        self._keys = keys

    async def StartOtpSignIn(self, request: pb.StartOtpSignInRequest, context: Any) -> pb.StartOtpSignInResponse:
        issued = await self._sign_in.start_otp(
            phone=request.phone,
            channel=convert.channel(request.channel),
            purpose=otp_models.SIGN_IN,
            call=current_call(),
            customer_id=request.customer_id,
        )
        return pb.StartOtpSignInResponse(challenge_id=issued.challenge_id, expires_in=issued.expires_in)

    async def VerifyOtp(self, request: pb.VerifyOtpRequest, context: Any) -> pb.VerifyOtpResponse:
        tokens = await self._sign_in.verify_otp(
            challenge_id=request.challenge_id, code=request.code, call=current_call()
        )
        return pb.VerifyOtpResponse(tokens=convert.tokens(tokens))

    async def SignInWithPassword(
        self, request: pb.SignInWithPasswordRequest, context: Any
    ) -> pb.SignInWithPasswordResponse:
        tokens = await self._sign_in.password(
            phone=request.phone, password=request.password, call=current_call(), customer_id=request.customer_id
        )
        return pb.SignInWithPasswordResponse(tokens=convert.tokens(tokens))

    async def RefreshSession(self, request: pb.RefreshSessionRequest, context: Any) -> pb.RefreshSessionResponse:
        tokens = await self._sessions.refresh(request.refresh_token)
        return pb.RefreshSessionResponse(tokens=convert.tokens(tokens))

    async def SignOut(self, request: pb.SignOutRequest, context: Any) -> pb.SignOutResponse:
        await self._sessions.sign_out(call=current_call(), refresh_token=request.refresh_token)
        return pb.SignOutResponse()

    async def StartPasswordReset(
        self, request: pb.StartPasswordResetRequest, context: Any
    ) -> pb.StartPasswordResetResponse:
        issued = await self._sign_in.start_otp(
            phone=request.phone,
            channel=convert.channel(request.channel),
            purpose=otp_models.PASSWORD_RESET,
            call=current_call(),
            customer_id=request.customer_id,
        )
        return pb.StartPasswordResetResponse(challenge_id=issued.challenge_id, expires_in=issued.expires_in)

    async def ConfirmPasswordReset(
        self, request: pb.ConfirmPasswordResetRequest, context: Any
    ) -> pb.ConfirmPasswordResetResponse:
        tokens = await self._sign_in.confirm_password_reset(
            challenge_id=request.challenge_id,
            code=request.code,
            new_password=request.new_password,
            call=current_call(),
        )
        return pb.ConfirmPasswordResetResponse(tokens=convert.tokens(tokens))

    async def GetJwks(self, request: pb.GetJwksRequest, context: Any) -> pb.GetJwksResponse:
        keys = await self._keys.jwks()
        return pb.GetJwksResponse(
            keys=[
                common_pb2.Jwk(kty=k["kty"], crv=k["crv"], x=k["x"], kid=k["kid"], alg=k["alg"], use=k["use"])
                for k in keys
            ]
        )
