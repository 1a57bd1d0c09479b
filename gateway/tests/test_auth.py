"""/v1/auth: each endpoint's answer, and what it asks identity."""

from __future__ import annotations

from simfleet.identity.v1 import common_pb2

TOKEN_KEYS = {"access_token", "refresh_token", "token_type", "expires_in"}


async def test_start_otp_sends_the_normalised_number_and_answers_202(client, identity):
    response = await client.post("/v1/auth/otp", json={"phone": "+7 (999) 000-00-01", "channel": "sms"})

    assert response.status_code == 202
    assert response.json() == {"challenge_id": "01J9Z3K8Q4W7N2M5X6Y8B0CHAL", "expires_in": 300}
    request = identity.last("StartOtpSignIn").request
    assert request.phone == "+79990000001"
    assert request.channel == common_pb2.OTP_CHANNEL_SMS


async def test_start_otp_by_email(client, identity):
    response = await client.post("/v1/auth/otp", json={"phone": "+79990000001", "channel": "email"})

    assert response.status_code == 202
    assert identity.last("StartOtpSignIn").request.channel == common_pb2.OTP_CHANNEL_EMAIL


async def test_the_customer_to_sign_in_to_is_passed_on_by_every_flow(client, identity):
    customer = "01M80FS1VH2MZKYX1PNS53P8M3"
    for path, body, method in (
        ("/v1/auth/otp", {"phone": "+79990000001", "channel": "sms"}, "StartOtpSignIn"),
        ("/v1/auth/password", {"phone": "+79990000001", "password": "Demo-Passw0rd-2026"}, "SignInWithPassword"),
        ("/v1/auth/password-reset", {"phone": "+79990000001", "channel": "sms"}, "StartPasswordReset"),
    ):
        response = await client.post(path, json=body)
        assert response.status_code < 300, path
        assert identity.last(method).request.customer_id == "", path  # none asked: the number's default
        response = await client.post(path, json={**body, "customer_id": customer})
        assert response.status_code < 300, path
        assert identity.last(method).request.customer_id == customer, path


async def test_verify_otp_answers_tokens(client, identity):
    response = await client.post(
        "/v1/auth/otp/verify", json={"challenge_id": "01J9Z3K8Q4W7N2M5X6Y8B0CHAL", "code": "123456"}
    )

    assert response.status_code == 200
    assert response.json() == {
        "access_token": "access.token.1",
        "refresh_token": "refresh-1",
        "token_type": "Bearer",
        "expires_in": 600,
    }
    assert response.headers["cache-control"] == "no-store"
    request = identity.last("VerifyOtp").request
    assert (request.challenge_id, request.code) == ("01J9Z3K8Q4W7N2M5X6Y8B0CHAL", "123456")


async def test_password_sign_in_answers_tokens(client, identity):
    response = await client.post("/v1/auth/password", json={"phone": "+79990000001", "password": "Demo-Passw0rd-2026"})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == TOKEN_KEYS
    assert body["access_token"] == "access.token.2"
    assert response.headers["cache-control"] == "no-store"
    request = identity.last("SignInWithPassword").request
    assert (request.phone, request.password) == ("+79990000001", "Demo-Passw0rd-2026")


async def test_refresh_answers_new_tokens(client, identity):
    response = await client.post("/v1/auth/refresh", json={"refresh_token": "refresh-2"})

    assert response.status_code == 200
    assert response.json()["refresh_token"] == "refresh-3"
    assert identity.last("RefreshSession").request.refresh_token == "refresh-2"


async def test_logout_with_the_access_token_only(client, identity):
    response = await client.post("/v1/auth/logout", headers={"Authorization": "Bearer access.token.1"})

    assert response.status_code == 204
    assert response.content == b""
    call = identity.last("SignOut")
    assert call.request.refresh_token == ""
    assert call.metadata["authorization"] == "Bearer access.token.1"


async def test_logout_with_a_refresh_token_in_the_body(client, identity):
    response = await client.post("/v1/auth/logout", json={"refresh_token": "refresh-1"})

    assert response.status_code == 204
    call = identity.last("SignOut")
    assert call.request.refresh_token == "refresh-1"
    assert "authorization" not in call.metadata


async def test_password_reset_answers_a_challenge(client, identity):
    response = await client.post("/v1/auth/password-reset", json={"phone": "+79990000001", "channel": "email"})

    assert response.status_code == 202
    assert response.json() == {"challenge_id": "01J9Z3K8Q4W7N2M5X6Y8B0RSET", "expires_in": 300}
    request = identity.last("StartPasswordReset").request
    assert (request.phone, request.channel) == ("+79990000001", common_pb2.OTP_CHANNEL_EMAIL)


async def test_password_reset_confirm_answers_tokens(client, identity):
    response = await client.post(
        "/v1/auth/password-reset/confirm",
        json={"challenge_id": "01J9Z3K8Q4W7N2M5X6Y8B0RSET", "code": "654321", "new_password": "New-Passw0rd-2026"},
    )

    assert response.status_code == 200
    assert response.json()["access_token"] == "access.token.4"
    request = identity.last("ConfirmPasswordReset").request
    assert (request.challenge_id, request.code, request.new_password) == (
        "01J9Z3K8Q4W7N2M5X6Y8B0RSET",
        "654321",
        "New-Passw0rd-2026",
    )


async def test_jwks_is_public_and_cacheable(client):
    response = await client.get("/v1/auth/jwks.json")

    assert response.status_code == 200
    assert response.json() == {
        "keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS", "kid": "k1", "alg": "EdDSA", "use": "sig"}]
    }
    assert response.headers["cache-control"] == "public, max-age=300"


async def test_jwks_leaves_out_fields_a_key_does_not_have(client, identity):
    from simfleet.identity.v1 import auth_pb2

    identity.script("GetJwks", auth_pb2.GetJwksResponse(keys=[common_pb2.Jwk(kty="OKP", kid="k2")]))

    response = await client.get("/v1/auth/jwks.json")

    assert response.json() == {"keys": [{"kty": "OKP", "kid": "k2"}]}
