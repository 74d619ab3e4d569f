"""Rich text and attribute values as the catalogue stores them."""

from __future__ import annotations

import html
from decimal import Decimal, InvalidOperation
from typing import Any

import nh3

from bizosaas.commerce.exceptions import InvalidAttributes
from bizosaas.commerce.models import Attribute, AttributeKind
from bizosaas.commerce.search import words


def sanitise_html(value: str) -> str:
    """The description with only harmless markup left (no scripts, styles, event handlers or
    `javascript:` links), by the Ammonia sanitiser's allow-list."""
    return nh3.clean(value)


def plain_text(value: str) -> str:
    """The text of sanitised HTML, without markup: what search indexes."""
    return html.unescape(nh3.clean(value, tags=set()))


def search_text(*, name: str, skus: list[str], description_html: str) -> str:
    """The words of the name, SKUs and description, lower case, split on everything that is not
    a word character: both backends' tokenisers then see the same words (PostgreSQL's parser
    alone would read `TRL-42` as `trl` and the number `-42`), as the query does
    (`search.words`)."""
    return " ".join(words(" ".join([name, *skus, plain_text(description_html)]), limit=None))


def canonical_attributes(
    definitions: list[Attribute], values: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Check `values` against the product type's attributes: the values as stored on the variant
    (numbers as decimal strings, booleans as booleans) and the canonical text of each, which
    filters compare. Raises `InvalidAttributes` naming every problem."""
    by_code = {definition.code: definition for definition in definitions}
    stored: dict[str, Any] = {}
    texts: dict[str, str] = {}
    problems: list[str] = []
    for code, value in values.items():
        definition = by_code.get(code)
        if definition is None:
            problems.append(f"{code}: the product type has no such attribute")
            continue
        kind = AttributeKind(definition.kind)
        if kind == AttributeKind.boolean:
            if not isinstance(value, bool):
                problems.append(f"{code}: give true or false")
                continue
            stored[code], texts[code] = value, "true" if value else "false"
        elif kind == AttributeKind.number:
            number = _number(value)
            if number is None:
                problems.append(f"{code}: give a number")
                continue
            stored[code] = texts[code] = number
        elif not isinstance(value, str):
            problems.append(f"{code}: give text")
        elif kind == AttributeKind.choice and value not in definition.choices:
            problems.append(f"{code}: choose one of {', '.join(definition.choices)}")
        else:
            stored[code], texts[code] = value, value
    if problems:
        raise InvalidAttributes("; ".join(problems), errors=problems)
    return stored, texts


def _number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        # repr: the shortest text that reads back as the same float (4.5, not 4.5000000001)
        number = Decimal(repr(value) if isinstance(value, float) else value)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return format(number.normalize(), "f")


def canonical_filter_values(definitions: list[Attribute], value: str) -> set[str]:
    """The stored texts a filter's value (text, from a query string) stands for, given the
    attributes of that code (product types may give one code different kinds)."""
    found: set[str] = set()
    for definition in definitions:
        kind = AttributeKind(definition.kind)
        if kind == AttributeKind.boolean and value.lower() in ("true", "false"):
            found.add(value.lower())
        elif kind == AttributeKind.number:
            number = _number(value)
            if number is not None:
                found.add(number)
        elif kind in (AttributeKind.text, AttributeKind.choice):
            found.add(value)
    return found
