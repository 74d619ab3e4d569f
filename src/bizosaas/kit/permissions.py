"""The permission catalogue: every permission the enabled modules declare, and the role matrix.

Permission strings are `<domain>.<resource>:<action>`; grants are patterns where `*` stands for
any text (matched with fnmatch by `kit.auth.Principal.can`). Every domain checks through
`kit.auth.require("<permission>")`, and every verifier derives a principal's permissions from
its roles through one `PermissionCatalogue`, so the catalogue is the one place that says who
may do what.

The platform's matrix (`ROLE_GRANTS`) gives each tenant role its baseline; a module adds to it
with `DomainModule.role_grants` (e.g. staff may read notes). The catalogue is built once per
process from the enabled modules (see gateway/platform.py) and is on `Services.permissions`
and `app.state.permissions`.

Conventions domains follow so the matrix keeps working as they are added:
* actions are `read`, `write` (create/update/delete) or a named verb (`approve`, `publish`);
* `<domain>.own:<action>` names actions on records the caller owns (a client's own orders,
  bookings, invoices): the `client` role gets only those.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol


class Role(StrEnum):
    """The roles a member holds in a tenant."""

    tenant_admin = "tenant_admin"
    manager = "manager"
    staff = "staff"
    client = "client"


SUPER_ADMIN_ROLE: Final = "super_admin"
"""The platform administrator's role: never a tenant membership, it grants everything."""

ROLES: tuple[str, ...] = tuple(role.value for role in Role)

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
"""The platform's baseline matrix; patterns may name domains that are not enabled."""

_PERMISSION = re.compile(r"^[a-z][a-z0-9_-]*\.[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")


def permissions_for(
    roles: Iterable[str], matrix: Mapping[str, Sequence[str]] = ROLE_GRANTS
) -> frozenset[str]:
    """The permission patterns `matrix` grants to `roles` (unknown roles grant nothing)."""
    grants: set[str] = set()
    for role in roles:
        if role == SUPER_ADMIN_ROLE:
            grants.add("*")
        grants.update(matrix.get(role, ()))
    return frozenset(grants)


def covers(grants: Iterable[str], permission: str) -> bool:
    """Whether `grants` allow `permission` (which may itself be a pattern: a grant covers a
    pattern when the pattern, read literally, matches the grant)."""
    return any(fnmatch.fnmatchcase(permission, grant) for grant in grants)


def is_pattern(permission: str) -> bool:
    return any(character in permission for character in "*?[")


class PermissionDeclarationError(ValueError):
    """Modules declare permissions or role grants the catalogue cannot accept."""


class DeclaresPermissions(Protocol):
    """What the catalogue reads from a module (`kit.module.DomainModule` has these fields)."""

    @property
    def name(self) -> str: ...

    @property
    def permissions(self) -> Mapping[str, str]: ...

    @property
    def role_grants(self) -> Mapping[str, Sequence[str]]: ...


@dataclass(frozen=True, slots=True)
class DeclaredPermission:
    name: str
    description: str
    module: str
    """The name of the module that declares it."""


@dataclass(frozen=True, slots=True)
class RoleGrant:
    role: str
    pattern: str
    module: str | None
    """The module that added the grant; None for the platform's matrix."""


class PermissionCatalogue:
    """The merged declarations of the enabled modules and the role matrix they extend.

    `PermissionCatalogue()` holds the platform's matrix alone (for code that runs without
    modules, e.g. the CLI); processes serving requests use `from_modules`.
    """

    def __init__(
        self,
        declared: Iterable[DeclaredPermission] = (),
        grants: Iterable[RoleGrant] = (),
    ) -> None:
        self.declared: Mapping[str, DeclaredPermission] = {p.name: p for p in declared}
        baseline = [
            RoleGrant(role=role, pattern=pattern, module=None)
            for role, patterns in ROLE_GRANTS.items()
            for pattern in patterns
        ]
        self.grants: tuple[RoleGrant, ...] = (*baseline, *grants)
        matrix: dict[str, list[str]] = {role: [] for role in ROLES}
        for grant in self.grants:
            if grant.pattern not in matrix[grant.role]:
                matrix[grant.role].append(grant.pattern)
        self.matrix: Mapping[str, tuple[str, ...]] = {
            role: tuple(patterns) for role, patterns in matrix.items()
        }

    @classmethod
    def from_modules(cls, modules: Iterable[DeclaresPermissions]) -> PermissionCatalogue:
        """Merge the modules' declarations; a permission declared twice, a malformed name, or
        a grant to a role that does not exist raises `PermissionDeclarationError`."""
        declared: dict[str, DeclaredPermission] = {}
        grants: list[RoleGrant] = []
        for module in modules:
            for name, description in module.permissions.items():
                if not _PERMISSION.match(name):
                    raise PermissionDeclarationError(
                        f"module {module.name!r} declares the permission {name!r}, which is "
                        "not of the form <domain>.<resource>:<action> (lowercase, no wildcards)"
                    )
                if name in declared:
                    raise PermissionDeclarationError(
                        f"the permission {name!r} is declared by both module "
                        f"{declared[name].module!r} and module {module.name!r}"
                    )
                declared[name] = DeclaredPermission(name, description, module.name)
            for role, patterns in module.role_grants.items():
                if role not in ROLES:
                    raise PermissionDeclarationError(
                        f"module {module.name!r} grants permissions to the role {role!r}, which "
                        f"does not exist (roles: {', '.join(ROLES)})"
                    )
                grants += [RoleGrant(str(role), pattern, module.name) for pattern in patterns]
        return cls(declared.values(), grants)

    def describe(self, permission: str) -> str | None:
        declared = self.declared.get(permission)
        return declared.description if declared else None

    def is_declared(self, permission: str) -> bool:
        return permission in self.declared

    def grants_of(self, role: str) -> tuple[str, ...]:
        """The patterns `role` holds: the platform's matrix plus the modules' grants."""
        return self.matrix.get(role, ())

    def permissions_for(self, roles: Iterable[str]) -> frozenset[str]:
        """The permission patterns granted by `roles` (unknown roles grant nothing)."""
        return permissions_for(roles, self.matrix)

    def role_covers(self, role: str, permission: str) -> bool:
        return covers(self.grants_of(role), permission)

    def unknown(self, requested: Iterable[str]) -> list[str]:
        """The names in `requested` that mean nothing here: neither a declared permission nor
        a pattern (`*`) that matches at least one (a key or role naming them could never act)."""
        return [
            name
            for name in requested
            if name not in self.declared
            and not ("*" in name and any(covers([name], known) for known in self.declared))
        ]
