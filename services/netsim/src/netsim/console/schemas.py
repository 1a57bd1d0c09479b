"""The console's JSON shapes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from netsim.hlr.faults import Faults
from netsim.hlr.identifiers import services_of
from netsim.hlr.models import Subscriber
from netsim.payments.faults import PaymentFaults
from netsim.payments.models import Payment
from netsim.smsc.models import SmsView
from netsim.smsc.service import Handset
from netsim.smtp.models import Mail
from netsim.smtp.service import Mailbox
from netsim.usage.generator import Counts
from netsim.usage.settings import UsageSettings
from simfleet_runtime.timestamps import iso


class SmsOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "01JD2Q7Z3X4Y5Z6A7B8C9D0E1F",
                    "to": "+79990000001",
                    "sender": "SIMfleet",
                    "text": "Your SIMfleet code: 123456",
                    "time": "2026-01-02T03:04:05.678901Z",
                }
            ]
        }
    )

    id: str
    to: str
    sender: str
    text: str
    time: str = Field(description="delivery time, ISO 8601 UTC")

    @classmethod
    def of(cls, sms: SmsView) -> SmsOut:
        return cls(id=sms.id, to=sms.to_msisdn, sender=sms.sender, text=sms.text, time=iso(sms.delivered_at))


class InboxOut(BaseModel):
    msisdn: str
    messages: list[SmsOut] = Field(description="newest first")


class MailOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    to: str
    from_: str = Field(alias="from", serialization_alias="from")
    subject: str
    body: str
    time: str = Field(description="receipt time, ISO 8601 UTC")

    @classmethod
    def of(cls, mail: Mail) -> MailOut:
        return cls(
            id=mail.id,
            to=mail.to_address,
            from_=mail.from_address,
            subject=mail.subject,
            body=mail.body,
            time=iso(mail.received_at),
        )


class MailboxOut(BaseModel):
    address: str
    messages: list[MailOut] = Field(description="newest first")


class HandsetSummary(BaseModel):
    msisdn: str
    messages: int
    last_time: str

    @classmethod
    def of(cls, handset: Handset) -> HandsetSummary:
        return cls(msisdn=handset.msisdn, messages=handset.messages, last_time=iso(handset.last_delivered_at))


class HandsetsOut(BaseModel):
    handsets: list[HandsetSummary]


class MailboxSummary(BaseModel):
    address: str
    messages: int
    last_time: str

    @classmethod
    def of(cls, mailbox: Mailbox) -> MailboxSummary:
        return cls(address=mailbox.address, messages=mailbox.messages, last_time=iso(mailbox.last_received_at))


class MailboxesOut(BaseModel):
    mailboxes: list[MailboxSummary]


class Health(BaseModel):
    status: str


class SubscriberOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "imsi": "250010000000001",
                    "msisdn": "+79990000001",
                    "iccid": "8970101000000000004",
                    "barrings": [],
                    "apns": ["internet"],
                    "forwarding": {"busy": "+79990000002"},
                    "services": ["voice", "sms", "data", "roaming"],
                    "version": 3,
                    "registered_at": "2026-01-02T03:04:05.678901Z",
                    "updated_at": "2026-01-02T03:14:05.678901Z",
                }
            ]
        }
    )

    imsi: str
    msisdn: str | None
    iccid: str
    barrings: list[str] = Field(description="the barrings in force; empty: the subscriber may use the network")
    apns: list[str]
    forwarding: dict[str, str] = Field(description="condition → E.164 target")
    services: list[str] = Field(description="the services it may use: voice, sms, data, roaming, international")
    version: int = Field(description="changes applied since registration")
    registered_at: str
    updated_at: str

    @classmethod
    def of(cls, subscriber: Subscriber) -> SubscriberOut:
        return cls(
            imsi=subscriber.imsi,
            msisdn=subscriber.msisdn,
            iccid=subscriber.iccid,
            barrings=subscriber.barrings,
            apns=subscriber.apns,
            forwarding=subscriber.forwarding,
            services=services_of(subscriber.services),
            version=subscriber.version,
            registered_at=iso(subscriber.registered_at),
            updated_at=iso(subscriber.updated_at),
        )


class FaultsBody(BaseModel):
    """The HLR's fault injection; in a PUT, every field absent is off."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"latency_ms": 250, "failure_rate": 0.1, "outage": False, "failing_msisdns": ["+79990000013"]}]
        },
    )

    latency_ms: int = Field(0, description="added to every provisioning item, 0 to 60000")
    failure_rate: float = Field(0.0, description="the share of items that fail with SYSTEM_FAILURE, 0.0 to 1.0")
    outage: bool = Field(False, description="while true, no provisioning command is taken: they wait in the queue")
    failing_msisdns: list[str] = Field(
        default_factory=list, description="items for these numbers always fail with SYSTEM_FAILURE"
    )

    @classmethod
    def of(cls, faults: Faults) -> FaultsBody:
        return cls(
            latency_ms=faults.latency_ms,
            failure_rate=faults.failure_rate,
            outage=faults.outage,
            failing_msisdns=list(faults.failing_msisdns),
        )


