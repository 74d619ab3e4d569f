"""Payment providers: the interface (base.py) and its implementations, Stripe (stripe.py) and
manual payments such as bank transfer or cash on delivery (manual.py)."""
