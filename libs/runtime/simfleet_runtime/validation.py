"""Validation of identifiers where they enter the platform."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from simfleet_runtime.errors import InvalidArgument

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def normalize_msisdn(value: str, *, field: str = "phone") -> str:
    """An E.164 number (``+79990000001``); spaces, dashes and brackets are dropped."""
    compact = re.sub(r"[\s\-()]", "", value or "")
    if not _E164.match(compact):
        raise InvalidArgument(
            "the phone number must be in international E.164 form, e.g. +79990000001",
            reason="INVALID_PHONE",
            field_violations={field: "not an E.164 number"},
        )
    try:
        parsed = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidArgument(
            "the phone number is not valid", reason="INVALID_PHONE", field_violations={field: str(exc)}
        ) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidArgument(
            "the phone number is not valid", reason="INVALID_PHONE", field_violations={field: "impossible number"}
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(value: str, *, field: str = "email") -> str:
    """A syntactically valid address, lower-cased; surrounding spaces (a pasted address) are dropped."""
    try:
        result = validate_email((value or "").strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise InvalidArgument(
            "the email address is not valid", reason="INVALID_EMAIL", field_violations={field: str(exc)}
        ) from exc
    return result.normalized.lower()
