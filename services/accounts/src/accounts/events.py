"""accounts' stream and subjects."""

from __future__ import annotations

from simfleet_runtime.bus import StreamSpec

STREAM = "ACCOUNTS"
CUSTOMER_ONBOARDED = "simfleet.accounts.customer.onboarded"
NODE_CREATED = "simfleet.accounts.node.created"
NODE_RENAMED = "simfleet.accounts.node.renamed"
NODE_MOVED = "simfleet.accounts.node.moved"
NODE_DELETED = "simfleet.accounts.node.deleted"

OPERATOR_ACTOR = "operator"
"""The actor of back-office changes until operator staff sign in as users of their own."""


def streams(replicas: int = 1) -> list[StreamSpec]:
    return [
        StreamSpec(
            name=STREAM,
            subjects=["simfleet.accounts.>"],
            replicas=replicas,
            description="accounts' facts: customers onboarded, the hierarchy's nodes created, renamed, moved, deleted",
        )
    ]
