"""The permission matrix: which roles grant which permissions.

Permission strings are `<domain>.<resource>:<action>`; grants are patterns where `*` stands for
any text (matched with fnmatch by `kit.auth.Principal.can`). Every domain checks through
`kit.auth.require("<permission>")`, so this table is the one place that says who may do what.

Conventions domains follow so the matrix keeps working as they are added:
* actions are `read`, `write` (create/update/delete) or a named verb (`approve`, `publish`);
* `<domain>.own:<action>` names actions on records the caller owns (a client's own orders,
  bookings, invoices): the `client` role gets only those.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping

from bizosaas.identity.models import SUPER_ADMIN_ROLE, Role

ROLE_GRANTS: Mapping[str, tuple[str, ...]] = {
    Role.tenant_admin: ("*",),
    Role.manager: (
        "commerce.*:*",
        "cms.*:*",
        "crm.*:*",
        "campaigns.*:*",
        "directory.*:*",
        "analytics.*:read",
        "workflows.*:*",
        "agents.*:*",
        "identity.member:read",
        "identity.invitation:read",
        "*.own:*",
    ),
    Role.staff: (
        "commerce.*:read",
        "commerce.order:write",
        "crm.*:read",
        "crm.contact:write",
        "cms.*:read",
        "cms.page:write",
        "workflows.approval:read",
        "agents.*:read",
        "identity.member:read",
        "*.own:*",
    ),
    Role.client: ("*.own:read", "*.own:write"),
}

IDENTITY_PERMISSIONS: Mapping[str, str] = {
    "identity.member:read": "List the members of the tenant",
    "identity.member:write": "Change member roles and remove members",
    "identity.invitation:read": "List invitations",
    "identity.invitation:write": "Invite people and revoke invitations",
    "identity.api_key:read": "List API keys",
    "identity.api_key:write": "Create and revoke API keys",
    "identity.audit:read": "Read the tenant's audit log",
}

ROLES: tuple[str, ...] = tuple(role.value for role in Role)


def permissions_for(roles: Iterable[str]) -> frozenset[str]:
    """The permission patterns granted by `roles` (unknown roles grant nothing)."""
    grants: set[str] = set()
    for role in roles:
        if role == SUPER_ADMIN_ROLE:
            grants.add("*")
        grants.update(ROLE_GRANTS.get(role, ()))
    return frozenset(grants)


def covers(grants: Iterable[str], permission: str) -> bool:
    """Whether `grants` allow `permission` (which may itself be a pattern: a grant covers a
    pattern when the pattern, read literally, matches the grant)."""
    return any(fnmatch.fnmatchcase(permission, grant) for grant in grants)
