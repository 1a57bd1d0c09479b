"""simfleet.billing.v1.CatalogueService: the tariffs and options, and which lines may take a tariff or an option.

The tariffs and options are answered in the caller's customer's currency, the
one its personal accounts hold (billing's default before it has any), from
that currency's price list exactly as rating and the monthly fees take it
(:mod:`billing.catalogue.price_lists`).
"""

from __future__ import annotations

from typing import Any

from billing import convert
from billing.catalogue.availability import MAX_LINES, KnownLine, LineFinder
from billing.catalogue.options import OPTION_CODES, OPTIONS, TARIFF_OPTIONS
from billing.catalogue.plans import ROAMING_GROUPS
from billing.catalogue.price_lists import option_in
from billing.catalogue.rules import LineFacts, Target, Verdict, available_options, available_tariffs, check
from billing.catalogue.service import Catalogue
from billing.ledger.service import LedgerService
from simfleet.billing.v1 import catalogue_pb2 as pb
from simfleet.billing.v1 import catalogue_pb2_grpc
from simfleet.billing.v1 import usage_pb2 as usage
from simfleet_runtime.auth import require_operator_key
from simfleet_runtime.authz import CHANGE_TARIFFS, Authorizer, NodePaths, is_node_id
from simfleet_runtime.clock import Clock
from simfleet_runtime.context import current_call
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.validation import is_e164

SERVICE_NAME = "simfleet.billing.v1.CatalogueService"
READ_LINES = "lines:read"
MAY_ASK = (READ_LINES, CHANGE_TARIFFS)
LINE_NOT_FOUND = "LINE_NOT_FOUND"


def _target(request: pb.CheckAvailabilityRequest) -> Target:
    connect, disconnect = set(request.connect), set(request.disconnect)
    unknown = sorted((connect | disconnect) - set(OPTION_CODES))
    if unknown:
        raise InvalidArgument(
            f"no such service: {', '.join(unknown)}",
            reason="UNKNOWN_SERVICE",
            field_violations={"connect": f"services are {', '.join(OPTION_CODES)}"},
        )
    both = sorted(connect & disconnect)
    if both:
        raise InvalidArgument(
            f"connected and disconnected at once: {', '.join(both)}",
            reason="CONFLICTING_SERVICES",
            field_violations={"disconnect": "a service is either connected or disconnected"},
        )
    if not request.tariff_code and not connect and not disconnect:
        # No target: each line's answer says what it may take.
        return Target()
    return Target(tariff_code=request.tariff_code, connect=frozenset(connect), disconnect=frozenset(disconnect))


def _answer(line_id: str, msisdn: str, facts: LineFacts, target: Target, tariffs: list[str]) -> pb.LineAvailability:
    verdict = check(facts, target, tariffs)
    return pb.LineAvailability(
        line_id=line_id,
        msisdn=msisdn,
        allowed=verdict.allowed,
        reason=verdict.reason,
        message=verdict.message,
        available_tariffs=available_tariffs(facts, tariffs) if facts.state != "terminated" else [],
        available_options=available_options(facts, tariffs) if facts.state != "terminated" else [],
    )


def _missing(line_id: str, msisdn: str) -> pb.LineAvailability:
    verdict = Verdict(False, LINE_NOT_FOUND, "no such line in your scope")
    return pb.LineAvailability(
        line_id=line_id, msisdn=msisdn, allowed=False, reason=verdict.reason, message=verdict.message
    )


