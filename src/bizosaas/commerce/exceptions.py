"""Commerce errors, each with a stable machine code (answered as problem+json)."""

from __future__ import annotations

from bizosaas.kit.errors import Conflict, InvalidInput, NotFound, Problem


class CommerceNotFound(NotFound):
    """A catalogue, channel or inventory row that does not exist in the caller's tenant (another
    tenant's row included: a cross-tenant read is never confirmed)."""

    code = "commerce.not_found"
    title = "Not found in this store"


class StoreNotFound(NotFound):
    """No open store at this slug: unknown, suspended, or without an active channel (answered
    alike, so the storefront reveals nothing about which tenants exist)."""

    code = "commerce.store_not_found"
    title = "No such store"


class SkuTaken(Conflict):
    code = "commerce.sku_taken"
    title = "This SKU is already used in this store"


class SlugTaken(Conflict):
    code = "commerce.slug_taken"
    title = "This slug is already used in this store"


class NameTaken(Conflict):
    code = "commerce.name_taken"
    title = "This name is already used in this store"


class CodeTaken(Conflict):
    code = "commerce.code_taken"
    title = "This code is already used in this store"


class InsufficientStock(Conflict):
    code = "commerce.insufficient_stock"
    title = "Not enough stock"


class InvalidAttributes(InvalidInput):
    """Attribute values that do not fit the product type (unknown code, wrong kind, a choice
    that is not offered)."""

    code = "commerce.invalid_attributes"
    title = "Attribute values do not fit the product type"


class CategoryCycle(Conflict):
    code = "commerce.category_cycle"
    title = "A category cannot sit under itself or its own sub-categories"


class InUse(Conflict):
    """A row other rows still point at (a product type with products, a category with
    sub-categories or products, a warehouse holding stock)."""

    code = "commerce.in_use"
    title = "Still in use"


class InvalidCursor(Problem):
    status = 400
    code = "commerce.invalid_cursor"
    title = "The page cursor is not valid"


class InvalidPublicationWindow(Conflict):
    """Dates that leave no moment to be visible: a business rule the schema cannot state."""

    code = "commerce.invalid_publication_window"
    title = "The publication ends before it starts"


# -- checkout and orders ------------------------------------------------------------------------


class CheckoutCompleted(Conflict):
    code = "commerce.checkout_completed"
    title = "This checkout is already an order"


class CheckoutIncomplete(Conflict):
    """Completion asked of a checkout that lacks lines, an e-mail, an address or a shipping
    method (the `missing` field lists which)."""

    code = "commerce.checkout_incomplete"
    title = "The checkout is not ready to complete"


class VariantUnavailable(Conflict):
    code = "commerce.variant_unavailable"
    title = "This variant is not for sale in this channel"


class PriceChanged(Conflict):
    """A line's price changed since it was added: the customer confirms the new one by updating
    the line (which takes the current price) before completing."""

    code = "commerce.price_changed"
    title = "A price changed since it was added to the checkout"


class ShippingUnavailable(Conflict):
    code = "commerce.shipping_unavailable"
    title = "This shipping method does not serve this address or weight"


class VoucherInvalid(Conflict):
    """A code that is unknown, inactive, outside its dates or for another channel (one answer
    for all, so codes cannot be probed for which exist)."""

    code = "commerce.voucher_invalid"
    title = "This voucher code cannot be used"


class VoucherExhausted(Conflict):
    code = "commerce.voucher_exhausted"
    title = "This voucher has been used as often as it may be"


class InvalidTransition(Conflict):
    code = "commerce.invalid_transition"
    title = "The order cannot change to this status from its current one"


class InvalidQuantity(Conflict):
    """More fulfilled, returned or refunded than the order holds."""

    code = "commerce.invalid_quantity"
    title = "More than the order holds"


class ImportInvalid(Conflict):
    """A CSV import with rows that cannot be applied to the store as it is: the whole file is
    refused, nothing is changed, and `errors` lists every problem (`row`, `column`,
    `message`). A conflict, not a 422: the upload itself is a well-formed request."""

    code = "commerce.import_invalid"
    title = "The import file has errors; nothing was imported"


class ImportTooLarge(Problem):
    status = 413
    code = "commerce.import_too_large"
    title = "The import file is too large"


class InvalidImage(InvalidInput):
    """An upload that is not an image Pillow can read in an accepted format (JPEG, PNG, WebP,
    GIF)."""

    code = "commerce.invalid_image"
    title = "Not an image in an accepted format"


class ImageTooLarge(Problem):
    """An image over the byte limit, or over the pixel limit (a decompression bomb: a small
    file that would expand to gigabytes in memory)."""

    status = 413
    code = "commerce.image_too_large"
    title = "The image is too large"
