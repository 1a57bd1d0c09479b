"""Errors as ``application/problem+json`` (RFC 9457)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from simfleet_runtime.errors import DomainError, InvalidArgument, NotFound

PROBLEM_TYPE_BASE = "https://simfleet.dev/problems/"
MEDIA_TYPE = "application/problem+json"


def problem(status: int, *, reason: str, detail: str, errors: list[dict[str, str]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + reason.lower().replace("_", "-"),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "reason": reason,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def _status_of(exc: DomainError) -> int:
    if isinstance(exc, InvalidArgument):
        return 422
    if isinstance(exc, NotFound):
        return 404
    return 400


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    errors = [{"field": field, "detail": text} for field, text in exc.field_violations.items()]
    return problem(_status_of(exc), reason=exc.reason, detail=exc.message, errors=errors)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(part) for part in error.get("loc", ())), "detail": str(error.get("msg", ""))}
        for error in exc.errors()
    ]
    return problem(422, reason="INVALID_REQUEST", detail="the request is not valid", errors=errors)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    reason = HTTPStatus(exc.status_code).name
    return problem(exc.status_code, reason=reason, detail=str(exc.detail))


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
