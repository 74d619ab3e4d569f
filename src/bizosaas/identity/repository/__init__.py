"""Every query of identity's tables, as plain functions taking the session and keyword-only
arguments. Reads of tenant-owned rows take a `TenantScope` (from a verified credential);
global tables are read by the user, session or token they belong to.

accounts.py       tenants, users, memberships, invitations
auth_sessions.py  sessions and refresh tokens
credentials.py    API keys, one-time tokens, MFA challenges, recovery codes, TOTP secrets
records.py        the audit log and the mail sink
"""
