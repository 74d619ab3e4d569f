"""Values as the CRM stores them: phone numbers in E.164, amounts in minor units, custom field
values checked against their definitions, notes as sanitised HTML, and search text."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import nh3
import phonenumbers
from babel.numbers import get_currency_precision, list_currencies

from bizosaas.crm.exceptions import InvalidCustomFields, InvalidPhone, field_error
from bizosaas.crm.models import CustomField, FieldKind
from bizosaas.crm.search import words
from bizosaas.kit.errors import InvalidInput

KNOWN_CURRENCIES = frozenset(list_currencies())
"""ISO 4217 codes, from the CLDR data the `babel` package ships."""


class UnknownCurrency(InvalidInput):
    code = "crm.unknown_currency"
    title = "Not an ISO 4217 currency"


def check_currency(currency: str) -> str:
    if currency not in KNOWN_CURRENCIES:
        raise UnknownCurrency(f"{currency} is not an ISO 4217 currency code.")
    return currency


def to_minor(amount: Decimal, currency: str) -> int:
    """`amount` in the currency's minor unit, rounded half up (12.345 EUR is 1235 cents)."""
    exponent = get_currency_precision(check_currency(currency))
    return int((amount * (Decimal(10) ** exponent)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(amount_minor: int, currency: str) -> Decimal:
    exponent = get_currency_precision(currency)
    return (Decimal(amount_minor) / (Decimal(10) ** exponent)).quantize(
        Decimal(1).scaleb(-exponent)
    )


def normalise_phones(numbers: Sequence[str], *, region: str | None) -> list[str]:
    """Each number parsed and validated by `phonenumbers` and written in E.164; a number without
    a `+` country code is read as dialled in `region`. Duplicates are dropped, order kept.
    Raises `crm.invalid_phone` naming every number that is not valid."""
    normalised: list[str] = []
    problems: list[str] = []
    for raw in numbers:
        try:
            parsed = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is None or not phonenumbers.is_valid_number(parsed):
            hint = (
                "" if region or raw.startswith("+") else " (add a + country code or phone_region)"
            )
            problems.append(f"{raw}: not a valid phone number{hint}")
            continue
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if e164 not in normalised:
            normalised.append(e164)
    if problems:
        raise InvalidPhone(
            "; ".join(problems),
            errors=[
                field_error(["body", "phones"], problem, "crm.invalid_phone")
                for problem in problems
            ],
        )
    return normalised


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _number_value(definition: CustomField, value: Any) -> tuple[Any, str | None]:
    """Numbers as exact decimal text; money rounded to its currency's minor unit."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None, "give a number"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None, "give a number"
    if not number.is_finite() or abs(number) >= Decimal(10**15):
        return None, "give a finite number below 10^15"
    if definition.kind != FieldKind.money:
        return str(number.normalize()), None
    assert definition.currency is not None
    if number < 0:
        return None, "give an amount of zero or more"
    return str(from_minor(to_minor(number, definition.currency), definition.currency)), None


def _custom_value(definition: CustomField, value: Any) -> tuple[Any, str | None]:
    """The value as stored and, if it does not fit, the problem."""
    kind = FieldKind(definition.kind)
    if kind == FieldKind.boolean:
        return (value, None) if isinstance(value, bool) else (None, "give true or false")
    if kind in (FieldKind.number, FieldKind.money):
        return _number_value(definition, value)
    if kind == FieldKind.date:
        try:
            return date.fromisoformat(str(value)).isoformat(), None
        except ValueError:
            return None, "give a date as YYYY-MM-DD"
    if kind == FieldKind.multi_choice:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return None, "give a list of choices"
        wrong = [v for v in value if v not in definition.choices]
        if wrong:
            return None, f"not offered: {', '.join(wrong)}"
        return unique(value), None
    if not isinstance(value, str) or len(value) > 1000:
        return None, "give text of at most 1000 characters"
    if kind == FieldKind.choice and value not in definition.choices:
        return None, f"not offered: {value}"
    return value, None


def custom_values(
    definitions: Mapping[str, CustomField],
    values: Mapping[str, Any],
    *,
    current: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """`values` (merged into `current`; a null removes a value) checked against the record type's
    definitions. Raises `crm.invalid_custom_fields` listing every problem."""
    stored = dict(current or {})
    problems: list[str] = []
    for code, value in values.items():
        definition = definitions.get(code)
        if definition is None:
            problems.append(f"{code}: no such custom field")
            continue
        if value is None:
            stored.pop(code, None)
            continue
        checked, problem = _custom_value(definition, value)
        if problem:
            problems.append(f"{code}: {problem}")
        else:
            stored[code] = checked
    for code, definition in definitions.items():
        if definition.required and stored.get(code) in (None, "", []):
            problems.append(f"{code}: required")
    if problems:
        raise InvalidCustomFields(
            "; ".join(problems),
            errors=[
                field_error(
                    ["body", "custom", problem.split(":", 1)[0]],
                    problem.split(": ", 1)[1],
                    "crm.invalid_custom_field",
                )
                for problem in problems
            ],
        )
    return stored


def sanitise_html(value: str) -> str:
    """Only harmless markup left (no scripts, styles, event handlers or `javascript:` links),
    by the Ammonia sanitiser's allow-list."""
    return nh3.clean(value)


def plain_text(value: str) -> str:
    return html.unescape(nh3.clean(value, tags=set()))


def search_text(*parts: str | None) -> str:
    """The words of `parts`, lower case, split on everything that is not a word character, so
    both backends' tokenisers see the same words as the query (`search.words`)."""
    return " ".join(words(" ".join(part for part in parts if part), limit=None))
