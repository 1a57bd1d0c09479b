"""A ticket's input checked in one place: every bad field named at once, nothing stored."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.validation import is_e164, text_problem
from ticketing.tickets import catalogue as cat

_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


@dataclass(frozen=True, slots=True)
class NewTicket:
    node_id: str
    type: str
    topic: str
    description: str
    severity: str
    priority: str
    msisdns: tuple[str, ...]
    operation_id: str
    bill_id: str
    contact_msisdn: str


class Problems:
    """Field violations gathered while checking; :meth:`raise_any` refuses them together."""

    def __init__(self, reason: str = "INVALID_TICKET") -> None:
        self.fields: dict[str, str] = {}
        self.reason = reason

    def add(self, field: str, text: str) -> None:
        self.fields.setdefault(field, text)

    def raise_any(self, message: str = "the request is not valid") -> None:
        if self.fields:
            names = ", ".join(self.fields)
            raise InvalidArgument(f"{message}: {names}", reason=self.reason, field_violations=self.fields)


def text(value: str, *, field: str, maximum: int, problems: Problems, multiline: bool, required: bool = True) -> str:
    kept = value.strip()
    if not kept:
        if required:
            problems.add(field, f"required: 1 to {maximum:,} characters")
        return ""
    if len(kept) > maximum:
        problems.add(field, f"at most {maximum:,} characters (got {len(kept):,})")
        return kept
    problem = text_problem(kept, multiline=multiline)
    if problem:
        problems.add(field, problem)
    return kept


def one_of(value: str, choices: Sequence[str], *, field: str, problems: Problems, default: str = "") -> str:
    chosen = value or default
    if chosen not in choices:
        problems.add(field, f"one of {', '.join(choices)}")
    return chosen


def reference(value: str, *, field: str, problems: Problems) -> str:
    if value and not _REFERENCE.fullmatch(value):
        problems.add(field, "an id: letters, digits and . _ : - (at most 64)")
    return value


def phone(value: str, *, field: str, problems: Problems) -> str:
    kept = value.strip()
    if kept and not is_e164(kept):
        problems.add(field, "an E.164 number, like +79161234567")
    return kept


def new_ticket(
    *,
    node_id: str,
    type: str,
    topic: str,
    description: str,
    severity: str,
    priority: str,
    msisdns: Sequence[str],
    operation_id: str,
    bill_id: str,
    contact_msisdn: str,
) -> NewTicket:
    problems = Problems()
    if not node_id:
        problems.add("node_id", "required: the node the ticket belongs to")
    kind = one_of(type, cat.TYPES, field="type", problems=problems)
    checked_topic = text(topic, field="topic", maximum=cat.TOPIC_MAX, problems=problems, multiline=False)
    checked_description = text(
        description, field="description", maximum=cat.DESCRIPTION_MAX, problems=problems, multiline=True
    )
    checked_severity = one_of(
        severity, cat.SEVERITIES, field="severity", problems=problems, default=cat.DEFAULT_SEVERITY
    )
    checked_priority = one_of(
        priority, cat.PRIORITIES, field="priority", problems=problems, default=cat.DEFAULT_PRIORITY
    )
    if len(msisdns) > cat.RELATED_MSISDNS_MAX:
        problems.add("related.msisdns", f"at most {cat.RELATED_MSISDNS_MAX} lines")
    lines = tuple(
        dict.fromkeys(phone(m, field=f"related.msisdns[{i}]", problems=problems) for i, m in enumerate(msisdns))
    )
    operation = reference(operation_id, field="related.operation_id", problems=problems)
    bill = reference(bill_id, field="related.bill_id", problems=problems)
    contact = phone(contact_msisdn, field="contact_msisdn", problems=problems)
    problems.raise_any("the ticket is not valid")
    return NewTicket(
        node_id=node_id,
        type=kind,
        topic=checked_topic,
        description=checked_description,
        severity=checked_severity,
        priority=checked_priority,
        msisdns=tuple(m for m in lines if m),
        operation_id=operation,
        bill_id=bill,
        contact_msisdn=contact,
    )


def body(value: str, *, field: str = "body") -> str:
    problems = Problems()
    kept = text(value, field=field, maximum=cat.NOTE_MAX, problems=problems, multiline=True)
    problems.raise_any("the note is not valid")
    return kept


def reason(value: str, *, required: bool = False) -> str:
    problems = Problems()
    kept = text(value, field="reason", maximum=cat.REASON_MAX, problems=problems, multiline=True, required=required)
    problems.raise_any("the reason is not valid")
    return kept
