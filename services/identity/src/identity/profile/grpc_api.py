"""simfleet.identity.v1.ProfileService: every call needs the caller's access token."""

from __future__ import annotations

from typing import Any

from identity import convert
from identity.sessions.service import SessionService
from identity.signins.service import SignInHistory
from identity.users.service import UserService
from simfleet.identity.v1 import profile_pb2 as pb
from simfleet.identity.v1 import profile_pb2_grpc
from simfleet_runtime.context import current_call

SERVICE_NAME = "simfleet.identity.v1.ProfileService"


class ProfileApi(profile_pb2_grpc.ProfileServiceServicer):
    def __init__(self, *, sessions: SessionService, users: UserService, history: SignInHistory) -> None:
        self._sessions = sessions
        self._users = users
        self._history = history

    async def GetMe(self, request: pb.GetMeRequest, context: Any) -> pb.GetMeResponse:
        principal, _session = await self._sessions.authenticate(current_call())
        user, *others = await self._users.with_memberships(principal.user_id)
        members = [user, *others]
        return pb.GetMeResponse(
            user=convert.user(user),
            memberships=[
                pb.Membership(customer_id=m.customer_id, user_id=m.id, display_name=m.display_name) for m in members
            ],
        )

    async def ChangePassword(self, request: pb.ChangePasswordRequest, context: Any) -> pb.ChangePasswordResponse:
        principal, session = await self._sessions.authenticate(current_call())
        await self._users.change_password(
            user_id=principal.user_id,
            session_id=session.id,
            current_password=request.current_password,
            new_password=request.new_password,
            signed_in_by=session.method,
            signed_in_at=session.created_at,
        )
        return pb.ChangePasswordResponse()

    async def ListSignIns(self, request: pb.ListSignInsRequest, context: Any) -> pb.ListSignInsResponse:
        principal, _session = await self._sessions.authenticate(current_call())
        rows, token = await self._history.list_for_user(
            user_id=principal.user_id, page_size=request.page_size, page_token=request.page_token
        )
        return pb.ListSignInsResponse(sign_ins=[convert.attempt(r) for r in rows], next_page_token=token)