class CatalogueApi(catalogue_pb2_grpc.CatalogueServiceServicer):
    def __init__(
        self,
        *,
        catalogue: Catalogue,
        finder: LineFinder,
        authorizer: Authorizer,
        paths: NodePaths,
        clock: Clock,
        operator_key: str,
        ledger: LedgerService,
        default_currency: str,
    ) -> None:
        self._ledger = ledger
        self._default_currency = default_currency
        self._catalogue = catalogue
        self._finder = finder
        self._authz = authorizer
        self._paths = paths
        self._clock = clock
        self._operator_key = operator_key

    def _tariffs(self) -> list[str]:
        return [t.code for t in self._catalogue.book().current(self._clock.now())]

    async def _currency(self) -> str:
        """The caller's customer's currency: its personal accounts', billing's default while it has none."""
        access = await self._authz.access()
        return await self._ledger.customer_currency(access.customer_id) or self._default_currency

    async def ListOptions(self, request: pb.ListOptionsRequest, context: Any) -> pb.ListOptionsResponse:
        currency = await self._currency()
        priced = [option_in(o, currency) for o in OPTIONS.values()]
        return pb.ListOptionsResponse(
            options=[
                pb.Option(
                    code=o.code,
                    name=o.name,
                    monthly_fee=convert.amount(o.monthly_fee, o.currency),
                    requires_any=list(o.requires_any),
                )
                for o in priced
            ],
            tariffs=[
                pb.TariffOptions(
                    tariff_code=code,
                    allowed=[c for c in OPTION_CODES if c in rules.allowed],
                    included=[c for c in OPTION_CODES if c in rules.included],
                )
                for code, rules in sorted(TARIFF_OPTIONS.items())
            ],
            currency=priced[0].currency if priced else currency,
        )

    async def GetPriceList(self, request: pb.GetPriceListRequest, context: Any) -> pb.GetPriceListResponse:
        currency = await self._currency()
        tariffs = self._catalogue.book().current(self._clock.now(), currency)
        return pb.GetPriceListResponse(
            currency=tariffs[0].currency if tariffs else currency,
            tariffs=[convert.tariff(t) for t in tariffs],
            roaming_groups=[usage.RoamingGroup(name=name, countries=list(c)) for name, c in ROAMING_GROUPS.items()],
        )

    async def CheckAvailability(
        self, request: pb.CheckAvailabilityRequest, context: Any
    ) -> pb.CheckAvailabilityResponse:
        call = current_call()
        if call.operator_key and not call.bearer_token:
            require_operator_key(self._operator_key)
            return self._given(request)
        access = await self._authz.access()
        asked = len(request.line_ids) + len(request.msisdns)
        if not 1 <= asked <= MAX_LINES:
            raise InvalidArgument(
                f"name 1 to {MAX_LINES} lines",
                reason="TOO_MANY_LINES" if asked else "NO_LINES",
                field_violations={"line_ids": f"1 to {MAX_LINES} lines, by id or number"},
            )
        target = _target(request)
        tariffs = self._tariffs()
        by_id, by_number = await self._finder.find(
            access.customer_id,
            [i for i in request.line_ids if is_node_id(i)],
            [n for n in request.msisdns if is_e164(n)],
        )
        found = [*by_id.values(), *by_number.values()]
        paths = await self._paths.paths(access.customer_id, {line.node_id for line in found})

        def visible(line: KnownLine | None) -> bool:
            if line is None:
                return False
            path = paths.get(line.node_id)
            return path is not None and bool(access.permissions_at(path) & set(MAY_ASK))

        answers = []
        for line_id in request.line_ids:
            line = by_id.get(line_id)
            answers.append(self._known(line, target, tariffs) if visible(line) else _missing(line_id, ""))
        for msisdn in request.msisdns:
            line = by_number.get(msisdn)
            answers.append(self._known(line, target, tariffs) if visible(line) else _missing("", msisdn))
        return pb.CheckAvailabilityResponse(lines=answers)

    @staticmethod
    def _known(line: KnownLine | None, target: Target, tariffs: list[str]) -> pb.LineAvailability:
        assert line is not None
        facts = LineFacts(line.tariff_code, line.services, line.state, line.financially_blocked)
        return _answer(line.line_id, line.msisdn, facts, target, tariffs)

    def _given(self, request: pb.CheckAvailabilityRequest) -> pb.CheckAvailabilityResponse:
        """inventory's question: the lines as it holds them."""
        if not 1 <= len(request.lines) <= MAX_LINES:
            raise InvalidArgument(
                f"give 1 to {MAX_LINES} lines", reason="NO_LINES" if not request.lines else "TOO_MANY_LINES"
            )
        target = _target(request)
        tariffs = self._tariffs()
        return pb.CheckAvailabilityResponse(
            lines=[
                _answer(
                    given.line_id,
                    given.msisdn,
                    LineFacts(given.tariff_code, frozenset(given.services), given.state, given.financially_blocked),
                    target,
                    tariffs,
                )
                for given in request.lines
            ]
        )
