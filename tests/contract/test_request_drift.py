"""What the OpenAPI lets a client leave out, the platform does not require: drift between contract and service.

`POST /v1/sim-orders` once documented `tariff` as optional while inventory refused an order without it. For every
operation that takes a JSON body, each documented example is sent as it is and then once without each optional
member the example has (at any depth of nested objects), as a signed-in manager of a throwaway customer. An
answer that is a 5xx, or a 422 `VALIDATION_FAILED` for the example itself (the document's own example refused),
or a 4xx whose errors name the member just left out (something the schema calls optional is required after all),
is drift. Ids in the examples find nothing in this customer, so a service may answer 404 first: this catches the
checks made before any lookup (the gateway's and the services' field checks), which is where such drift lives.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.main import create_app
from gateway.settings import GatewaySettings
from simfleet_devstack.platform import Platform
from tests.contract.conftest import access_token, onboard_contract_tenant

pytestmark = pytest.mark.e2e

DOCUMENT = create_app(GatewaySettings()).openapi()
PLACEHOLDER_ID = "01JA0Z6X3W8T9R2Q1P0N5M4K7B"


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _object_schema(schema: dict[str, Any], value: Any) -> dict[str, Any] | None:
    """The object schema ``value`` is checked against: through refs, nullable anyOfs and discriminated oneOfs."""
    schema = _resolve(schema)
    if "discriminator" in schema and isinstance(value, dict):
        discriminator = schema["discriminator"]
        return _object_schema({"$ref": discriminator["mapping"][value[discriminator["propertyName"]]]}, value)
    for key in ("anyOf", "oneOf"):
        for member in schema.get(key, ()):
            found = _resolve(member)
            if found.get("type") == "object" or "properties" in found:
                return found
    return schema if "properties" in schema else None


def _optional_paths(schema: dict[str, Any], value: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every member of ``value`` (nested objects too) that its schema does not require."""
    found = _object_schema(schema, value)
    if found is None or not isinstance(value, dict):
        return
    required = set(found.get("required", ()))
    # Members required in the alternative (the gateway's x-exactly-one-of and x-at-least-one-of).
    groups = [{name} for key in ("x-exactly-one-of", "x-at-least-one-of") for name in found.get(key, ())]
    for name, member in value.items():
        if name not in found.get("properties", {}):
            continue
        left = set(value) - {name}
        if name not in required and (not groups or any(group <= left for group in groups)):
            yield (*prefix, name)
        yield from _optional_paths(found["properties"][name], member, (*prefix, name))


def _without(value: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    out = copy.deepcopy(value)
    target = out
    for name in path[:-1]:
        target = target[name]
    del target[path[-1]]
    return out


def _cases() -> Iterator[Any]:
    for path, methods in DOCUMENT["paths"].items():
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if content is None:
                continue
            schema = content["schema"]
            examples = [e["value"] for e in content.get("examples", {}).values()] or _resolve(schema).get(
                "examples", []
            )
            for number, example in enumerate(examples):
                yield pytest.param(method, path, operation, schema, example, id=f"{operation['operationId']}-{number}")


def _url(platform: Platform, path: str, operation: dict[str, Any]) -> str:
    for parameter in operation.get("parameters", ()):
        if parameter["in"] == "path":
            value = (parameter.get("examples") or parameter.get("schema", {}).get("examples") or [PLACEHOLDER_ID])[0]
            path = path.replace("{" + parameter["name"] + "}", str(value))
    return platform.gateway_url + path


@pytest.fixture(scope="module")
def token(platform: Platform) -> str:
    return access_token(platform, onboard_contract_tenant(platform, 7))


@pytest.mark.parametrize(("method", "path", "operation", "schema", "example"), list(_cases()))
def test_nothing_documented_as_optional_is_required(
    platform: Platform,
    token: str,
    method: str,
    path: str,
    operation: dict[str, Any],
    schema: dict[str, Any],
    example: Any,
) -> None:
    headers = {} if "auth" in operation.get("tags", ()) else {"Authorization": f"Bearer {token}"}
    for parameter in operation.get("parameters", ()):
        if parameter["in"] == "header" and parameter.get("required"):
            headers[parameter["name"]] = f"drift-{uuid.uuid4()}"  # a fresh Idempotency-Key
    url = _url(platform, path, operation)

    def send(body: Any) -> httpx.Response:
        return httpx.request(method.upper(), url, json=body, headers=headers, timeout=20)

    answer = send(example)
    assert answer.status_code < 500, answer.text
    assert not (answer.status_code == 422 and answer.json().get("reason") == "VALIDATION_FAILED"), (
        f"the documented example is refused: {answer.text}"
    )
    drift = []
    for left_out in _optional_paths(schema, example):
        answer = send(_without(example, left_out))
        assert answer.status_code < 500, answer.text
        named = ".".join(left_out)
        if 400 <= answer.status_code < 500 and answer.headers.get("content-type", "").startswith(
            "application/problem+json"
        ):
            fields = [e.get("field") for e in answer.json().get("errors") or ()]
            if named in fields:
                drift.append(f"{named}: {answer.status_code} {answer.text}")
    assert drift == [], "optional in the OpenAPI, required by the platform"
