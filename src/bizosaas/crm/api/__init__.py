"""The CRM API under /api/brain/crm/, one file per area, joined in `crm/router.py`."""
