"""Reading CSV rows into import plans: each cell checked on its own (the schemas' rules, the
product type's attributes), rows of one product gathered under its slug. Nothing here reads
or writes the database: `csv_import` gives the store's types, channels and warehouses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter, ValidationError

from bizosaas.commerce.exceptions import InvalidAttributes
from bizosaas.commerce.models import Attribute, AttributeKind, Channel, ProductType, Warehouse
from bizosaas.commerce.schemas import ImportProblem, Money, ProductUpdate, Slug, VariantUpdate
from bizosaas.commerce.service.content import canonical_attributes
from bizosaas.commerce.service.csv_columns import (
    CATEGORY_SEPARATOR,
    LIST_SEPARATOR,
    Layout,
    parse_flag,
)

MAX_ERRORS = 10_000
"""Problems listed at most; a file with more is refused all the same."""
MAX_STOCK = 1_000_000_000

_money = TypeAdapter(Money)
_slug = TypeAdapter(Slug)
PRODUCT_FIELDS = {
    "product_name": "name",
    "description_html": "description_html",
    "seo_title": "seo_title",
    "seo_description": "seo_description",
}
VARIANT_FIELDS = {
    "sku": "sku",
    "variant_name": "name",
    "weight_grams": "weight_grams",
    "track_inventory": "track_inventory",
    "low_stock_threshold": "low_stock_threshold",
}


@dataclass(slots=True)
class VariantPlan:
    row: int
    fields: dict[str, Any]
    attributes: dict[str, Any]
    prices: dict[str, Decimal]
    stock: dict[str, int]


@dataclass(slots=True)
class ProductPlan:
    row: int
    slug: str
    type_name: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    category: list[str] | None = None
    collections: list[str] | None = None
    published: dict[str, bool] = field(default_factory=dict)
    variants: list[VariantPlan] = field(default_factory=list)


@dataclass(slots=True)
class Store:
    """What the check reads of the store once: types, channels, warehouses."""

    types: dict[str, ProductType]
    attributes: dict[uuid.UUID, list[Attribute]]
    channels: dict[str, Channel]
    warehouses: dict[str, Warehouse]


class Problems:
    def __init__(self) -> None:
        self.items: list[ImportProblem] = []
        self.count = 0

    def add(self, row: int, column: str | None, message: str) -> None:
        self.count += 1
        if len(self.items) < MAX_ERRORS:
            self.items.append(ImportProblem(row=row, column=column, message=message))


def is_slug(text: str) -> bool:
    try:
        _slug.validate_python(text)
    except ValidationError:
        return False
    return True


def _column_of(fields: dict[str, str], error: dict[str, Any]) -> str | None:
    name = str(error["loc"][0]) if error["loc"] else ""
    return next((column for column, field in fields.items() if field == name), None)


@dataclass(slots=True)
class RowPlanner:
    """Turns rows into `plans` (by product slug), noting every problem in `problems`."""

    layout: Layout
    store: Store
    problems: Problems
    plans: dict[str, ProductPlan] = field(default_factory=dict)

    def add(self, number: int, row: dict[str, str]) -> ProductPlan | None:
        slug = _cell(row, "product_slug")
        if not is_slug(slug):
            self.problems.add(number, "product_slug", "give a slug: lower-case letters, digits, -")
            return None
        plan = self.plans.get(slug)
        if plan is None:
            plan = self.plans[slug] = ProductPlan(row=number, slug=slug)
        self._product_fields(number, row, plan)
        self._product_type(number, row, plan)
        self._product_places(number, row, plan)
        self._published(number, row, plan)
        variant = self._variant(number, row, self.store.types.get(plan.type_name))
        if variant is not None:
            plan.variants.append(variant)
        return plan

    # -- product columns: the first row of a product gives them; a later row may leave them
    # -- empty, and one that gives a different value is a problem.

    def _product_fields(self, number: int, row: dict[str, str], plan: ProductPlan) -> None:
        given = {
            name: row[column] if column == "description_html" else _cell(row, column)
            for column, name in PRODUCT_FIELDS.items()
            if column in self.layout.fixed and _cell(row, column)
        }
        if not given:
            return
        try:
            checked = ProductUpdate.model_validate(given).model_dump(exclude_unset=True)
        except ValidationError as error:
            for item in error.errors():
                self.problems.add(number, _column_of(PRODUCT_FIELDS, dict(item)), item["msg"])
            return
        for name, value in checked.items():
            if name not in plan.fields or plan.row == number:
                plan.fields[name] = value
            elif plan.fields[name] != value:
                column = next(c for c, n in PRODUCT_FIELDS.items() if n == name)
                self.problems.add(number, column, f"differs from row {plan.row} of this product")

    def _product_type(self, number: int, row: dict[str, str], plan: ProductPlan) -> None:
        type_name = _cell(row, "product_type")
        if type_name and (plan.row == number or not plan.type_name):
            plan.type_name = type_name
        elif type_name and type_name != plan.type_name:
            self.problems.add(number, "product_type", f"differs from row {plan.row}")
        if plan.row == number and not plan.type_name:
            self.problems.add(number, "product_type", "name the product type of the product")
        elif type_name and type_name not in self.store.types:
            self.problems.add(number, "product_type", f"no product type named {type_name!r}")

    def _product_places(self, number: int, row: dict[str, str], plan: ProductPlan) -> None:
        category = _cell(row, "category")
        if category:
            path = [part.strip() for part in category.split(CATEGORY_SEPARATOR)]
            if not all(is_slug(part) for part in path):
                self.problems.add(number, "category", "give the path of slugs: clothing/shirts")
            elif plan.category is None:
                plan.category = path
            elif plan.category != path:
                self.problems.add(number, "category", f"differs from row {plan.row}")
        collections = _cell(row, "collections")
        if collections:
            slugs = [part.strip() for part in collections.split(LIST_SEPARATOR) if part.strip()]
            if not all(is_slug(part) for part in slugs):
                self.problems.add(number, "collections", "give collection slugs separated by |")
            elif plan.collections is None:
                plan.collections = slugs
            elif plan.collections != slugs:
                self.problems.add(number, "collections", f"differs from row {plan.row}")

    def _published(self, number: int, row: dict[str, str], plan: ProductPlan) -> None:
        for channel in self.layout.published:
            text = _cell(row, f"published:{channel}")
            flag = parse_flag(text) if text else None
            if text and flag is None:
                self.problems.add(number, f"published:{channel}", "give true or false")
            elif flag is not None:
                plan.published[channel] = flag

    # -- variant columns ----------------------------------------------------------------------

    def _variant(
        self, number: int, row: dict[str, str], product_type: ProductType | None
    ) -> VariantPlan | None:
        before = self.problems.count
        fields = self._variant_fields(number, row)
        if "sku" not in fields and before == self.problems.count:
            self.problems.add(number, "sku", "every row needs the variant's SKU")
        attributes = self._attributes(number, row, product_type)
        prices: dict[str, Decimal] = {}
        for channel in self.layout.prices:
            text = _cell(row, f"price:{channel}")
            try:
                if text:
                    prices[channel] = _money.validate_python(text)
            except ValidationError:
                self.problems.add(number, f"price:{channel}", "give a plain amount such as 12.50")
        stock: dict[str, int] = {}
        for code in self.layout.stock:
            text = _cell(row, f"stock:{code}")
            if text and (not text.isdigit() or int(text) > MAX_STOCK):
                self.problems.add(number, f"stock:{code}", "give a whole number, 0 or more")
            elif text:
                stock[code] = int(text)
        if self.problems.count != before:
            return None
        return VariantPlan(number, fields, attributes, prices, stock)

    def _variant_fields(self, number: int, row: dict[str, str]) -> dict[str, Any]:
        given: dict[str, Any] = {}
        for column, name in VARIANT_FIELDS.items():
            text = _cell(row, column)
            if column not in self.layout.fixed or not text:
                continue
            if name != "track_inventory":
                given[name] = text
            elif (flag := parse_flag(text)) is None:
                self.problems.add(number, column, "give true or false")
            else:
                given[name] = flag
        try:
            return VariantUpdate.model_validate(given).model_dump(exclude_unset=True)
        except ValidationError as error:
            for item in error.errors():
                self.problems.add(number, _column_of(VARIANT_FIELDS, dict(item)), item["msg"])
            return {}

    def _attributes(
        self, number: int, row: dict[str, str], product_type: ProductType | None
    ) -> dict[str, Any]:
        texts = {code: _cell(row, f"attribute:{code}") for code in self.layout.attributes}
        texts = {code: text for code, text in texts.items() if text}
        if product_type is None or not texts:
            return {}
        definitions = self.store.attributes[product_type.id]
        kinds = {definition.code: AttributeKind(definition.kind) for definition in definitions}
        values: dict[str, Any] = {}
        for code, text in texts.items():
            flag = parse_flag(text) if kinds.get(code) == AttributeKind.boolean else None
            values[code] = text if flag is None else flag
        try:
            canonical_attributes(definitions, values)
        except InvalidAttributes as error:
            for message in error.extensions.get("errors", []):
                code, _, why = str(message).partition(": ")
                self.problems.add(number, f"attribute:{code}", why)
        return values


def _cell(row: dict[str, str], column: str) -> str:
    return (row.get(column) or "").strip()
