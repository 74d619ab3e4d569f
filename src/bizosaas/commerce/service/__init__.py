"""Commerce use cases. Each takes the session and keyword-only arguments, binds the session to
the caller's `TenantScope`, may flush, and never commits (the request or job does).

catalog.py     product types, categories, collections, products and variants
listing.py     reading products as the API shows them, and the product search
channels.py    channels, prices per variant and publication per channel
inventory.py   warehouses, stock, allocation and release
shipping.py    shipping zones and methods, tax settings per channel
discounts.py   vouchers and promotions, and counting a voucher's uses
pricing.py     checkout totals (pure: lines, promotions, voucher, shipping, tax, rounding)
checkout.py    carts and checkouts: lines, addresses, shipping method, voucher, totals
completion.py  a checkout becomes an order (allocation, voucher use, numbering, events, mail)
orders.py      the order status machine, payments, fulfilments, returns, notes, timeline
"""
