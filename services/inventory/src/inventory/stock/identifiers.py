"""ICCID, IMSI and PUK codes, checked where they enter."""

from __future__ import annotations

import re

from simfleet_runtime.errors import InvalidArgument

_ICCID = re.compile(r"^89\d{17,18}$")
_IMSI = re.compile(r"^\d{15}$")
_PUK = re.compile(r"^\d{8}$")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_digit(body: str) -> str:
    """The check digit that makes ``body`` + digit pass :func:`luhn_ok`."""
    for digit in "0123456789":
        if luhn_ok(body + digit):
            return digit
    raise AssertionError("unreachable: one digit always completes a Luhn sum")


def normalize_iccid(value: str, *, field: str = "iccid") -> str:
    """19 or 20 digits starting 89 (telecom), with a valid Luhn check digit; spaces dropped."""
    compact = re.sub(r"\s", "", value or "")
    if not _ICCID.match(compact) or not luhn_ok(compact):
        raise InvalidArgument(
            "the ICCID must be 19 or 20 digits starting with 89, with a valid check digit",
            reason="INVALID_ICCID",
            field_violations={field: "not a valid ICCID"},
        )
    return compact


def normalize_imsi(value: str, *, field: str = "imsi") -> str:
    compact = (value or "").strip()
    if not _IMSI.match(compact):
        raise InvalidArgument(
            "the IMSI must be 15 digits", reason="INVALID_IMSI", field_violations={field: "not 15 digits"}
        )
    return compact


def normalize_puk(value: str, *, field: str) -> str:
    compact = (value or "").strip()
    if not _PUK.match(compact):
        raise InvalidArgument("a PUK code is 8 digits", reason="INVALID_PUK", field_violations={field: "not 8 digits"})
    return compact
