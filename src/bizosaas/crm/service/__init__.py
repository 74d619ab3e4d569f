"""CRM use cases. Each takes the session and keyword-only arguments, the caller's `Viewer`
(record-level access, see access.py) or `TenantScope`, may flush, and never commits (the
request or job does).

access.py      the caller's Viewer, the tenant's record-level rule, owner checks
values.py      phones, money, custom field values, notes' HTML and search text as stored
fields.py      custom field definitions
records.py     people, companies and leads, and the search across record types
deals.py       pipelines with their stages, deals, moving and closing them, the forecast
activities.py  activities, notes, the timeline, my open tasks and due reminders
"""
