"""/v1/me/notification-preferences and /v1/me/notices: the signed-in user's notices (NO-1), answered by notifications.

Every user reads and changes only their own; notifications takes the user from
the access token. Which events reach them is decided there, by their choices
and their grants (a notice is only about what their scope covers).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from gateway.deps import SignedInNotifications
from gateway.notices.schemas import NoticeResponse, NoticesPage, PreferencesRequest, PreferencesResponse
from gateway.problems import problem_responses
from gateway.upstream.errors import fields_named
from simfleet.notifications.v1 import notices_pb2 as pb

router = APIRouter(prefix="/v1/me", tags=["me"])


@router.get(
    "/notification-preferences",
    operation_id="getMyNotificationPreferences",
    summary="Which notices reach the user, by which channel, in which language",
    description="Every kind with the channels it goes by: the defaults (sign-ins by SMS) until the user saves "
    "their own.",
    responses=problem_responses(401, 403),
)
async def get_preferences(notifications: SignedInNotifications, response: Response) -> PreferencesResponse:
    answer = await notifications.call(notifications.notices.GetPreferences, pb.GetPreferencesRequest())
    response.headers["Cache-Control"] = "no-store"
    return PreferencesResponse.from_proto(answer.preferences)


@router.put(
    "/notification-preferences",
    operation_id="updateMyNotificationPreferences",
    summary="Choose which notices reach the user, by which channel, in which language",
    description="The kinds named get exactly the channels given (an empty list turns the kind off); the others "
    "keep what they had. Notices about lines, operations, money and tickets still come only for what the "
    "user's grants cover.",
    responses=problem_responses(400, 401, 403, 422),
)
async def update_preferences(body: PreferencesRequest, notifications: SignedInNotifications) -> PreferencesResponse:
    with fields_named({"choices": "kinds"}):
        answer = await notifications.call(notifications.notices.UpdatePreferences, body.to_proto())
    return PreferencesResponse.from_proto(answer.preferences)


@router.get(
    "/notices",
    operation_id="listMyNotices",
    summary="The notices sent to the user, newest first",
    responses=problem_responses(400, 401, 403, 422),
)
async def list_notices(
    notifications: SignedInNotifications,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=200, description="items per page")] = 50,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1024, description="from next_cursor")] = None,
) -> NoticesPage:
    with fields_named({"page_token": "cursor", "page_size": "limit"}):
        answer = await notifications.call(
            notifications.notices.ListNotices, pb.ListNoticesRequest(page_size=limit, page_token=cursor or "")
        )
    response.headers["Cache-Control"] = "no-store"
    return NoticesPage(
        items=[NoticeResponse.from_proto(n) for n in answer.notices], next_cursor=answer.next_page_token or None
    )
