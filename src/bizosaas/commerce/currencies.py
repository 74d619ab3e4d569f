"""ISO 4217 currencies and their minor units, and the conversions between Decimal amounts and
the integer minor units stored in the database.

The `prices`/`babel` packages are not in the locks; the exponents below are ISO 4217's own
table (list one, as published by SIX) for the currencies a store is likely to sell in. A
currency missing here is refused at channel creation rather than guessed.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

MINOR_UNITS: dict[str, int] = {
    # zero-decimal currencies
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0,
    "XPF": 0,
    # three-decimal currencies
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    # two decimals
    "AED": 2, "ARS": 2, "AUD": 2, "BGN": 2, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2,
    "COP": 2, "CZK": 2, "DKK": 2, "EGP": 2, "EUR": 2, "GBP": 2, "GHS": 2, "HKD": 2,
    "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "KES": 2, "MAD": 2, "MXN": 2, "MYR": 2,
    "NGN": 2, "NOK": 2, "NZD": 2, "PEN": 2, "PHP": 2, "PKR": 2, "PLN": 2, "QAR": 2,
    "RON": 2, "RSD": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2, "TRY": 2, "TWD": 2,
    "UAH": 2, "USD": 2, "ZAR": 2,
}  # fmt: skip


def minor_unit(currency: str) -> int:
    """Decimal places of `currency` (KeyError for a currency not listed)."""
    return MINOR_UNITS[currency]


def quantize(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded to the currency's minor unit, halves away from zero (12.345 EUR ->
    12.35; 100.5 JPY -> 101)."""
    return amount.quantize(Decimal(1).scaleb(-minor_unit(currency)), rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """`amount` as an integer count of minor units, after rounding."""
    return int(quantize(amount, currency).scaleb(minor_unit(currency)))


def from_minor(amount_minor: int, currency: str) -> Decimal:
    return (
        Decimal(amount_minor)
        .scaleb(-minor_unit(currency))
        .quantize(Decimal(1).scaleb(-minor_unit(currency)))
    )
