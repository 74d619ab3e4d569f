"""Identity's HTTP API under /api/brain/auth/ (router.py includes the others)."""
