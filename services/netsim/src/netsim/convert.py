"""Between netsim's domain objects and their protobuf form."""

from __future__ import annotations

from netsim.hlr.faults import Faults
from netsim.hlr.identifiers import services_of
from netsim.hlr.location import Location
from netsim.hlr.models import Subscriber
from netsim.payments.faults import PaymentFaults
from netsim.payments.models import AUTHORIZED, CAPTURED, DECLINED, VOIDED, Payment
from netsim.smsc.models import SmsView
from netsim.smtp.models import Mail
from simfleet.netsim.v1 import hlr_pb2, payments_pb2, smsc_pb2
from simfleet_runtime.timestamps import timestamp


def subscriber_message(subscriber: Subscriber) -> hlr_pb2.Subscriber:
    return hlr_pb2.Subscriber(
        imsi=subscriber.imsi,
        msisdn=subscriber.msisdn or "",
        iccid=subscriber.iccid,
        barrings=subscriber.barrings,
        apns=subscriber.apns,
        forwarding=subscriber.forwarding,
        services=services_of(subscriber.services),
        version=subscriber.version,
        updated_at=timestamp(subscriber.updated_at),
    )


def faults_message(faults: Faults) -> hlr_pb2.Faults:
    return hlr_pb2.Faults(
        latency_ms=faults.latency_ms,
        failure_rate=faults.failure_rate,
        outage=faults.outage,
        failing_msisdns=faults.failing_msisdns,
    )


def location_response(where: Location) -> hlr_pb2.GetLocationResponse:
    return hlr_pb2.GetLocationResponse(
        msisdn=where.msisdn,
        cell_id=where.cell_id,
        latitude=where.latitude,
        longitude=where.longitude,
        accuracy_m=where.accuracy_m,
        observed_at=timestamp(where.observed_at),
    )


def sms_message(sms: SmsView) -> smsc_pb2.Sms:
    return smsc_pb2.Sms(
        id=sms.id,
        to_msisdn=sms.to_msisdn,
        sender=sms.sender,
        text=sms.text,
        delivered_at=timestamp(sms.delivered_at),
    )


def mail_message(mail: Mail) -> smsc_pb2.Mail:
    return smsc_pb2.Mail(
        id=mail.id,
        to_address=mail.to_address,
        from_address=mail.from_address,
        subject=mail.subject,
        body=mail.body,
        received_at=timestamp(mail.received_at),
    )


PAYMENT_STATES: dict[str, payments_pb2.PaymentState.ValueType] = {
    AUTHORIZED: payments_pb2.PAYMENT_STATE_AUTHORIZED,
    CAPTURED: payments_pb2.PAYMENT_STATE_CAPTURED,
    DECLINED: payments_pb2.PAYMENT_STATE_DECLINED,
    VOIDED: payments_pb2.PAYMENT_STATE_VOIDED,
}


def payment_message(payment: Payment) -> payments_pb2.Payment:
    return payments_pb2.Payment(
        payment_id=payment.payment_id,
        amount=payment.amount,
        currency=payment.currency,
        card_token=payment.card_token,
        state=PAYMENT_STATES[payment.state],
        decline_reason=payment.decline_reason or "",
        authorization_code=payment.authorization_code or "",
        created_at=timestamp(payment.created_at),
        updated_at=timestamp(payment.updated_at),
    )


def payment_faults_message(faults: PaymentFaults) -> payments_pb2.PaymentFaults:
    return payments_pb2.PaymentFaults(
        latency_ms=faults.latency_ms,
        decline_rate=faults.decline_rate,
        lost_answer_rate=faults.lost_answer_rate,
        outage=faults.outage,
        declining_cards=faults.declining_cards,
    )
