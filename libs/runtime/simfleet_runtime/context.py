"""What a gRPC call carries besides its message: who calls, from where.

The server interceptor fills a :class:`CallContext` from the metadata and keeps
it in a context variable for the duration of the call, so use cases can read
the client's address or the bearer token without threading them through every
signature. Metadata keys are part of the contract (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass

AUTHORIZATION = "authorization"
CLIENT_ADDRESS = "simfleet-client-address"
CLIENT_AGENT = "simfleet-client-agent"
REQUEST_ID = "x-request-id"
OPERATOR_KEY = "simfleet-operator-key"


@dataclass(frozen=True, slots=True)
class CallContext:
    request_id: str = ""
    client_address: str = ""
    user_agent: str = ""
    bearer_token: str = ""
    operator_key: str = ""

    @classmethod
    def from_metadata(cls, metadata: Iterable[tuple[str, str | bytes]] | None) -> CallContext:
        values: dict[str, str] = {}
        for key, value in metadata or ():
            if isinstance(value, bytes):
                continue
            values[key.lower()] = value
        auth = values.get(AUTHORIZATION, "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        return cls(
            request_id=values.get(REQUEST_ID, "")[:128],
            client_address=values.get(CLIENT_ADDRESS, "")[:64],
            user_agent=values.get(CLIENT_AGENT, "")[:512],
            bearer_token=token,
            operator_key=values.get(OPERATOR_KEY, ""),
        )


_current: ContextVar[CallContext] = ContextVar("simfleet_call_context", default=CallContext())  # noqa: B039


def current_call() -> CallContext:
    return _current.get()


def caller_metadata() -> list[tuple[str, str]]:
    """Metadata for a call made on behalf of the current caller: their own token and the request's id travel on,
    so the service asked decides with the caller's grants (and the logs of both name one request)."""
    call = current_call()
    metadata: list[tuple[str, str]] = []
    if call.bearer_token:
        metadata.append((AUTHORIZATION, f"Bearer {call.bearer_token}"))
    if call.request_id:
        metadata.append((REQUEST_ID, call.request_id))
    return metadata


def set_current_call(ctx: CallContext) -> object:
    return _current.set(ctx)


def reset_current_call(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
