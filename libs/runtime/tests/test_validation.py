"""Phone numbers and email addresses as they enter the platform."""

from __future__ import annotations

import pytest

from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.validation import normalize_email, normalize_msisdn


@pytest.mark.parametrize(
    "raw",
    ["+79990000001", "+7 (999) 000-00-01", " +7 999 000 00 01 ", "+7-999-000-00-01"],
)
def test_e164_numbers_are_normalised(raw: str) -> None:
    assert normalize_msisdn(raw) == "+79990000001"


@pytest.mark.parametrize(
    "raw",
    ["89990000001", "79990000001", "+0123", "+0123456789", "+7999OOOOOO1", "+7 999 abc 00 01", "", "+", "+7", "+1234"],
)
def test_other_numbers_are_refused_with_a_field_violation(raw: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalize_msisdn(raw, field="manager.phone")
    assert caught.value.reason == "INVALID_PHONE"
    assert list(caught.value.field_violations) == ["manager.phone"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("manager@demo.example", "manager@demo.example"),
        ("Manager@Demo.Example", "manager@demo.example"),
        ("  ops.team+sims@Corp.Example.COM ", "ops.team+sims@corp.example.com"),
    ],
)
def test_emails_are_normalised_lower_case(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "manager", "manager@", "@demo.example", "man ager@demo.example", "manager@@demo.example", "manager@demo"],
)
def test_bad_emails_are_refused_with_a_field_violation(raw: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalize_email(raw)
    assert caught.value.reason == "INVALID_EMAIL"
    assert list(caught.value.field_violations) == ["email"]
    assert caught.value.field_violations["email"]
