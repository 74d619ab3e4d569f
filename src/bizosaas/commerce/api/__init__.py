"""The staff API under /api/brain/commerce/, one file per area, joined in `commerce/router.py`."""
