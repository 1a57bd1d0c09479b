"""Bodies of /v1/me/notification-preferences and /v1/me/notices (NO-1)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gateway.lines.schemas import optional_timestamp
from simfleet.notifications.v1 import notices_pb2 as pb
from simfleet_runtime.timestamps import to_datetime

Kind = Literal[
    "operation_finished",
    "operation_failed",
    "tariff_changed",
    "limit_reached",
    "balance_low",
    "payment_received",
    "ticket_reply",
    "ticket_state_changed",
    "sign_in",
]
Channel = Literal["sms", "email"]
Language = Literal["en", "ru", "fa"]

_KINDS_EXAMPLE: dict[str, JsonValue] = {
    "operation_finished": [],
    "operation_failed": ["email"],
    "tariff_changed": [],
    "limit_reached": ["sms", "email"],
    "balance_low": ["sms"],
    "payment_received": ["email"],
    "ticket_reply": ["sms"],
    "ticket_state_changed": [],
    "sign_in": ["sms"],
}
_NOTICE_EXAMPLE: dict[str, JsonValue] = {
    "id": "01JA5F6G7H8J9K0M1N2P3Q4R5S",
    "kind": "ticket_reply",
    "channel": "sms",
    "recipient": "+79161234567",
    "language": "en",
    "subject": None,
    "text": "SIMfleet: support answered your ticket T-2026-000123.",
    "events": 1,
    "state": "sent",
    "created_at": "2026-12-07T10:05:00Z",
    "sent_at": "2026-12-07T10:05:01Z",
}


class PreferencesResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"kinds": _KINDS_EXAMPLE, "language": "en", "saved": True}]}
    )

    kinds: dict[Kind, list[Channel]] = Field(description="every kind of notice and the channels it goes by")
    language: Language
    saved: bool = Field(description="false until the user first saved preferences: the defaults apply")

    @classmethod
    def from_proto(cls, p: pb.Preferences) -> PreferencesResponse:
        return cls(
            kinds={c.kind: list(c.channels) for c in p.choices},
            language=p.language,
            saved=p.saved,
        )


class PreferencesRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"kinds": {"ticket_reply": ["sms"], "sign_in": []}, "language": "ru"}]},
    )

    kinds: dict[Kind, list[Channel]] = Field(
        default_factory=dict,
        description="the kinds to change, each with exactly the channels it is to go by (an empty list: off); "
        "kinds not named keep what they had",
    )
    language: Language | None = Field(None, description="the language of the notices; absent: unchanged")

    def to_proto(self) -> pb.UpdatePreferencesRequest:
        return pb.UpdatePreferencesRequest(
            choices=[pb.KindChoice(kind=kind, channels=channels) for kind, channels in self.kinds.items()],
            language=self.language or "",
        )


class NoticeResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_NOTICE_EXAMPLE]})

    id: str
    kind: Kind
    channel: Channel
    recipient: str = Field(description="the number or address it went to")
    language: Language
    subject: str | None = Field(description="an email's subject; null for an SMS")
    text: str
    events: int = Field(description="how many events it tells of (more than 1: the summary of a burst)")
    state: Literal["pending", "sent", "failed"]
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def from_proto(cls, n: pb.Notice) -> NoticeResponse:
        return cls(
            id=n.id,
            kind=n.kind,
            channel=n.channel,
            recipient=n.recipient,
            language=n.language,
            subject=n.subject or None,
            text=n.text,
            events=n.events,
            state=n.state,
            created_at=to_datetime(n.created_at),
            sent_at=optional_timestamp(n, "sent_at"),
        )


class NoticesPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_NOTICE_EXAMPLE], "next_cursor": None}]})

    items: list[NoticeResponse]
    next_cursor: str | None
