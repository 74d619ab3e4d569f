"""The catalogue's CSV layout, shared by import and export: one row per variant.

Fixed columns (a row repeats its product's columns; rows of one product share `product_slug`):

    product_slug, product_name, product_type, category, collections, description_html,
    seo_title, seo_description, sku, variant_name, weight_grams, track_inventory,
    low_stock_threshold

and one column per store-specific field, named `<kind>:<key>`:

    attribute:<code>     the variant's value of that attribute
    price:<channel>      the price in that channel (by slug), in its currency
    stock:<warehouse>    the free quantity in that warehouse (by code)
    published:<channel>  the product published in that channel (true/false)

docs/commerce.md ("CSV import and export") is the reference for what each cell accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRODUCT_COLUMNS = (
    "product_slug",
    "product_name",
    "product_type",
    "category",
    "collections",
    "description_html",
    "seo_title",
    "seo_description",
)
VARIANT_COLUMNS = (
    "sku",
    "variant_name",
    "weight_grams",
    "track_inventory",
    "low_stock_threshold",
)
FIXED_COLUMNS = PRODUCT_COLUMNS + VARIANT_COLUMNS
REQUIRED_COLUMNS = ("product_slug", "sku")
KEYED_KINDS = ("attribute", "price", "stock", "published")
CATEGORY_SEPARATOR = "/"
"""`category` is the path of category slugs from a root: `clothing/shirts`."""
LIST_SEPARATOR = "|"
"""`collections` lists collection slugs: `summer|sale`."""
TRUE_WORDS = frozenset({"true", "yes", "1"})
FALSE_WORDS = frozenset({"false", "no", "0"})


@dataclass(slots=True)
class Layout:
    """The columns of one file: the fixed ones present and the keyed ones by kind."""

    fixed: list[str] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)
    prices: list[str] = field(default_factory=list)
    stock: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)

    def header(self) -> list[str]:
        return [
            *self.fixed,
            *(f"attribute:{code}" for code in self.attributes),
            *(f"price:{slug}" for slug in self.prices),
            *(f"stock:{code}" for code in self.stock),
            *(f"published:{slug}" for slug in self.published),
        ]


def parse_header(names: list[str]) -> tuple[Layout, list[tuple[str, str]]]:
    """The layout of a header row, and its problems as (column, message)."""
    layout = Layout()
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for raw in names:
        name = raw.strip()
        if name in seen:
            problems.append((name, "the column appears twice"))
            continue
        seen.add(name)
        kind, separator, key = name.partition(":")
        if not separator:
            if name in FIXED_COLUMNS:
                layout.fixed.append(name)
            else:
                problems.append((name, "unknown column"))
        elif kind in KEYED_KINDS and key:
            getattr(layout, {"attribute": "attributes", "price": "prices"}.get(kind, kind)).append(
                key
            )
        else:
            problems.append((name, f"unknown column; keyed columns are {', '.join(KEYED_KINDS)}"))
    for required in REQUIRED_COLUMNS:
        if required not in layout.fixed:
            problems.append((required, "this column is required"))
    return layout, problems


def parse_flag(value: str) -> bool | None:
    """`true`/`yes`/`1` or `false`/`no`/`0` (any case); None for anything else."""
    lowered = value.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    return None
