"""simfleet.billing.v1.SpendingLimitService: the customer's spending limits (BI-10).

Setting, changing and deleting need ``billing:pay`` over the limit's node
(the line's node for a line's limit, the company's root for the company's),
reading ``billing:read``; a limit, line or node outside the caller's scope is
NOT_FOUND. The list holds the limits whose node the caller reads.
"""

from __future__ import annotations

from typing import Any

from billing import convert
from billing.limits.models import BLOCK, COMPANY, LINE, MONTH, NODE, WARN, SpendingLimit
from billing.limits.service import LimitView, Settings, SpendingLimits, settings
from simfleet.billing.v1 import limits_pb2 as pb
from simfleet.billing.v1 import limits_pb2_grpc
from simfleet_runtime import nodepaths
from simfleet_runtime.authz import Access, Authorizer
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.idempotency import checked_key
from simfleet_runtime.timestamps import timestamp

SERVICE_NAME = "simfleet.billing.v1.SpendingLimitService"
READ = "billing:read"
PAY = "billing:pay"
IDEMPOTENCY_KEY_MAX = 128
SCOPES = {
    pb.SPENDING_LIMIT_SCOPE_LINE: LINE,
    pb.SPENDING_LIMIT_SCOPE_NODE: NODE,
    pb.SPENDING_LIMIT_SCOPE_COMPANY: COMPANY,
}
ACTIONS = {pb.SPENDING_LIMIT_ACTION_WARN: WARN, pb.SPENDING_LIMIT_ACTION_BLOCK: BLOCK}
PERIODS = {pb.SPENDING_LIMIT_PERIOD_MONTH: MONTH, pb.SPENDING_LIMIT_PERIOD_UNSPECIFIED: MONTH}
_SCOPE_OF = {v: k for k, v in SCOPES.items()}
_ACTION_OF = {v: k for k, v in ACTIONS.items()}


def to_proto(view: LimitView) -> pb.SpendingLimit:
    limit = view.limit
    return pb.SpendingLimit(
        id=limit.id,
        scope=_SCOPE_OF.get(limit.scope, pb.SPENDING_LIMIT_SCOPE_UNSPECIFIED),
        node_id=limit.node_id,
        line_id=limit.line_id or "",
        msisdn=limit.msisdn or "",
        period=pb.SPENDING_LIMIT_PERIOD_MONTH,
        amount=convert.amount(limit.amount, limit.currency),
        action=_ACTION_OF.get(limit.action, pb.SPENDING_LIMIT_ACTION_UNSPECIFIED),
        notify=list(limit.notify),
        current_period=view.period,
        spent=convert.amount(view.spent, limit.currency),
        reached=view.reached,
        set_by=limit.set_by,
        created_at=timestamp(limit.created_at),
        updated_at=timestamp(limit.updated_at),
    )


def _chosen(amount: int, currency: str, action: int, notify: Any, period: int) -> Settings:
    if period not in PERIODS:
        raise InvalidArgument("the period is month", reason="INVALID_PERIOD", field_violations={"period": "month"})
    return settings(
        amount=amount,
        currency=currency,
        action=ACTIONS.get(action, ""),  # type: ignore[call-overload]
        notify=list(notify),
        period=PERIODS[period],  # type: ignore[index]
    )


class SpendingLimitApi(limits_pb2_grpc.SpendingLimitServiceServicer):
    def __init__(self, *, limits: SpendingLimits, paths: nodepaths.ProjectedNodePaths, authorizer: Authorizer) -> None:
        self._limits = limits
        self._paths = paths
        self._authz = authorizer

    async def _limit(self, permission: str, limit_id: str) -> tuple[Access, SpendingLimit]:
        access = await self._authz.access()
        limit = await self._limits.get(access.customer_id, limit_id)  # NOT_FOUND: another customer's, or none
        path = await self._authz.path(access, limit.node_id)
        access.check(permission, path, what="spending limit")
        return access, limit

    async def CreateSpendingLimit(
        self, request: pb.CreateSpendingLimitRequest, context: Any
    ) -> pb.CreateSpendingLimitResponse:
        key = checked_key(request.idempotency_key, maximum=IDEMPOTENCY_KEY_MAX)
        scope = SCOPES.get(request.scope)
        if scope is None:
            raise InvalidArgument(
                "the scope is line, node or company",
                reason="INVALID_SCOPE",
                field_violations={"scope": "line, node or company"},
            )
        if scope == LINE and not request.msisdn:
            raise InvalidArgument(
                "a line's limit names the line", reason="MSISDN_REQUIRED", field_violations={"msisdn": "required"}
            )
        if scope == NODE and not request.node_id:
            raise InvalidArgument(
                "a group's limit names its node", reason="NODE_REQUIRED", field_violations={"node_id": "required"}
            )
        chosen = _chosen(request.amount, request.currency, request.action, request.notify, request.period)
        access = await self._authz.access()
        what = {LINE: "line", NODE: "node", COMPANY: "node"}[scope]
        # NOT_FOUND for a line the customer does not have; a node is looked up by its path below.
        target = await self._limits.target(access.customer_id, scope, node_id=request.node_id, msisdn=request.msisdn)
        access.check(PAY, await self._authz.path(access, target.node_id), what=what)
        view, replayed = await self._limits.create(
            customer_id=access.customer_id, user_id=access.user_id, target=target, chosen=chosen, key=key
        )
        return pb.CreateSpendingLimitResponse(limit=to_proto(view), replayed=replayed)

    async def GetSpendingLimit(self, request: pb.GetSpendingLimitRequest, context: Any) -> pb.GetSpendingLimitResponse:
        _, limit = await self._limit(READ, request.limit_id)
        (view,) = await self._limits.views([limit])
        return pb.GetSpendingLimitResponse(limit=to_proto(view))

    async def ListSpendingLimits(
        self, request: pb.ListSpendingLimitsRequest, context: Any
    ) -> pb.ListSpendingLimitsResponse:
        access = await self._authz.access()
        under: tuple[str, ...] = ()
        if request.node_id:
            path = await self._authz.path(access, request.node_id)
            access.check(READ, path, what="node")
            under = path or ()
        else:
            access.require(READ)
        found = await self._limits.all(access.customer_id)
        paths = await self._paths.paths(access.customer_id, {limit.node_id for limit in found})
        readable = [
            limit
            for limit in found
            if limit.node_id in paths
            and READ in access.permissions_at(paths[limit.node_id])
            and paths[limit.node_id][: len(under)] == under
        ]
        return pb.ListSpendingLimitsResponse(limits=[to_proto(v) for v in await self._limits.views(readable)])

    async def UpdateSpendingLimit(
        self, request: pb.UpdateSpendingLimitRequest, context: Any
    ) -> pb.UpdateSpendingLimitResponse:
        chosen = _chosen(request.amount, request.currency, request.action, request.notify, request.period)
        access, limit = await self._limit(PAY, request.limit_id)
        view = await self._limits.update(access.customer_id, limit.id, chosen)
        return pb.UpdateSpendingLimitResponse(limit=to_proto(view))

    async def DeleteSpendingLimit(
        self, request: pb.DeleteSpendingLimitRequest, context: Any
    ) -> pb.DeleteSpendingLimitResponse:
        access, limit = await self._limit(PAY, request.limit_id)
        await self._limits.delete(access.customer_id, limit.id)
        return pb.DeleteSpendingLimitResponse()
