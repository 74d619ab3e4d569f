"""Buying in the demo store with a real browser, at desktop and at phone width, paying by bank
transfer; then the store's owner finds the order, with its timeline, in the workspace and marks
the money received."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.web.browser import PHONE, Server, Visitor
from tests.web.test_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STORE_NAME = "Acme Coffee Roasters"


def buy(page: Page, base_url: str, *, email: str) -> str:
    """Find a coffee, put it in the cart, check out; answers the order number."""
    page.goto(base_url + "/store/acme")
    page.get_by_label("Search the store").fill("ethiopia")
    page.get_by_role("button", name="Search").click()
    page.locator(".product-card a").first.click()
    expect(page.get_by_test_id("price")).to_contain_text("EUR")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("status").first).to_contain_text("Added to your cart.")
    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Street and number").fill("Hauptstraße 1")
    page.get_by_label("Postal code").fill("10115")
    page.get_by_label("City").fill("Berlin")
    page.get_by_label("Country").select_option("DE")
    page.get_by_role("button", name="Continue to delivery").click()
    # Choosing a delivery applies at once (the button stays for keyboards and no script).
    page.get_by_role("radio", name=re.compile("Standard")).check()
    expect(page.get_by_role("button", name=re.compile(r"^Place order"))).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Place order")).click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    number = page.get_by_test_id("order-number").inner_text()
    return number.lstrip("#")


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_a_visitor_buys_and_the_owner_finds_the_order(
    server: Server, visitor_factory: Callable[[], Visitor], width: str
) -> None:
    shopper = visitor_factory()
    if width == "phone":
        shopper.page.set_viewport_size(PHONE)
    number = buy(shopper.page, shopper.base_url, email=f"{width}-buyer@example.com")
    shopper.screenshot(f"store-confirmation-{width}")

    owner = visitor_factory()
    page = sign_in(owner, *server.login_for("tenant admin"))
    # The demo's tenant admin belongs to two workspaces: work in the store's.
    switcher = page.get_by_label("Tenant")
    current = switcher.evaluate("select => select.selectedOptions[0].textContent")
    if current != STORE_NAME:
        switcher.select_option(label=STORE_NAME)
        expect(page.get_by_role("status").first).to_contain_text(f"now working in {STORE_NAME}")
    page = owner.open("/app/commerce/orders")
    page.get_by_role("link", name=f"#{number}", exact=True).click()
    expect(page.get_by_role("heading", name=f"Order #{number}")).to_be_visible()
    timeline = page.locator("ol.timeline")
    expect(timeline.locator('li[data-kind="placed"]')).to_have_count(1)
    expect(page.get_by_text(f"{width}-buyer@example.com").first).to_be_visible()
    page.get_by_role("button", name="Mark money received").click()
    expect(page.get_by_role("status").first).to_contain_text("Payment marked as received.")
    expect(timeline.locator('li[data-kind="payment_capture"]')).to_have_count(1)
    owner.screenshot(f"store-order-{width}")
