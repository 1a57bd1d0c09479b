"""Browser sessions: the refresh token in an httpOnly cookie, never in the page's reach.

A sign-in that says ``X-SIMfleet-Client: browser`` gets its refresh token as the
``simfleet_refresh`` cookie (``HttpOnly; Secure; SameSite=Strict; Path=/v1/auth``)
and ``refresh_token: null`` in the body: the page keeps only the access token, in
memory. ``POST /v1/auth/refresh`` without a body takes the cookie's token, but only
with that header too: SameSite=Strict keeps other sites' requests from carrying the
cookie at all, and a custom header is something a plain form or a cross-origin
request without a CORS preflight cannot send, so a forged refresh cannot happen
even from a same-site page that is not ours. ``POST /v1/auth/logout`` with the
header ends the cookie's session and clears the cookie.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Cookie, Header, Response

from gateway.problems import ProblemError

CLIENT_HEADER = "X-SIMfleet-Client"
BROWSER = "browser"
COOKIE = "simfleet_refresh"
COOKIE_PATH = "/v1/auth"

BrowserClient = Annotated[
    str | None,
    Header(
        alias=CLIENT_HEADER,
        pattern=f"^{BROWSER}$",
        description="`browser`: a web page signing in. The refresh token is set as the httpOnly, Secure, "
        "SameSite=Strict cookie `simfleet_refresh` (path /v1/auth) and is null in the body; refresh and sign-out "
        "then take it from the cookie (they need this header too)",
    ),
]
RefreshCookie = Annotated[
    str | None,
    Cookie(
        alias=COOKIE,
        description="the refresh token of a browser's session (set by a sign-in with `X-SIMfleet-Client: browser`)",
    ),
]


def is_browser(client: str | None) -> bool:
    return client == BROWSER


def set_refresh_cookie(response: Response, refresh_token: str) -> None:
    response.set_cookie(COOKIE, refresh_token, path=COOKIE_PATH, httponly=True, secure=True, samesite="strict")


def clear_refresh_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, secure=True, samesite="strict")


def cookie_refresh_token(client: str | None, cookie: str | None) -> str:
    """The refresh token a body-less refresh presents: the cookie's, and only with the browser header."""
    if not is_browser(client):
        raise ProblemError(
            401,
            "REFRESH_TOKEN_MISSING",
            f"send the refresh token in the body, or (a browser) its cookie with {CLIENT_HEADER}: {BROWSER}",
        )
    if not cookie:
        raise ProblemError(401, "REFRESH_TOKEN_MISSING", "this browser has no session: sign in again")
    return cookie
