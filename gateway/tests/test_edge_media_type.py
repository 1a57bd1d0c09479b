"""Bodies are JSON in UTF-8 without a byte order mark, or 415 before any route or service sees them."""

from __future__ import annotations

import json

import pytest

BEARER = {"Authorization": "Bearer access.token.1"}
OTP_BODY = {"phone": "+79990000001", "channel": "sms"}

BODY_ENDPOINTS = [
    ("POST", "/v1/auth/otp"),
    ("POST", "/v1/auth/password"),
    ("POST", "/v1/auth/refresh"),
    ("PUT", "/v1/me/password"),
    ("POST", "/v1/nodes"),
    ("PATCH", "/v1/nodes/01JA0Z6X3W8T9R2Q1P0N5M4K7B"),
    ("POST", "/v1/users"),
    ("POST", "/v1/roles"),
    ("PUT", "/v1/roles/01JA0Z6X3W8T9R2Q1P0N5M4K7B"),
    ("POST", "/v1/admin/customers"),
    ("POST", "/v1/operations"),
    ("POST", "/v1/sim-orders"),
]


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", None],
)
async def test_a_body_that_is_not_json_is_415(client, identity, problem, method, path, content_type):
    headers = dict(BEARER)
    if content_type:
        headers["Content-Type"] = content_type
    response = await client.request(method, path, content=json.dumps(OTP_BODY).encode(), headers=headers)

    problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert identity.calls == []


@pytest.mark.parametrize(
    "encoded",
    [
        b"\xef\xbb\xbf" + json.dumps(OTP_BODY).encode(),
        json.dumps(OTP_BODY).encode("utf-16"),
        json.dumps(OTP_BODY).encode("utf-16-le"),
        json.dumps(OTP_BODY).encode("utf-16-be"),
        json.dumps(OTP_BODY).encode("utf-32"),
        json.dumps(OTP_BODY).encode("utf-32-le"),
    ],
    ids=["utf-8-bom", "utf-16-bom", "utf-16-le", "utf-16-be", "utf-32-bom", "utf-32-le"],
)
async def test_a_bom_or_a_wide_encoding_is_refused_unparsed(client, identity, problem, encoded):
    response = await client.post("/v1/auth/otp", content=encoded, headers={"Content-Type": "application/json"})

    problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert identity.calls == []


async def test_another_charset_is_415(client, problem):
    response = await client.post(
        "/v1/auth/otp",
        content=json.dumps(OTP_BODY).encode("latin-1"),
        headers={"Content-Type": "application/json; charset=iso-8859-1"},
    )

    problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"])
async def test_json_in_utf8_is_taken(client, identity, content_type):
    body = json.dumps({"phone": "+79990000001", "channel": "sms"}, ensure_ascii=False).encode()
    response = await client.post("/v1/auth/otp", content=body, headers={"Content-Type": content_type})

    assert response.status_code == 202, response.text
    assert identity.last("StartOtpSignIn").request.phone == "+79990000001"


async def test_a_body_sent_in_small_chunks_is_checked_and_passed_on_whole(client, identity):
    body = json.dumps(OTP_BODY).encode()

    async def chunks():
        for i in range(0, len(body), 2):
            yield body[i : i + 2]

    response = await client.post("/v1/auth/otp", content=chunks(), headers={"Content-Type": "application/json"})

    assert response.status_code == 202, response.text


async def test_a_bodyless_post_needs_no_content_type(client, identity):
    response = await client.post("/v1/auth/logout", headers=BEARER)

    assert response.status_code == 204, response.text


def test_the_openapi_documents_415_where_a_body_is_taken(gateway):
    schema = gateway.app.openapi()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                assert "415" in operation["responses"], (method, path)
