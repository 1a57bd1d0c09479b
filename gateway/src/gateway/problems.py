"""Errors as ``application/problem+json`` (RFC 9457), everywhere.

Every error the gateway answers — a refused sign-in relayed from identity, a
malformed body, an unknown route, a throttled client, a crash — has the same
shape: ``type`` (``https://simfleet.dev/problems/<reason-kebab>``), ``title``,
``status``, ``detail``, ``instance`` (the path), ``reason`` (the stable
machine-readable code, e.g. ``OTP_INVALID``), ``request_id``, and when they
apply ``errors`` (field by field) and ``retry_after`` (seconds).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, get_args

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://simfleet.dev/problems/"


class FieldError(BaseModel):
    """One failing field, named the same way by every endpoint, whichever part of SIMfleet found it."""

    field: str = Field(
        description="the field as the request names it: a query, path or header parameter, or a member of the body, "
        "dotted for nested ones with list items by index (e.g. 'phone', 'cursor', 'items.3.msisdn')"
    )
    pointer: str | None = Field(
        None,
        description="for a member of the JSON body, where it is as an RFC 6901 JSON pointer (e.g. '/items/3/msisdn'; "
        "'' for the body as a whole); null for a parameter",
    )
    message: str


def json_pointer(field: str) -> str:
    """The RFC 6901 pointer of a dotted body field ('items.3.msisdn' → '/items/3/msisdn'; 'body' → '')."""
    if field == "body":
        return ""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in field.split("."))


def _body_members(request: Request) -> frozenset[str]:
    """The top-level members of the body the request's route takes (none for a route without a body)."""
    route = request.scope.get("route")
    body = getattr(route, "body_field", None)
    annotation = getattr(getattr(body, "field_info", None), "annotation", None)
    members = {"body"}
    # A model, or a union of models (one per operation type): the members of any of them.
    for model in [annotation, *get_args(annotation)]:
        fields = getattr(model, "model_fields", None) or {}
        members.update(fields)
        members.update(f.alias for f in fields.values() if getattr(f, "alias", None))
    return frozenset(members)


def with_pointers(request: Request, errors: Sequence[FieldError]) -> list[FieldError]:
    """Each error of a body member with its JSON pointer (found by the route's body model, whoever found it)."""
    members = _body_members(request)
    return [
        e.model_copy(update={"pointer": json_pointer(e.field)})
        if e.pointer is None and e.field.split(".", 1)[0] in members
        else e
        for e in errors
    ]


class Problem(BaseModel):
    """An error answer (RFC 9457)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "https://simfleet.dev/problems/otp-invalid",
                    "title": "Unauthorized",
                    "status": 401,
                    "detail": "the code is not valid",
                    "instance": "/v1/auth/otp/verify",
                    "reason": "OTP_INVALID",
                    "request_id": "01J9Z3K8Q4W7N2M5X6Y8B0C1D2",
                },
                {
                    "type": "https://simfleet.dev/problems/validation-failed",
                    "title": "Unprocessable Content",
                    "status": 422,
                    "detail": "the request is not valid",
                    "instance": "/v1/auth/otp",
                    "reason": "VALIDATION_FAILED",
                    "request_id": "01J9Z3K8Q4W7N2M5X6Y8B0C1D3",
                    "errors": [{"field": "phone", "message": "not an E.164 number"}],
                },
                {
                    "type": "https://simfleet.dev/problems/rate-limited",
                    "title": "Too Many Requests",
                    "status": 429,
                    "detail": "too many sign-in requests from this address; try again later",
                    "instance": "/v1/auth/password",
                    "reason": "RATE_LIMITED",
                    "request_id": "01J9Z3K8Q4W7N2M5X6Y8B0C1D4",
                    "retry_after": 2,
                },
            ]
        }
    )

    type: str = Field(description="a URI naming the kind of problem")
    title: str
    status: int
    detail: str
    instance: str = Field(description="the path of the request")
    reason: str = Field(description="stable machine-readable code, e.g. OTP_INVALID, RATE_LIMITED")
    request_id: str
    errors: list[FieldError] | None = Field(None, description="what is wrong with which field")
    retry_after: int | None = Field(None, description="seconds to wait before trying again")


class ProblemError(Exception):
    """Raised anywhere in request handling to answer with a problem."""

    def __init__(
        self,
        status: int,
        reason: str,
        detail: str,
        *,
        errors: Sequence[FieldError] = (),
        retry_after: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail
        self.errors = list(errors)
        self.retry_after = retry_after
        self.headers = dict(headers or {})


def problem_type(reason: str) -> str:
    return PROBLEM_TYPE_BASE + reason.lower().replace("_", "-")


def problem_body(error: ProblemError, *, instance: str, request_id: str) -> dict[str, Any]:
    """The problem's JSON (also sent as an event once a stream has started and a status can no longer be)."""
    body: dict[str, Any] = {
        "type": problem_type(error.reason),
        "title": HTTPStatus(error.status).phrase,
        "status": error.status,
        "detail": error.detail,
        "instance": instance,
        "reason": error.reason,
        "request_id": request_id,
    }
    if error.errors:
        body["errors"] = [e.model_dump() for e in error.errors]
    if error.retry_after is not None:
        body["retry_after"] = error.retry_after
    return body


