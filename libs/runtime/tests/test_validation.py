"""Phone numbers and email addresses as they enter the platform."""

from __future__ import annotations

import unicodedata

import pytest

from simfleet_runtime import validation
from simfleet_runtime.errors import InvalidArgument
from simfleet_runtime.validation import check_text, normalize_email, normalize_msisdn, text_problem


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


def test_iccids_carry_a_luhn_check_digit_and_imsis_are_fifteen_digits() -> None:
    from simfleet_runtime.validation import luhn_check_digit, luhn_ok, normalize_iccid, normalize_imsi

    body = "897019900000000010"
    iccid = body + luhn_check_digit(body)
    assert iccid == "8970199000000000106" and luhn_ok(iccid)
    assert normalize_iccid("8970 1990 0000 0000 106") == iccid
    for bad in ("8970199000000000107", "1234567890123456789", "89701990"):
        with pytest.raises(InvalidArgument):
            normalize_iccid(bad)
    assert normalize_imsi(" 250010000000001 ") == "250010000000001"
    with pytest.raises(InvalidArgument):
        normalize_imsi("25001")


@pytest.mark.parametrize(
    "numbers",
    [
        ["+79990000001", "+79990000002", "+79991234567"],
        ["+78001234567", "+78009876543"],  # Russian toll-free: a national prefix 8 that must not be stripped
        ["+390612345678", "+390698765432"],  # Italy keeps its leading zero
        ["+5491123456789", "+5491187654321"],  # Argentina's mobile 9
        ["+14155550100", "+14155550199"],
        ["+4915112345678", "+4915187654321"],
        ["+9989012345678", "+9989012345670"],  # too long for Uzbekistan: refused every time
    ],
)
def test_numbers_of_one_shape_are_read_as_phonenumbers_reads_each(numbers: list[str]) -> None:
    """The shape cache (first digits and length) answers exactly what parsing each number would."""
    for number in numbers:
        expected, _ = validation._parsed_e164.__wrapped__(number)
        got, _ = validation._checked(number)
        assert got == expected, number


def test_many_numbers_at_once_are_what_each_would_be() -> None:
    written = ["+79990000001", "+79990000002", "+78001234567"]
    assert validation.normalize_msisdns(written) == written
    assert validation.normalize_msisdns(["+7 999 000-00-03", "+79990000004"]) == ["+79990000003", "+79990000004"]
    assert validation.normalize_msisdns([]) == []
    with pytest.raises(InvalidArgument) as bad:
        validation.normalize_msisdns(["+79990000001", "+9989012345678"], field="targets[{}].msisdn")
    assert list(bad.value.field_violations) == ["targets[1].msisdn"]


REFUSED_TEXT = [
    "\u202eexe.txt",
    "a\u202db",
    "a\u2066b\u2069",
    "a\u2067b",
    "a\u2068b",
    "\u200eSales",
    "Sales\u200f",
    "a\u061cb",
    "a\u0000b",
    "a\tb",
    "a\x1bb",
    "a\x7fb",
    "a\x85b",
    "a\x9bb",
    "a\rb",
    "a\nb",
    "a\u2028b",
    "a\ufeffb",
    "a\ud800b",
    "a\uffffb",
]


@pytest.mark.parametrize("text", REFUSED_TEXT)
def test_control_and_bidi_characters_are_refused_with_the_field_named(text: str) -> None:
    assert text_problem(text) is not None
    with pytest.raises(InvalidArgument) as caught:
        check_text(text, field="display_name", reason="INVALID_NAME")
    assert caught.value.reason == "INVALID_NAME"
    assert list(caught.value.field_violations) == ["display_name"]


@pytest.mark.parametrize(
    "text",
    ["Sales", "Отдел продаж", "営業部", "قسم المبيعات", "👩\u200d👩\u200d👧 family", "Zoë", "O'Brien & Co. (№ 5)"],
)
def test_text_of_any_script_is_taken(text: str) -> None:
    assert text_problem(text) is None
    assert check_text(text, field="name") == unicodedata.normalize("NFC", text)


def test_a_line_feed_only_where_several_lines_are_allowed() -> None:
    assert text_problem("one\ntwo", multiline=True) is None
    assert text_problem("one\rtwo", multiline=True) is not None
    assert check_text("Zoe\u0308", field="name") == "Zo\u00eb"
