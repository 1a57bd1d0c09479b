"""Money: integers in a currency's minor units, never floats.

Each ISO 4217 currency has a number of minor-unit digits (its exponent): an
amount of 12345 RUB is 123.45 roubles, 12345 IRR is 12,345 rials. The table
holds the digits payments use, which are CLDR's (what Babel reports) where they
differ from ISO 4217's own list: the Iranian rial and the Iraqi dinar have
subunits on paper that no payment uses, so they are counted in whole units.
"""

from __future__ import annotations

from typing import Final

from simfleet_runtime.errors import InvalidArgument

MAX_AMOUNT: Final = 10**15
"""The largest amount one leg may carry (10^13 roubles): any sum of legs and balances stays far inside 64 bits."""

_ZERO = "BIF CLP DJF GNF IQD IRR ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_THREE = "BHD JOD KWD LYD OMR TND"
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF "
    "CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF "
    "IDR ILS INR JMD KES KGS KHR KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN "
    "MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE "
    "SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWL "
    "KPW XCG ZWG"
)

EXPONENTS: Final[dict[str, int]] = {
    **{code: 0 for code in _ZERO.split()},
    **{code: 2 for code in _TWO.split()},
    **{code: 3 for code in _THREE.split()},
}
"""ISO 4217 code → minor-unit digits, for the currencies a customer may hold."""


def exponent(currency: str) -> int:
    """The minor-unit digits of a known currency (check it with :func:`currency` first)."""
    return EXPONENTS[currency]


def currency(code: str, *, field: str = "currency") -> str:
    """``code`` when it names a currency the ledger knows; otherwise INVALID_ARGUMENT naming ``field``."""
    if code not in EXPONENTS:
        raise InvalidArgument(
            "the currency is not one the ledger keeps: an ISO 4217 code in capitals, such as RUB",
            reason="UNKNOWN_CURRENCY",
            field_violations={field: "an ISO 4217 currency code, such as RUB"},
        )
    return code


def amount(value: int, *, field: str) -> int:
    """A leg's amount: more than 0 and at most :data:`MAX_AMOUNT` minor units."""
    if value <= 0:
        raise InvalidArgument(
            "an amount must be more than 0 minor units",
            reason="INVALID_AMOUNT",
            field_violations={field: "more than 0"},
        )
    if value > MAX_AMOUNT:
        raise InvalidArgument(
            f"an amount may be at most {MAX_AMOUNT} minor units",
            reason="AMOUNT_TOO_LARGE",
            field_violations={field: f"at most {MAX_AMOUNT}"},
        )
    return value


def limit(value: int, *, field: str) -> int:
    """A credit limit: 0 or more, at most :data:`MAX_AMOUNT` minor units."""
    if not 0 <= value <= MAX_AMOUNT:
        raise InvalidArgument(
            f"a credit limit is 0 to {MAX_AMOUNT} minor units",
            reason="INVALID_CREDIT_LIMIT",
            field_violations={field: f"0 to {MAX_AMOUNT}"},
        )
    return value