def problem_response(error: ProblemError, *, instance: str, request_id: str) -> JSONResponse:
    body = problem_body(error, instance=instance, request_id=request_id)
    headers = dict(error.headers)
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(body, status_code=error.status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def request_id_of(request: Request) -> str:
    return str(getattr(request.state, "request_id", ""))


def respond(request: Request, error: ProblemError) -> JSONResponse:
    if error.errors:
        error.errors = with_pointers(request, error.errors)
    return problem_response(error, instance=request.url.path, request_id=request_id_of(request))


_HTTP_REASONS = {
    404: ("NOT_FOUND", "there is nothing at this path"),
    405: ("METHOD_NOT_ALLOWED", "this path does not accept the method"),
    413: ("CONTENT_TOO_LARGE", "the request body is too large"),
}


_UNION_TAGS: set[str] = set()


def register_union_tags(tags: Iterable[str]) -> None:
    """Name the tags of a discriminated union that is a whole body (an operation's ``type``).

    pydantic puts the tag of the member it validated in each error's location
    (``body.block.params.block_type``); the field a client sent is
    ``params.block_type``, so the tag is left out of the names and pointers.
    """
    _UNION_TAGS.update(tags)


def _field_of(error: Mapping[str, Any]) -> FieldError:
    if error.get("type") == "json_invalid":
        return FieldError(field="body", pointer="", message=_message_of(error))
    loc = [str(part) for part in error.get("loc", ())]
    if error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        loc.append(str((error.get("ctx") or {}).get("discriminator", "type")).strip("'"))
    elif len(loc) > 2 and loc[0] == "body" and loc[1] in _UNION_TAGS:
        del loc[1]
    field = ".".join(loc[1:]) or (loc[0] if loc else "body")
    pointer = json_pointer(".".join(loc[1:])) if loc and loc[0] == "body" else None
    return FieldError(field=field, pointer=pointer, message=_message_of(error))


def _message_of(error: Mapping[str, Any]) -> str:
    message = str(error.get("msg", "is not valid"))
    if error.get("type") == "json_invalid":
        return "the body is not valid JSON"
    if error.get("type") == "union_tag_invalid":
        return "must be one of " + str((error.get("ctx") or {}).get("expected_tags", "")).replace("'", "")
    if error.get("type") == "union_tag_not_found":
        return "is required"
    return message.removeprefix("Value error, ")


MAX_FIELD_ERRORS = 20
"""A body with thousands of bad fields (a bulk operation's lines) is answered with the first few."""


def validation_problem(errors: Sequence[Mapping[str, Any]]) -> ProblemError:
    detail = "the request is not valid"
    if len(errors) > MAX_FIELD_ERRORS:
        detail += f" ({len(errors)} problems; the first {MAX_FIELD_ERRORS} are listed)"
    return ProblemError(
        422,
        "VALIDATION_FAILED",
        detail,
        errors=[_field_of(e) for e in errors[:MAX_FIELD_ERRORS]],
    )


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return respond(request, exc)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return respond(request, validation_problem(exc.errors()))


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    reason, detail = _HTTP_REASONS.get(exc.status_code, (HTTPStatus(exc.status_code).name, ""))
    if not detail:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = dict(exc.headers or {})
    return respond(request, ProblemError(exc.status_code, reason, detail, headers=headers))


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the problems an endpoint can answer (always 503 too)."""
    descriptions = {
        400: "The request is not valid",
        401: "No valid access token, or the credentials are wrong (WWW-Authenticate: Bearer)",
        403: "Not allowed",
        404: "Not found",
        409: "The state of the resource does not allow it",
        422: "A field is not valid (see errors)",
        429: "Too many requests (see Retry-After)",
        502: "A service gave an unexpected answer",
        503: "A service is not reachable; try again (see Retry-After)",
    }
    return {status: {"model": Problem, "description": descriptions[status]} for status in (*statuses, 503)}
