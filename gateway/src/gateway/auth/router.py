"""/v1/auth: sign-in by one-time code or password, sessions, password reset, JWKS.

Each endpoint validates its body, calls identity's AuthService, and shapes the
answer. Every POST here is rate limited per client address.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response, status

from gateway.auth.browser import (
    BrowserClient,
    RefreshCookie,
    clear_refresh_cookie,
    cookie_refresh_token,
    is_browser,
    set_refresh_cookie,
)
from gateway.auth.schemas import (
    CHANNELS,
    ChallengeResponse,
    JwksResponse,
    LogoutRequest,
    PasswordResetConfirmRequest,
    PasswordResetRequest,
    PasswordSignInRequest,
    RefreshRequest,
    StartOtpRequest,
    TokensResponse,
    VerifyOtpRequest,
)
from gateway.deps import AnonymousIdentity, OptionalBearerIdentity, SignInRateLimit
from gateway.problems import problem_responses
from simfleet.identity.v1 import auth_pb2

router = APIRouter(prefix="/v1/auth", tags=["auth"])

NO_STORE = "no-store"
LOGOUT_EXAMPLES = {
    "access_token": {"summary": "End the session of the access token (or send no body)", "value": {}},
    "refresh_token": {
        "summary": "End the session of a refresh token",
        "value": {"refresh_token": "rt_7Qm2v9sX0bLk4YwJ1nH8cE5pT3aZ6uRd"},
    },
}
REFRESH_EXAMPLES = {
    "refresh_token": {
        "summary": "Exchange a refresh token",
        "value": {"refresh_token": "rt_7Qm2v9sX0bLk4YwJ1nH8cE5pT3aZ6uRd"},
    },
}
JWKS_CACHE = "public, max-age=300"


def _tokens(response: Response, tokens: TokensResponse, client: str | None) -> TokensResponse:
    response.headers["Cache-Control"] = NO_STORE
    if is_browser(client) and tokens.refresh_token:
        set_refresh_cookie(response, tokens.refresh_token)
        return tokens.model_copy(update={"refresh_token": None})
    return tokens


@router.post(
    "/otp",
    operation_id="requestOneTimeCode",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a one-time sign-in code",
    description="Sends a 6-digit code by SMS or to the user's registered email address. "
    "The answer is the same whether or not the number belongs to a user.",
    dependencies=[SignInRateLimit],
    responses=problem_responses(400, 422, 429),
)
async def start_otp(body: StartOtpRequest, identity: AnonymousIdentity) -> ChallengeResponse:
    answer = await identity.call(
        identity.auth.StartOtpSignIn,
        auth_pb2.StartOtpSignInRequest(
            phone=body.phone, channel=CHANNELS[body.channel], customer_id=body.customer_id or ""
        ),
    )
    return ChallengeResponse(challenge_id=answer.challenge_id, expires_in=answer.expires_in)


@router.post(
    "/otp/verify",
    operation_id="signInWithOneTimeCode",
    summary="Sign in with a one-time code",
    dependencies=[SignInRateLimit],
    responses=problem_responses(400, 401, 409, 422, 429),
)
async def verify_otp(
    body: VerifyOtpRequest, identity: AnonymousIdentity, response: Response, client: BrowserClient = None
) -> TokensResponse:
    answer = await identity.call(
        identity.auth.VerifyOtp,
        auth_pb2.VerifyOtpRequest(challenge_id=body.challenge_id, code=body.code),
    )
    return _tokens(response, TokensResponse.from_proto(answer.tokens), client)


@router.post(
    "/password",
    operation_id="signInWithPassword",
    summary="Sign in with phone number and password",
    dependencies=[SignInRateLimit],
    responses=problem_responses(400, 401, 409, 422, 429),
)
async def sign_in_with_password(
    body: PasswordSignInRequest, identity: AnonymousIdentity, response: Response, client: BrowserClient = None
) -> TokensResponse:
    answer = await identity.call(
        identity.auth.SignInWithPassword,
        auth_pb2.SignInWithPasswordRequest(
            phone=body.phone, password=body.password, customer_id=body.customer_id or ""
        ),
    )
    return _tokens(response, TokensResponse.from_proto(answer.tokens), client)


@router.post(
    "/refresh",
    operation_id="refreshTokens",
    summary="Exchange a refresh token for a new pair",
    description="Refresh tokens are single use; presenting a spent one ends the whole session. A browser sends no "
    "body and `X-SIMfleet-Client: browser`: the token is then its `simfleet_refresh` cookie, and the new one is set "
    "in its place.",
    dependencies=[SignInRateLimit],
    responses=problem_responses(400, 401, 422, 429),
)
async def refresh(
    identity: AnonymousIdentity,
    response: Response,
    body: Annotated[RefreshRequest | None, Body(openapi_examples=REFRESH_EXAMPLES)] = None,
    client: BrowserClient = None,
    cookie: RefreshCookie = None,
) -> TokensResponse:
    token = body.refresh_token if body is not None else cookie_refresh_token(client, cookie)
    answer = await identity.call(
        identity.auth.RefreshSession,
        auth_pb2.RefreshSessionRequest(refresh_token=token),
    )
    return _tokens(response, TokensResponse.from_proto(answer.tokens), client)


@router.post(
    "/logout",
    operation_id="signOut",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Sign out",
    description="Ends the session of the access token (Authorization: Bearer), or of the refresh token in the body; "
    "with `X-SIMfleet-Client: browser` and no refresh token in the body, the session of the `simfleet_refresh` "
    "cookie, and the cookie is cleared.",
    dependencies=[SignInRateLimit],
    responses=problem_responses(400, 401, 422, 429),
    openapi_extra={"security": [{}]},  # the bearer token is optional here
)
async def logout(
    identity: OptionalBearerIdentity,
    body: Annotated[LogoutRequest | None, Body(openapi_examples=LOGOUT_EXAMPLES)] = None,
    client: BrowserClient = None,
    cookie: RefreshCookie = None,
) -> Response:
    token = (body.refresh_token or "") if body else ""
    if not token and is_browser(client) and cookie:
        token = cookie
    await identity.call(identity.auth.SignOut, auth_pb2.SignOutRequest(refresh_token=token))
    answer = Response(status_code=status.HTTP_204_NO_CONTENT)
    if is_browser(client):
        clear_refresh_cookie(answer)
    return answer


@router.post(
    "/password-reset",
    operation_id="requestPasswordReset",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a one-time code to reset a forgotten password",
    description="The answer is the same whether or not the number belongs to a user.",
    dependencies=[SignInRateLimit],
    responses=problem_responses(400, 422, 429),
)
async def start_password_reset(body: PasswordResetRequest, identity: AnonymousIdentity) -> ChallengeResponse:
    answer = await identity.call(
        identity.auth.StartPasswordReset,
        auth_pb2.StartPasswordResetRequest(
            phone=body.phone, channel=CHANNELS[body.channel], customer_id=body.customer_id or ""
        ),
    )
    return ChallengeResponse(challenge_id=answer.challenge_id, expires_in=answer.expires_in)


@router.post(
    "/password-reset/confirm",
    operation_id="confirmPasswordReset",
    summary="Set a new password with the code, and sign in",
    dependencies=[SignInRateLimit],
    responses=problem_responses(400, 401, 409, 422, 429),
)
async def confirm_password_reset(
    body: PasswordResetConfirmRequest, identity: AnonymousIdentity, response: Response, client: BrowserClient = None
) -> TokensResponse:
    answer = await identity.call(
        identity.auth.ConfirmPasswordReset,
        auth_pb2.ConfirmPasswordResetRequest(
            challenge_id=body.challenge_id, code=body.code, new_password=body.new_password
        ),
    )
    return _tokens(response, TokensResponse.from_proto(answer.tokens), client)


@router.get(
    "/jwks.json",
    operation_id="getSigningKeys",
    summary="The public keys that verify access tokens",
    response_model_exclude_none=True,
    responses=problem_responses(),
)
async def jwks(identity: AnonymousIdentity, response: Response) -> JwksResponse:
    answer = await identity.call(identity.auth.GetJwks, auth_pb2.GetJwksRequest())
    response.headers["Cache-Control"] = JWKS_CACHE
    return JwksResponse.from_proto(answer)
