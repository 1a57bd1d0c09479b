"""The one rule for list sizes, shared by the console and the gRPC API."""

from __future__ import annotations

from simfleet_runtime.errors import InvalidArgument

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def page_limit(limit: int | None) -> int:
    """``None`` or 0 means the default; otherwise 1..500."""
    if not limit:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidArgument(
            f"limit must be between 1 and {MAX_LIMIT}",
            reason="INVALID_LIMIT",
            field_violations={"limit": f"must be between 1 and {MAX_LIMIT}"},
        )
    return limit
