"""Reading simulated handsets and mailboxes over gRPC (``simfleet.netsim.v1.HandsetService``) and the console.

Both list the newest messages first, as many as the caller's ``limit`` (no
further pages): the bounds are checked by :func:`simfleet_runtime.paging.page_size`,
like every list's size.
"""

from __future__ import annotations

from simfleet_runtime.paging import page_size

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def list_limit(limit: int | None) -> int:
    """``None`` or 0 means the default; otherwise 1..500 (``INVALID_LIMIT`` on the field ``limit``)."""
    return page_size(limit, default=DEFAULT_LIMIT, maximum=MAX_LIMIT, field="limit")
