"""Browser sessions: the refresh token in an httpOnly, Secure, SameSite=Strict cookie, never in the body."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest

BROWSER = {"X-SIMfleet-Client": "browser"}


def refresh_cookie(response) -> SimpleCookie:
    headers = response.headers.get_list("set-cookie")
    assert len(headers) == 1, headers
    cookie: SimpleCookie = SimpleCookie()
    cookie.load(headers[0])
    assert "simfleet_refresh" in cookie
    return cookie


def assert_locked_down(response) -> str:
    """The cookie's flags: httpOnly, Secure, SameSite=Strict, sent to /v1/auth only; its value."""
    raw = response.headers["set-cookie"]
    morsel = refresh_cookie(response)["simfleet_refresh"]
    assert morsel["httponly"] is True
    assert morsel["secure"] is True
    assert morsel["samesite"] == "strict"
    assert morsel["path"] == "/v1/auth"
    assert "domain=" not in raw.lower()
    return morsel.value


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/auth/password", {"phone": "+79990000001", "password": "Example-Passw0rd-1"}),
        ("/v1/auth/otp/verify", {"challenge_id": "01J9Z3K8Q4W7N2M5X6Y8B0CHAL", "code": "123456"}),
        (
            "/v1/auth/password-reset/confirm",
            {"challenge_id": "01J9Z3K8Q4W7N2M5X6Y8B0RSET", "code": "654321", "new_password": "New-Passw0rd-2026"},
        ),
    ],
)
async def test_a_browser_sign_in_puts_the_refresh_token_in_the_cookie_only(client, path, body):
    response = await client.post(path, json=body, headers=BROWSER)

    assert response.status_code == 200
    answer = response.json()
    assert answer["refresh_token"] is None
    assert answer["access_token"].startswith("access.token.")
    token = assert_locked_down(response)
    assert token.startswith("refresh-")
    assert token not in response.text
    assert response.headers["cache-control"] == "no-store"


async def test_other_clients_get_the_token_in_the_body_and_no_cookie(client):
    response = await client.post("/v1/auth/password", json={"phone": "+79990000001", "password": "Example-Passw0rd-1"})

    assert response.status_code == 200
    assert response.json()["refresh_token"].startswith("refresh-")
    assert "set-cookie" not in response.headers


async def test_a_body_less_refresh_takes_the_cookie_and_sets_the_next_one(client, identity):
    response = await client.post("/v1/auth/refresh", headers={**BROWSER, "Cookie": "simfleet_refresh=refresh-7"})

    assert response.status_code == 200
    assert identity.last("RefreshSession").request.refresh_token == "refresh-7"
    assert response.json()["refresh_token"] is None
    assert assert_locked_down(response) == "refresh-3"


async def test_the_cookie_alone_refreshes_nothing(client, identity):
    """A request without the custom header (a form, a cross-site request) cannot use the cookie (CSRF)."""
    response = await client.post("/v1/auth/refresh", headers={"Cookie": "simfleet_refresh=refresh-7"})

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["reason"] == "REFRESH_TOKEN_MISSING"
    assert identity.count("RefreshSession") == 0
    assert "set-cookie" not in response.headers


async def test_a_browser_without_the_cookie_is_told_to_sign_in(client, identity):
    response = await client.post("/v1/auth/refresh", headers=BROWSER)

    assert response.status_code == 401
    assert response.json()["reason"] == "REFRESH_TOKEN_MISSING"
    assert identity.count("RefreshSession") == 0


async def test_a_refresh_token_in_the_body_still_works_without_the_header(client, identity):
    response = await client.post("/v1/auth/refresh", json={"refresh_token": "refresh-2"})

    assert response.status_code == 200
    assert response.json()["refresh_token"] == "refresh-3"
    assert identity.last("RefreshSession").request.refresh_token == "refresh-2"


async def test_a_browser_sign_out_ends_the_cookies_session_and_clears_it(client, identity):
    response = await client.post("/v1/auth/logout", headers={**BROWSER, "Cookie": "simfleet_refresh=refresh-9"})

    assert response.status_code == 204
    assert identity.last("SignOut").request.refresh_token == "refresh-9"
    morsel = refresh_cookie(response)["simfleet_refresh"]
    assert morsel.value == ""
    assert morsel["max-age"] == "0"
    assert morsel["path"] == "/v1/auth"


async def test_a_sign_out_without_the_header_ignores_the_cookie(client, identity):
    response = await client.post(
        "/v1/auth/logout", headers={"Authorization": "Bearer access.token.1", "Cookie": "simfleet_refresh=refresh-9"}
    )

    assert response.status_code == 204
    assert identity.last("SignOut").request.refresh_token == ""
    assert "set-cookie" not in response.headers


async def test_an_unknown_client_kind_is_a_422(client, identity):
    response = await client.post(
        "/v1/auth/password",
        json={"phone": "+79990000001", "password": "Example-Passw0rd-1"},
        headers={"X-SIMfleet-Client": "toaster"},
    )

    assert response.status_code == 422
    assert identity.count("SignInWithPassword") == 0
