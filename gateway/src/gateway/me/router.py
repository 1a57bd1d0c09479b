"""/v1/me: the signed-in user's own profile, password and sign-in history.

Every endpoint needs an access token; identity verifies it (the gateway only
forwards it).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from gateway.answers import NO_STORE, JsonAnswer
from gateway.deps import SignedInIdentity
from gateway.me.schemas import ChangePasswordRequest, MeResponse, SignInItem, SignInsPage, me_json
from gateway.problems import problem_responses
from simfleet.identity.v1 import profile_pb2

router = APIRouter(prefix="/v1/me", tags=["me"])
_GET_ME = profile_pb2.GetMeRequest()
"""The request is empty: one message serves every call (gRPC only reads it)."""


@router.get(
    "",
    operation_id="getMe",
    response_model=MeResponse,
    summary="The signed-in user",
    responses=problem_responses(401, 403, 404),
)
async def get_me(identity: SignedInIdentity) -> JsonAnswer:
    answer = await identity.call(identity.profile.GetMe, _GET_ME)
    return JsonAnswer(me_json(answer), headers=NO_STORE)


@router.put(
    "/password",
    operation_id="changeMyPassword",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Change the password",
    description=(
        "Needs the current password; the new one must meet the password rules (422 with errors if not). "
        "A user without a password yet (invited) sets the first one from a session opened by a one-time code "
        "at most 10 minutes ago (403 `FRESH_SIGN_IN_REQUIRED` otherwise)."
    ),
    responses=problem_responses(400, 401, 403, 409, 422),
)
async def change_password(body: ChangePasswordRequest, identity: SignedInIdentity) -> Response:
    await identity.call(
        identity.profile.ChangePassword,
        profile_pb2.ChangePasswordRequest(current_password=body.current_password, new_password=body.new_password),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/sign-ins",
    operation_id="listMySignIns",
    summary="The user's sign-in history, newest first",
    responses=problem_responses(400, 401, 403, 422),
)
async def list_sign_ins(
    identity: SignedInIdentity,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=200, description="items per page")] = 50,
    cursor: Annotated[str | None, Query(min_length=1, max_length=512, description="from next_cursor")] = None,
) -> SignInsPage:
    answer = await identity.call(
        identity.profile.ListSignIns,
        profile_pb2.ListSignInsRequest(page_size=limit, page_token=cursor or ""),
    )
    response.headers["Cache-Control"] = "no-store"
    return SignInsPage(
        items=[SignInItem.from_proto(a) for a in answer.sign_ins],
        next_cursor=answer.next_page_token or None,
    )
