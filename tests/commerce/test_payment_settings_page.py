"""The store's Payments page: the manual provider's instructions and Stripe's keys set from a
form; a secret is stored sealed and never shown again (only its last four characters), and an
empty secret field keeps the stored one."""

from __future__ import annotations

import httpx

from tests.commerce.conftest import Store
from tests.commerce.test_order_pages import HTML, signed_in
from tests.web.pages import post_form

PAGE = "/app/commerce/payments"
SECRET = "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dc"


async def test_owner_sets_keys_that_are_never_shown_again(
    client: httpx.AsyncClient, shop: Store
) -> None:
    await signed_in(client, shop)
    form = {
        "manual_enabled": "1",
        "manual_instructions": "IBAN DE00 1234, reference: your order number",
        "stripe_enabled": "1",
        "stripe_secret_key": SECRET,
        "stripe_publishable_key": "pk_test_123",
    }
    saved = await post_form(client, PAGE, PAGE, form)
    assert saved.status_code == 303
    page = await client.get(PAGE, headers=HTML)
    assert "Payment settings saved." in page.text
    assert SECRET not in page.text and "ending in p7dc" in page.text
    assert "IBAN DE00 1234" in page.text
    stored = await shop.ok("GET", "/payment-settings")
    assert stored["stripe"]["configured"] and stored["stripe"]["secret_key_last4"] == "p7dc"

    # Saved again without typing the secret: it stays.
    kept = await post_form(client, PAGE, PAGE, {**form, "stripe_secret_key": ""})
    assert kept.status_code == 303
    assert (await shop.ok("GET", "/payment-settings"))["stripe"]["secret_key_last4"] == "p7dc"

    # A key that is not Stripe's is refused, and nothing changes.
    refused = await post_form(client, PAGE, PAGE, {**form, "stripe_secret_key": "not-a-key"})
    shown = await client.get(refused.headers["location"], headers=HTML)
    assert "alert-error" in shown.text
    assert (await shop.ok("GET", "/payment-settings"))["stripe"]["secret_key_last4"] == "p7dc"