class UsageSettingsBody(BaseModel):
    """The usage generator's settings; in a PUT, every field absent is 0 (or none)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "records_per_second": 2.0,
                    "voice_weight": 0.45,
                    "sms_weight": 0.2,
                    "data_weight": 0.35,
                    "roaming_share": 0.05,
                    "international_share": 0.05,
                    "msisdn_prefixes": ["+79991"],
                }
            ]
        },
    )

    records_per_second: float = Field(0.0, description="records per second across all subscribers, 0 to 50000; 0: off")
    voice_weight: float = Field(0.0, description="relative weight of calls (all weights 0: the default mix)")
    sms_weight: float = Field(0.0, description="relative weight of SMS")
    data_weight: float = Field(0.0, description="relative weight of data sessions")
    roaming_share: float = Field(0.0, description="0.0 to 1.0: share of records made roaming (roaming service only)")
    international_share: float = Field(
        0.0, description="0.0 to 1.0: share of calls and SMS abroad (international service only)"
    )
    msisdn_prefixes: list[str] = Field(
        default_factory=list, description="only numbers starting with one of these (at most 50); none: everyone"
    )

    @classmethod
    def of(cls, settings: UsageSettings) -> UsageSettingsBody:
        return cls(
            records_per_second=settings.records_per_second,
            voice_weight=settings.voice_weight,
            sms_weight=settings.sms_weight,
            data_weight=settings.data_weight,
            roaming_share=settings.roaming_share,
            international_share=settings.international_share,
            msisdn_prefixes=list(settings.msisdn_prefixes),
        )


class UsageCountersOut(BaseModel):
    """What this netsim process generated since it started, and whether it runs the continuous flow now."""

    records: dict[str, int] = Field(description="records published, by kind (voice, sms, data)")
    batches: int = Field(description="UsageRecords batches the stream acknowledged")
    publish_failures: int = Field(description="batches dropped after their publish retries")
    generating: bool = Field(description="this process holds the generator's lease (the others wait)")
    settings_version: int = Field(description="the version of the stored settings this process applies")

    @classmethod
    def of(cls, counts: Counts, *, generating: bool, settings_version: int | None) -> UsageCountersOut:
        return cls(
            records=dict(counts.records),
            batches=counts.batches,
            publish_failures=counts.publish_failures,
            generating=generating,
            settings_version=settings_version or 0,
        )


class PaymentFaultsBody(BaseModel):
    """The simulated acquirer's fault injection; in a PUT, every field absent is off."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "latency_ms": 300,
                    "decline_rate": 0.1,
                    "lost_answer_rate": 0.05,
                    "outage": False,
                    "declining_cards": ["tok_declined_01"],
                }
            ]
        },
    )

    latency_ms: int = Field(0, description="added to every payment call, 0 to 60000")
    decline_rate: float = Field(0.0, description="0.0 to 1.0: the share of new authorisations declined (do_not_honor)")
    lost_answer_rate: float = Field(
        0.0, description="0.0 to 1.0: the share of Authorize, Capture and Void calls done whose answer is lost"
    )
    outage: bool = Field(False, description="while true, every payment call is UNAVAILABLE and changes nothing")
    declining_cards: list[str] = Field(
        default_factory=list, description="card tokens (at most 100) always declined (insufficient_funds)"
    )

    @classmethod
    def of(cls, faults: PaymentFaults) -> PaymentFaultsBody:
        return cls(
            latency_ms=faults.latency_ms,
            decline_rate=faults.decline_rate,
            lost_answer_rate=faults.lost_answer_rate,
            outage=faults.outage,
            declining_cards=list(faults.declining_cards),
        )


class PaymentOut(BaseModel):
    payment_id: str
    amount: int = Field(description="minor units of currency")
    currency: str
    card_token: str
    description: str
    state: str = Field(description="authorized, captured, declined or voided")
    decline_reason: str | None
    authorization_code: str | None
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, payment: Payment) -> PaymentOut:
        return cls(
            payment_id=payment.payment_id,
            amount=payment.amount,
            currency=payment.currency,
            card_token=payment.card_token,
            description=payment.description,
            state=payment.state,
            decline_reason=payment.decline_reason,
            authorization_code=payment.authorization_code,
            created_at=iso(payment.created_at),
            updated_at=iso(payment.updated_at),
        )


class PaymentsOut(BaseModel):
    payments: list[PaymentOut] = Field(description="newest first")
