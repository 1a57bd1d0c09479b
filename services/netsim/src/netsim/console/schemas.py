"""The console's JSON shapes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from netsim.smsc.models import Sms
from netsim.smsc.service import Handset
from netsim.smtp.models import Mail
from netsim.smtp.service import Mailbox
from netsim.timestamps import to_iso


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
    def of(cls, sms: Sms) -> SmsOut:
        return cls(id=sms.id, to=sms.to_msisdn, sender=sms.sender, text=sms.text, time=to_iso(sms.delivered_at))


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
            time=to_iso(mail.received_at),
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
        return cls(msisdn=handset.msisdn, messages=handset.messages, last_time=to_iso(handset.last_delivered_at))


class HandsetsOut(BaseModel):
    handsets: list[HandsetSummary]


class MailboxSummary(BaseModel):
    address: str
    messages: int
    last_time: str

    @classmethod
    def of(cls, mailbox: Mailbox) -> MailboxSummary:
        return cls(address=mailbox.address, messages=mailbox.messages, last_time=to_iso(mailbox.last_received_at))


class MailboxesOut(BaseModel):
    mailboxes: list[MailboxSummary]


class Health(BaseModel):
    status: str
