"""What every call ticketing makes for a form carries: the caller's token and request id."""

from __future__ import annotations

from simfleet_runtime.context import AUTHORIZATION, REQUEST_ID, current_call


def caller_metadata() -> list[tuple[str, str]]:
    """The caller's own token travels on, so the service asked decides with the caller's grants."""
    call = current_call()
    metadata: list[tuple[str, str]] = []
    if call.bearer_token:
        metadata.append((AUTHORIZATION, f"Bearer {call.bearer_token}"))
    if call.request_id:
        metadata.append((REQUEST_ID, call.request_id))
    return metadata
