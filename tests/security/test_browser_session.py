"""A browser's session against the real identity: the refresh cookie rotates, needs the header, and ends.

Forged refreshes (CSRF): a request that carries the cookie but not ``X-SIMfleet-Client: browser`` is what a form
or another site could send; it renews nothing and leaves the session as it was. The cookie's token is spent on
use, as a body's is (with identity's moment of grace for a second tab): presenting it again once its successor
is spent ends the whole session. Sign-out ends it and clears the cookie.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

import httpx
import pytest

from simfleet_devstack.platform import Platform
from tests.helpers import new_user, problem

pytestmark = pytest.mark.e2e

BROWSER = {"X-SIMfleet-Client": "browser"}
PASSWORD = "Browser-Passw0rd-2026"


def cookie_of(response: httpx.Response) -> str:
    jar: SimpleCookie = SimpleCookie()
    jar.load(response.headers["set-cookie"])
    morsel = jar["simfleet_refresh"]
    assert (morsel["httponly"], morsel["secure"], morsel["samesite"]) == (True, True, "strict")
    return morsel.value


def refresh(api: httpx.Client, token: str, headers: dict[str, str] = BROWSER) -> httpx.Response:
    # httpx keeps Secure cookies off plain http: the cookie is sent by hand, as the browser sends it.
    return api.post("/v1/auth/refresh", headers={**headers, "Cookie": f"simfleet_refresh={token}"})


def test_the_refresh_cookie_rotates_needs_the_header_and_a_leak_ends_it(platform: Platform, api: httpx.Client) -> None:
    user = new_user(platform, password=PASSWORD)
    signed_in = api.post("/v1/auth/password", json={"phone": user.phone, "password": PASSWORD}, headers=BROWSER)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["refresh_token"] is None
    first = cookie_of(signed_in)

    forged = refresh(api, first, headers={})
    assert problem(forged, 401)["reason"] == "REFRESH_TOKEN_MISSING"

    renewed = refresh(api, first)
    assert renewed.status_code == 200, renewed.text
    second = cookie_of(renewed)
    assert second != first
    access = renewed.json()["access_token"]
    assert api.get("/v1/me", headers={"Authorization": f"Bearer {access}"}).status_code == 200

    # Another tab of the same browser refreshing with the same cookie moments later gets the same successor.
    assert cookie_of(refresh(api, first)) == second
    third = cookie_of(refresh(api, second))
    # Once the successor is spent, the first cookie again is a leak: refused, and the session is over.
    assert problem(refresh(api, first), 401)["reason"] == "REFRESH_TOKEN_REUSED"
    assert problem(refresh(api, third), 401)["reason"] == "SESSION_ENDED"


def test_a_browser_sign_out_ends_the_session_of_the_cookie(platform: Platform, api: httpx.Client) -> None:
    user = new_user(platform, password=PASSWORD)
    signed_in = api.post("/v1/auth/password", json={"phone": user.phone, "password": PASSWORD}, headers=BROWSER)
    token = cookie_of(signed_in)

    out = api.post("/v1/auth/logout", headers={**BROWSER, "Cookie": f"simfleet_refresh={token}"})

    assert out.status_code == 204
    assert "simfleet_refresh=" in out.headers["set-cookie"] and "Max-Age=0" in out.headers["set-cookie"]
    problem(refresh(api, token), 401)
