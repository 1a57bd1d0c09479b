"""simfleet.billing.v1.UsageService: a line's usage and the tariff catalogue, for the customer's users."""

from __future__ import annotations

from typing import Any

from billing import convert
from billing.catalogue.plans import ROAMING_GROUPS
from billing.catalogue.service import Catalogue
from billing.ledger.service import LedgerService
from billing.packages.grpc_api import package_left_pb
from billing.packages.service import PackageService
from billing.rating.service import Rater
from simfleet.billing.v1 import usage_pb2 as pb
from simfleet.billing.v1 import usage_pb2_grpc
from simfleet_runtime.authz import Authorizer, is_node_id, not_found
from simfleet_runtime.clock import Clock
from simfleet_runtime.errors import NotFound
from simfleet_runtime.validation import is_e164

SERVICE_NAME = "simfleet.billing.v1.UsageService"
READ = "billing:read"
WHAT = "line"


class UsageApi(usage_pb2_grpc.UsageServiceServicer):
    def __init__(
        self,
        *,
        rater: Rater,
        ledger: LedgerService,
        catalogue: Catalogue,
        authorizer: Authorizer,
        clock: Clock,
        default_currency: str,
        packages: PackageService | None = None,
    ) -> None:
        self._packages = packages
        self._default_currency = default_currency
        self._rater = rater
        self._ledger = ledger
        self._catalogue = catalogue
        self._authz = authorizer
        self._clock = clock

    async def GetLineUsage(self, request: pb.GetLineUsageRequest, context: Any) -> pb.GetLineUsageResponse:
        access = await self._authz.access()
        # A forged id or number is nothing: no query is made for it.
        if request.msisdn:
            line = (
                await self._rater.line_by_number(access.customer_id, request.msisdn)
                if is_e164(request.msisdn)
                else None
            )
        else:
            line = await self._rater.line(request.line_id) if is_node_id(request.line_id) else None
        if line is None or line.customer_id != access.customer_id:
            raise not_found(WHAT)
        access.check(READ, await self._authz.path(access, line.node_id), what=WHAT)
        try:
            account = await self._ledger.personal_account_row(access.customer_id, line.personal_account_id)
        except NotFound:  # a line under a node billing keeps no money for: its usage, without a balance
            tariff = self._catalogue.book().at(line.tariff_code, self._clock.now())
            currency = tariff.currency if tariff is not None else self._default_currency
            answer = convert.line_usage(await self._rater.line_usage(line, currency), None)
        else:
            figures = await self._rater.line_usage(line, account.currency)
            answer = convert.line_usage(figures, convert.account(account))
        if self._packages is not None:
            answer.packages.extend(package_left_pb(p) for p in await self._packages.active_for_line(line))
        return answer

    async def ListTariffs(self, request: pb.ListTariffsRequest, context: Any) -> pb.ListTariffsResponse:
        """The tariffs in force, priced in the caller's customer's currency (as CatalogueService.GetPriceList)."""
        access = await self._authz.access()
        currency = await self._ledger.customer_currency(access.customer_id) or self._default_currency
        tariffs = self._catalogue.book().current(self._clock.now(), currency)
        return pb.ListTariffsResponse(
            tariffs=[convert.tariff(t) for t in tariffs],
            roaming_groups=[pb.RoamingGroup(name=name, countries=list(c)) for name, c in ROAMING_GROUPS.items()],
        )
