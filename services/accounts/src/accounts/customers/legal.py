"""The legal entity's numbers, checked for format where they enter (AC-1).

* INN (tax number): 10 digits for an organisation, 12 for an individual
  entrepreneur, with their check digits.
* OGRN (registration number): 13 digits for an organisation, OGRNIP 15 for an
  individual entrepreneur; the last digit checks the others.
* KPP (tax registration reason code): 9 characters, organisations only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_KPP = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_problem(value: str) -> str | None:
    if not value.isdigit() or len(value) not in (10, 12) or not value.isascii():
        return "10 digits (organisation) or 12 (individual entrepreneur)"
    if len(value) == 10:
        ok = _check_digit(value, _INN10) == int(value[9])
    else:
        ok = _check_digit(value, _INN12_11) == int(value[10]) and _check_digit(value, _INN12_12) == int(value[11])
    return None if ok else "the check digits do not match"


def ogrn_problem(value: str) -> str | None:
    if not value.isdigit() or len(value) not in (13, 15) or not value.isascii():
        return "13 digits (OGRN) or 15 (OGRNIP)"
    modulus = 11 if len(value) == 13 else 13
    return None if int(value[:-1]) % modulus % 10 == int(value[-1]) else "the check digit does not match"


def kpp_problem(value: str) -> str | None:
    return None if _KPP.match(value) else "9 characters: 4 digits, 2 digits or capital letters, 3 digits"


@dataclass(frozen=True)
class LegalEntity:
    name: str
    tax_number: str
    registration_number: str
    tax_registration_reason_code: str

    @property
    def organisation(self) -> bool:
        return len(self.tax_number) == 10


def legal_entity_problems(entity: LegalEntity) -> dict[str, str]:
    """Field → what is wrong with it; empty when the entity is valid."""
    problems: dict[str, str] = {}
    if not 1 <= len(entity.name) <= 300:
        problems["legal_entity.name"] = "1 to 300 characters"
    if problem := inn_problem(entity.tax_number):
        problems["legal_entity.tax_number"] = problem
    if problem := ogrn_problem(entity.registration_number):
        problems["legal_entity.registration_number"] = problem
    if problems.keys() & {"legal_entity.tax_number", "legal_entity.registration_number"}:
        return problems
    if entity.organisation != (len(entity.registration_number) == 13):
        problems["legal_entity.registration_number"] = (
            "an organisation (10-digit INN) has a 13-digit OGRN, an entrepreneur (12-digit INN) a 15-digit OGRNIP"
        )
    if entity.organisation:
        if problem := kpp_problem(entity.tax_registration_reason_code):
            problems["legal_entity.tax_registration_reason_code"] = problem
    elif entity.tax_registration_reason_code:
        problems["legal_entity.tax_registration_reason_code"] = "individual entrepreneurs have none"
    return problems
