"""A user's access as identity tells it: what it allows at a node, and where a permission's grants start."""

from __future__ import annotations

from simfleet_runtime.authz import Grant
from simfleet_runtime.user_access import NOBODY, UserAccess


def test_a_permission_holds_only_under_a_grant_that_carries_it_and_only_for_an_active_user() -> None:
    access = UserAccess(
        active=True,
        grants=(
            Grant("north", frozenset({"lines:read", "tickets:read"}), "viewer"),
            Grant("sales", frozenset({"lines:read"}), "viewer"),
            Grant("north", frozenset({"lines:block"}), "custom"),
        ),
    )
    assert access.may("tickets:read", ("company", "north", "kazan"))
    assert not access.may("tickets:read", ("company", "sales"))
    assert not access.may("lines:read", ("company",))  # above the grants
    assert access.roots("lines:read") == ("north", "sales")
    assert access.roots("lines:block") == ("north",) and access.roots("users:manage") == ()
    disabled = UserAccess(active=False, grants=access.grants)
    assert not disabled.may("lines:read", ("company", "north")) and disabled.roots("lines:read") == ()
    assert not NOBODY.may("lines:read", ("north",)) and NOBODY.roots("lines:read") == ()
