"""Validation of identifiers and human-readable text where they enter the platform."""

from __future__ import annotations

import functools
import operator
import re
import unicodedata
from collections.abc import Sequence

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from simfleet_runtime.errors import InvalidArgument

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""The Arabic letter mark, LRM/RLM, the embeddings and overrides (U+202A..E) and the isolates (U+2066..9)."""
_TEXT_SEPARATORS = frozenset("\u2028\u2029\ufeff")
TEXT_PROBLEM = "must not contain control characters or bidirectional controls"


def _refused_char(ch: str, multiline: bool) -> bool:
    if ch == "\n":
        return not multiline
    if ch in BIDI_CONTROLS or ch in _TEXT_SEPARATORS:
        return True
    if unicodedata.category(ch) in ("Cc", "Cs"):
        return True
    code = ord(ch)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE  # noncharacters


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """What is wrong with a human-readable text (a name, a label, a description), or None.

    Refused: C0 and C1 controls (NUL, tab, escape, ...; a line feed only unless
    ``multiline``), the bidirectional marks, embeddings, overrides and isolates
    (U+202E "RIGHT-TO-LEFT OVERRIDE" makes ``txt.exe`` of ``exe.txt`` in a
    list), line and paragraph separators, the BOM, lone surrogates and
    noncharacters. Every other character (letters of any script, emoji with
    their joiners) is taken.
    """
    bad = next((ch for ch in value if _refused_char(ch, multiline)), None)
    if bad is None:
        return None
    return f"{TEXT_PROBLEM} (U+{ord(bad):04X} found)"


LABEL_MAX = 64
"""The longest label a line takes (inventory's ``line_labels.label``)."""
GROUP_MAX = 100
"""The longest name of a group of lines (inventory's ``lines.group_name``)."""


def _name_problem(value: str, longest: int) -> str | None:
    if not value or len(value) > longest:
        return f"must be 1 to {longest} characters"
    if value != value.strip():
        return "must not start or end with a space"
    return text_problem(value)


def label_problem(value: str) -> str | None:
    """What is wrong with a line's label, or None: 1 to 64 characters of text (:func:`text_problem`), no space at
    either end, and no comma (a list of labels travels and is kept comma-joined). Import and the label operations
    hold labels to this one rule."""
    if "," in value:
        return "must not contain a comma"
    return _name_problem(value, LABEL_MAX)


def group_problem(value: str) -> str | None:
    """What is wrong with the name of a group of lines, or None: 1 to 100 characters of text, no space at either
    end."""
    return _name_problem(value, GROUP_MAX)


GROUP_ICONS = ("people", "truck", "briefcase", "headset", "wrench", "star", "building", "phone")
"""The icons a group of lines is drawn with (inventory keeps one per group; the console draws each)."""
GROUP_COLOURS = ("grey", "red", "orange", "yellow", "green", "teal", "blue", "purple", "pink")
"""The palette a group of lines is coloured from: names, each drawn by the console in its light and dark themes."""
GROUP_ICON_DEFAULT = "people"
GROUP_COLOUR_DEFAULT = "blue"


def check_text(value: str, *, field: str, multiline: bool = False, reason: str = "INVALID_TEXT") -> str:
    """``value`` in NFC when it is acceptable text (see :func:`text_problem`), else InvalidArgument naming ``field``."""
    problem = text_problem(value or "", multiline=multiline)
    if problem is not None:
        raise InvalidArgument(f"the {field} is not valid text", reason=reason, field_violations={field: problem})
    return unicodedata.normalize("NFC", value or "")


_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_SEPARATORS = re.compile(r"[\s\-()]")
_IMSI = re.compile(r"^\d{15}$")
_ICCID = re.compile(r"^89\d{17,18}$")


def is_e164(value: str) -> bool:
    """Whether ``value`` is already a number in E.164 (``+`` and 7 to 15 digits), as stored: no query needed
    for anything else."""
    return bool(_E164.match(value))


def normalize_msisdn(value: str, *, field: str = "phone") -> str:
    """An E.164 number (``+79990000001``); spaces, dashes and brackets are dropped."""
    compact = value if _E164.match(value or "") else _SEPARATORS.sub("", value or "")
    if not _E164.match(compact):
        raise InvalidArgument(
            "the phone number must be in international E.164 form, e.g. +79990000101",
            reason="INVALID_PHONE",
            field_violations={field: "not an E.164 number"},
        )
    number, problem = _checked(compact)
    if number is None:
        raise InvalidArgument(
            "the phone number is not valid", reason="INVALID_PHONE", field_violations={field: problem}
        )
    return number


_CANONICAL_LINES = re.compile(r"(?:\+[1-9]\d{6,14}\n)*\+[1-9]\d{6,14}")


def normalize_msisdns(values: Sequence[str], *, field: str = "phones[{}]") -> list[str]:
    """Many numbers at once, as :func:`normalize_msisdn` would give each (a bad one named ``field`` with its index).

    Bulk operations name up to 200,000: when all are already written in E.164 form and of shapes known to
    stand as written, they are checked in a few passes over the whole list instead of one call each.
    """
    if values and _CANONICAL_LINES.fullmatch("\n".join(values)):
        # One number of each shape (first digits, length), found without a Python step per number.
        shapes = dict(zip(zip(map(_SHAPE_PREFIX, values), map(len, values), strict=True), values, strict=True))
        for shape, value in shapes.items():
            if shape not in _UNCHANGED:
                _checked(value)  # learns the shape when the number stands as written
        if _UNCHANGED.issuperset(shapes):
            return list(values)
    return [normalize_msisdn(v, field=field.format(i)) for i, v in enumerate(values)]


_SHAPE_DIGITS = 8
"""How many leading characters (``+``, the country code, the first national digits) with the length decide how
phonenumbers reads a number: the country code, a national prefix it may strip, and the possible lengths all
depend on those alone."""
_SHAPE_PREFIX = operator.itemgetter(slice(0, _SHAPE_DIGITS))


def _checked(compact: str) -> tuple[str | None, str]:
    """:func:`_parsed_e164`, without parsing again a number shaped like one already found to stand as written.

    A bulk operation names 200,000 numbers, nearly all of one operator's ranges: parsing each took 35 µs,
    seven seconds in all. A number whose shape (its first digits and its length) is that of a number that
    phonenumbers left unchanged is read the same way.
    """
    shape = (compact[:_SHAPE_DIGITS], len(compact))
    if shape in _UNCHANGED:
        return compact, ""
    number, problem = _parsed_e164(compact)
    if number == compact and len(_UNCHANGED) < 100_000:
        _UNCHANGED.add(shape)
    return number, problem


_UNCHANGED: set[tuple[str, int]] = set()


@functools.lru_cache(maxsize=65_536)
def _parsed_e164(compact: str) -> tuple[str | None, str]:
    """The number as phonenumbers formats it, or None and why not; remembered, as a bulk operation
    names each of its numbers several times on its way (inventory, the network, fault injection)."""
    try:
        parsed = phonenumbers.parse(compact, None)
    except phonenumbers.NumberParseException as exc:
        return None, str(exc)
    if not phonenumbers.is_possible_number(parsed):
        return None, "impossible number"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), ""


def normalize_email(value: str, *, field: str = "email") -> str:
    """A syntactically valid address, lower-cased; surrounding spaces (a pasted address) are dropped."""
    try:
        result = validate_email((value or "").strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise InvalidArgument(
            "the email address is not valid", reason="INVALID_EMAIL", field_violations={field: str(exc)}
        ) from exc
    return result.normalized.lower()


def luhn_ok(digits: str) -> bool:
    """True when the last digit of ``digits`` is their Luhn check digit (ICCIDs)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_check_digit(body: str) -> str:
    """The digit that completes ``body`` into a number :func:`luhn_ok` accepts."""
    return next(digit for digit in "0123456789" if luhn_ok(body + digit))


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
    """15 digits."""
    compact = (value or "").strip()
    if not _IMSI.match(compact):
        raise InvalidArgument(
            "the IMSI must be 15 digits", reason="INVALID_IMSI", field_violations={field: "not 15 digits"}
        )
    return compact
