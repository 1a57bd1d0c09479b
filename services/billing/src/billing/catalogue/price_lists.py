"""Price lists per currency: every tariff priced in each currency customers may hold.

The catalogue's tariffs are stored in roubles. A customer onboarded in another
currency has its usage and monthly fees priced by the same tariff in that
currency, from a fixed rate per rouble kept here (not a market rate: a price
list, changed by a release as prices are):

- **IRR**: 500 rials per rouble. The rial has no minor unit in payments
  (billing/money.py), so a price of 250 kopecks (2.50 RUB) a minute is 1,250
  rials; every price and fee is converted by ``amount * rate * 10^(target
  digits) / 10^(rouble digits)``, rounded half up to a whole minor unit.

The allowances, zones and roaming groups are the tariff's own; only the
amounts change. Options' monthly fees (:mod:`billing.catalogue.options`, stored
in roubles too) are converted the same way: :func:`option_fee_in`, and so are
the data packages' prices (:func:`offer_in`): listed and sold in the buyer's currency. A version
of a tariff in another currency starts when the rouble version does, so a
price change applies in every currency at once.

Rating and monthly fees take a line's tariff from its account's currency's
price list (``TariffBook.at(code, when, currency)``) and an option's fee from
:func:`option_fee_in`; the catalogue's reads (``CatalogueService.GetPriceList``
and ``ListOptions``) answer a customer from the very same two, in the currency
of its personal accounts. A currency without a price list is answered with the
stored amounts in roubles (their currency says so), as rating then refuses it.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from billing import money
from billing.catalogue.options import OPTIONS, Option, option_fee
from billing.catalogue.packages import PackageOffer
from billing.catalogue.plans import Tariff

BASE_CURRENCY: Final = "RUB"
RATES: Final[dict[str, Decimal]] = {"IRR": Decimal(500)}
"""Units of each currency per rouble, for the currencies the catalogue has price lists in besides roubles."""


def convert(amount: int, currency: str, *, source: str = BASE_CURRENCY) -> int:
    """``amount`` minor units of ``source`` in minor units of ``currency`` at :data:`RATES`, rounded half up."""
    scaled = Decimal(amount) * RATES[currency] * Decimal(10) ** (money.exponent(currency) - money.exponent(source))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def priced_in(tariff: Tariff, currency: str) -> Tariff:
    """The same version of ``tariff`` (stored in :data:`BASE_CURRENCY`) with every amount in ``currency``."""

    def each(prices: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        return {key: {inner: convert(p, currency) for inner, p in values.items()} for key, values in prices.items()}

    return replace(
        tariff,
        currency=currency,
        monthly_fee=convert(tariff.monthly_fee, currency),
        home=each(tariff.home),
        roaming=each(tariff.roaming),
    )


def price_lists(tariff: Tariff) -> list[Tariff]:
    """The tariff in every currency of :data:`RATES` (none for one not stored in roubles)."""
    if tariff.currency != BASE_CURRENCY:
        return []
    return [priced_in(tariff, currency) for currency in sorted(RATES)]


def amount_in(amount: int, stored: str, currency: str) -> int | None:
    """``amount`` (minor units of ``stored``) in ``currency``'s price list; None when it has none for it."""
    if currency == stored:
        return amount
    if stored != BASE_CURRENCY or currency not in RATES:
        return None
    return convert(amount, currency)


def option_fee_in(tariff_code: str, option_code: str, currency: str) -> int | None:
    """What ``option_code`` costs a month on ``tariff_code`` in ``currency``; None without a price list in it."""
    option = OPTIONS.get(option_code)
    stored = option.currency if option is not None else BASE_CURRENCY
    return amount_in(option_fee(tariff_code, option_code), stored, currency)


def option_in(option: Option, currency: str) -> Option:
    """``option`` with its monthly fee (on a tariff that does not include it) from ``currency``'s price list;
    as stored when there is none."""
    fee = amount_in(option.monthly_fee, option.currency, currency)
    return option if fee is None else replace(option, currency=currency, monthly_fee=fee)


def offer_in(offer: PackageOffer, currency: str) -> PackageOffer | None:
    """``offer`` priced from ``currency``'s price list; None when it has none (the package cannot be sold in it)."""
    price = amount_in(offer.price, offer.currency, currency)
    return None if price is None else replace(offer, currency=currency, price=price)
