"""The permissions identity declares. The role matrix that grants them lives in
kit/permissions.py (with every other module's declarations and role grants)."""

from __future__ import annotations

from collections.abc import Mapping

from bizosaas.kit.permissions import ROLE_GRANTS, ROLES, covers, permissions_for

# The matrix lives in the kit; importable here as before.
__all__ = ["IDENTITY_PERMISSIONS", "ROLES", "ROLE_GRANTS", "covers", "permissions_for"]

IDENTITY_PERMISSIONS: Mapping[str, str] = {
    "identity.tenant:write": "Rename the tenant",
    "identity.member:read": "List the members of the tenant",
    "identity.member:write": "Change member roles and remove members",
    "identity.invitation:read": "List invitations",
    "identity.invitation:write": "Invite people and revoke invitations",
    "identity.api_key:read": "List API keys",
    "identity.api_key:write": "Create and revoke API keys",
    "identity.audit:read": "Read the tenant's audit log",
}
