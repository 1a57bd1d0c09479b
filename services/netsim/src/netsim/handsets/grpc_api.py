"""The gRPC adapter of ``simfleet.netsim.v1.HandsetService``: ListSms and ListMail, newest first."""

from __future__ import annotations

from typing import Any

import grpc

from netsim.convert import mail_message, sms_message
from netsim.handsets import list_limit
from netsim.smsc.service import list_sms
from netsim.smtp.addresses import mailbox_key
from netsim.smtp.service import list_mail
from simfleet.netsim.v1 import smsc_pb2, smsc_pb2_grpc
from simfleet_runtime.db import Database
from simfleet_runtime.validation import normalize_msisdn

SERVICE_NAME = smsc_pb2.DESCRIPTOR.services_by_name["HandsetService"].full_name


class HandsetServicer(smsc_pb2_grpc.HandsetServiceServicer):
    def __init__(self, database: Database) -> None:
        self._db = database

    async def ListSms(
        self, request: smsc_pb2.ListSmsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> smsc_pb2.ListSmsResponse:
        msisdn = normalize_msisdn(request.msisdn, field="msisdn")
        limit = list_limit(request.limit)
        messages = await list_sms(self._db, msisdn=msisdn, limit=limit)
        return smsc_pb2.ListSmsResponse(messages=[sms_message(m) for m in messages])

    async def ListMail(
        self, request: smsc_pb2.ListMailRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> smsc_pb2.ListMailResponse:
        address = mailbox_key(request.address)
        limit = list_limit(request.limit)
        async with self._db.sessions() as session:
            messages = await list_mail(session, address=address, limit=limit)
        return smsc_pb2.ListMailResponse(messages=[mail_message(m) for m in messages])
