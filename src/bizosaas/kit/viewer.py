"""What the web shell shows about the signed-in person, and where it learns it.

The shell sits below every domain and imports none of them, yet its top bar shows the
viewer's name, e-mail and workspaces, and its security links depend on their e-mail and
two-factor state. The module that knows people (identity) implements `ProfileSource` and
provides it at start-up (`services.provide(PROFILES, ...)`); the shell reads it from
`app.state.profiles`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.kit.auth import Principal

PROFILES = "profiles"
"""The name a `ProfileSource` is provided under (and its attribute on `app.state`)."""


@dataclass(frozen=True, slots=True)
class TenantChoice:
    """A workspace the person can switch to (an active tenant they belong to)."""

    tenant_id: uuid.UUID
    tenant_name: str
    role: str


@dataclass(frozen=True, slots=True)
class Profile:
    email: str
    full_name: str
    tenant_name: str | None
    """The name of the tenant the principal acts for (None outside a workspace)."""
    memberships: tuple[TenantChoice, ...]
    email_verified: bool
    mfa_enabled: bool


class ProfileSource(Protocol):
    async def load(self, session: AsyncSession, principal: Principal) -> Profile:
        """The profile of `principal`, a signed-in user, read in `session` (which may be bound
        to the principal's tenant)."""
        ...
