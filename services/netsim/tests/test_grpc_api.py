"""HandsetService over a real gRPC channel: ListSms and ListMail, newest first; errors with details."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from netsim.handsets.grpc_api import SERVICE_NAME
from netsim.smsc.service import Submission, deliver_sms
from netsim.smtp.parsing import ParsedMail
from netsim.smtp.service import store_mail
from simfleet.netsim.v1 import smsc_pb2, smsc_pb2_grpc
from simfleet_runtime.errors import read_error
from simfleet_runtime.grpc_server import make_channel
from simfleet_runtime.ids import new_id
from simfleet_runtime.testing import eventually

from .conftest import RunningNetsim  # type: ignore[import-not-found]


async def test_list_sms_and_mail_newest_first(netsim: RunningNetsim) -> None:
    runtime = netsim.app.runtime
    for text in ("first", "second", "third"):
        async with runtime.db.transaction() as session:
            submission = Submission(message_id=new_id(), to_msisdn="+79990000020", sender="SIMfleet", text=text)
            await deliver_sms(session, submission, outbox=runtime.outbox, clock=runtime.clock)
    for subject in ("old", "new"):
        async with runtime.db.transaction() as session:
            mail = ParsedMail(from_address="no-reply@simfleet.example", subject=subject, body=f"{subject} body")
            await store_mail(
                session, recipients=["manager@demo.example"], mail=mail, size_bytes=10, clock=runtime.clock
            )

    async with make_channel(netsim.grpc_target) as channel:
        stub = smsc_pb2_grpc.HandsetServiceStub(channel)
        sms = await stub.ListSms(smsc_pb2.ListSmsRequest(msisdn="+7 999 000 00 20"))
        assert [m.text for m in sms.messages] == ["third", "second", "first"]
        assert all(m.to_msisdn == "+79990000020" and m.sender == "SIMfleet" for m in sms.messages)
        times = [m.delivered_at.ToDatetime() for m in sms.messages]
        assert times == sorted(times, reverse=True)

        limited = await stub.ListSms(smsc_pb2.ListSmsRequest(msisdn="+79990000020", limit=1))
        assert [m.text for m in limited.messages] == ["third"]

        mail = await stub.ListMail(smsc_pb2.ListMailRequest(address="Manager@Demo.Example"))
        assert [(m.subject, m.body) for m in mail.messages] == [("new", "new body"), ("old", "old body")]
        assert mail.messages[0].from_address == "no-reply@simfleet.example"
        assert mail.messages[0].received_at.seconds > 0


async def test_bad_requests_are_invalid_argument_with_details(netsim: RunningNetsim) -> None:
    async with make_channel(netsim.grpc_target) as channel:
        stub = smsc_pb2_grpc.HandsetServiceStub(channel)
        cases = [
            (stub.ListSms(smsc_pb2.ListSmsRequest(msisdn="12345")), "INVALID_PHONE", "msisdn"),
            (stub.ListSms(smsc_pb2.ListSmsRequest(msisdn="+79990000020", limit=501)), "INVALID_LIMIT", "limit"),
            (stub.ListMail(smsc_pb2.ListMailRequest(address="nobody")), "INVALID_EMAIL", "address"),
        ]
        for call, reason, field in cases:
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await call
            error = read_error(failed.value)
            assert error.code == grpc.StatusCode.INVALID_ARGUMENT
            assert error.reason == reason
            assert field in error.field_violations


async def test_health_serves_the_handset_service(netsim: RunningNetsim) -> None:
    async with grpc.aio.insecure_channel(netsim.grpc_target) as channel:
        health = health_pb2_grpc.HealthStub(channel)

        async def serving() -> bool:
            answer = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME))
            return answer.status == health_pb2.HealthCheckResponse.SERVING

        await eventually(serving, what="HandsetService SERVING")
