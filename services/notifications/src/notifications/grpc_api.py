"""simfleet.notifications.v1.NoticeService: a customer's user's own preferences and notices (NO-1).

The user is the access token's: nobody reads or changes another user's
preferences or notices, so there is no node to check. Operator staff's tokens
are refused (their sign-in SMS stays identity's).
"""

from __future__ import annotations

from typing import Any

from notifications.catalogue import KINDS
from notifications.notices.models import Notice
from notifications.notices.service import Notices
from notifications.preferences.service import Choices, Preferences
from simfleet.notifications.v1 import notices_pb2 as pb
from simfleet.notifications.v1 import notices_pb2_grpc
from simfleet_runtime.authz import Authorizer
from simfleet_runtime.timestamps import timestamp

SERVICE_NAME = "simfleet.notifications.v1.NoticeService"


def preferences_pb(choices: Choices) -> pb.Preferences:
    return pb.Preferences(
        choices=[pb.KindChoice(kind=kind, channels=list(choices.wants(kind))) for kind in KINDS],
        language=choices.language,
        saved=choices.saved,
    )


def notice_pb(notice: Notice) -> pb.Notice:
    message = pb.Notice(
        id=notice.id,
        kind=notice.kind,
        channel=notice.channel,
        recipient=notice.recipient,
        language=notice.language,
        subject=notice.subject if notice.channel == "email" else "",
        text=notice.text,
        events=notice.events,
        state=notice.state,
        created_at=timestamp(notice.created_at),
    )
    if notice.sent_at is not None:
        message.sent_at.CopyFrom(timestamp(notice.sent_at))
    return message


class NoticeApi(notices_pb2_grpc.NoticeServiceServicer):
    def __init__(self, *, preferences: Preferences, notices: Notices, authorizer: Authorizer) -> None:
        self._preferences = preferences
        self._notices = notices
        self._authorizer = authorizer

    async def GetPreferences(self, request: pb.GetPreferencesRequest, context: Any) -> pb.GetPreferencesResponse:
        access = await self._authorizer.access()
        return pb.GetPreferencesResponse(preferences=preferences_pb(await self._preferences.get(access.user_id)))

    async def UpdatePreferences(
        self, request: pb.UpdatePreferencesRequest, context: Any
    ) -> pb.UpdatePreferencesResponse:
        access = await self._authorizer.access()
        choices = await self._preferences.update(
            user_id=access.user_id,
            customer_id=access.customer_id,
            choices=[(c.kind, list(c.channels)) for c in request.choices],
            language=request.language,
        )
        return pb.UpdatePreferencesResponse(preferences=preferences_pb(choices))

    async def ListNotices(self, request: pb.ListNoticesRequest, context: Any) -> pb.ListNoticesResponse:
        access = await self._authorizer.access()
        rows, token = await self._notices.of_user(access.user_id, size=request.page_size, token=request.page_token)
        return pb.ListNoticesResponse(notices=[notice_pb(n) for n in rows], next_page_token=token)
