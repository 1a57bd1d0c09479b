"""The gRPC adapter of ``simfleet.netsim.v1.UsageService``: the generator's settings, bursts of records."""

from __future__ import annotations

from typing import Any

import grpc

from netsim.usage.generator import KIND_NAMES, UsageGenerator
from netsim.usage.settings import UsageSettings, validate_prefixes, validate_usage_settings
from netsim.usage.settings_store import UsageSettingsStore
from simfleet.netsim.v1 import usage_pb2, usage_pb2_grpc
from simfleet_runtime.errors import InvalidArgument

SERVICE_NAME = usage_pb2.DESCRIPTOR.services_by_name["UsageService"].full_name
MAX_GENERATE = 1_000_000


def settings_message(settings: UsageSettings) -> usage_pb2.UsageSettings:
    return usage_pb2.UsageSettings(
        records_per_second=settings.records_per_second,
        voice_weight=settings.voice_weight,
        sms_weight=settings.sms_weight,
        data_weight=settings.data_weight,
        roaming_share=settings.roaming_share,
        international_share=settings.international_share,
        msisdn_prefixes=settings.msisdn_prefixes,
    )


def validate_kinds(kinds: list[int]) -> list[int]:
    """The kinds of a burst, de-duplicated; UNSPECIFIED or an unknown value is refused."""
    for index, kind in enumerate(kinds):
        if kind not in KIND_NAMES:
            raise InvalidArgument(
                f"unknown usage kind {kind}",
                reason="INVALID_USAGE_KIND",
                field_violations={f"kinds[{index}]": "USAGE_KIND_VOICE, USAGE_KIND_SMS or USAGE_KIND_DATA"},
            )
    return list(dict.fromkeys(kinds))


class UsageServicer(usage_pb2_grpc.UsageServiceServicer):
    def __init__(self, store: UsageSettingsStore, generator: UsageGenerator) -> None:
        self._store = store
        self._generator = generator

    async def GetUsageSettings(
        self, request: usage_pb2.GetUsageSettingsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> usage_pb2.GetUsageSettingsResponse:
        return usage_pb2.GetUsageSettingsResponse(settings=settings_message(await self._store.get()))

    async def SetUsageSettings(
        self, request: usage_pb2.SetUsageSettingsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> usage_pb2.SetUsageSettingsResponse:
        wanted = request.settings
        settings = validate_usage_settings(
            records_per_second=wanted.records_per_second,
            voice_weight=wanted.voice_weight,
            sms_weight=wanted.sms_weight,
            data_weight=wanted.data_weight,
            roaming_share=wanted.roaming_share,
            international_share=wanted.international_share,
            msisdn_prefixes=list(wanted.msisdn_prefixes),
        )
        return usage_pb2.SetUsageSettingsResponse(settings=settings_message(await self._store.set(settings)))

    async def GenerateUsage(
        self, request: usage_pb2.GenerateUsageRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> usage_pb2.GenerateUsageResponse:
        if not 1 <= request.count <= MAX_GENERATE:
            raise InvalidArgument(
                f"count must be between 1 and {MAX_GENERATE:,}",
                reason="INVALID_COUNT",
                field_violations={"count": f"1 to {MAX_GENERATE}"},
            )
        kinds = validate_kinds(list(request.kinds))
        prefixes = validate_prefixes(list(request.msisdn_prefixes))
        done = await self._generator.generate(request.count, kinds=kinds, prefixes=prefixes)
        return usage_pb2.GenerateUsageResponse(generated=done.generated, subscribers=done.subscribers)
