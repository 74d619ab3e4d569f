"""Commerce use cases. Each takes the session and keyword-only arguments, binds the session to
the caller's `TenantScope`, may flush, and never commits (the request or job does).

catalog.py     product types, categories, collections, products and variants
listing.py     reading products as the API shows them, and the product search
channels.py    channels, prices per variant and publication per channel
inventory.py   warehouses, stock, allocation and release
"""
