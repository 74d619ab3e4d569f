"""Demo data: a platform super admin and two tenants with one person per role.

Acme Coffee Roasters (slug `acme`) has a tenant admin, a manager, a staff member and a client;
Northwind Studio (slug `northwind`) has the Acme owner as its admin too, so switching tenants
has something to show. Passwords are random and reported only when a user is created.
Idempotent: running it again creates nothing twice.
"""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity import context
from bizosaas.identity.context import IdentityContext
from bizosaas.identity.membership.registration import add_membership, create_tenant, create_user
from bizosaas.identity.models import Tenant, User
from bizosaas.identity.repository import accounts
from bizosaas.kit.module import SeedContext
from bizosaas.kit.permissions import Role

SUPER_ADMIN_EMAIL = "admin@bizosaas.local"
TENANTS = (("acme", "Acme Coffee Roasters"), ("northwind", "Northwind Studio"))
PEOPLE = (
    # (who, email, full name, [(tenant slug, role)])
    (
        "Acme tenant admin",
        "owner@acme.example",
        "Ada Owner",
        [("acme", Role.tenant_admin), ("northwind", Role.tenant_admin)],
    ),
    ("Acme manager", "manager@acme.example", "Max Manager", [("acme", Role.manager)]),
    ("Acme staff", "staff@acme.example", "Sam Staff", [("acme", Role.staff)]),
    ("Acme client", "client@acme.example", "Cleo Client", [("acme", Role.client)]),
)


def _password() -> str:
    return secrets.token_urlsafe(12)


async def _user(
    seeding: SeedContext,
    identity: IdentityContext,
    *,
    who: str,
    email: str,
    full_name: str,
    super_admin: bool = False,
) -> User:
    session = seeding.session
    user = await accounts.user_by_email(session, email=email)
    if user is None:
        password = _password()
        user = await create_user(
            session,
            identity=identity,
            email=email,
            password=password,
            full_name=full_name,
            super_admin=super_admin,
            verified=True,
        )
        seeding.credentials.append((who, email, password))
        seeding.say(f"created {who} {email}")
    return user


async def _tenant(session: AsyncSession, slug: str, name: str) -> Tenant:
    tenant = await accounts.tenant_by_slug(session, slug=slug)
    if tenant is None:
        tenant = await create_tenant(session, name=name, slug=slug)
    return tenant


async def seed(seeding: SeedContext) -> None:
    identity = context.build(seeding.settings)
    session = seeding.session
    await _user(
        seeding,
        identity,
        who="Platform super admin",
        email=SUPER_ADMIN_EMAIL,
        full_name="Platform Admin",
        super_admin=True,
    )
    tenants = {slug: await _tenant(session, slug, name) for slug, name in TENANTS}
    for who, email, full_name, grants in PEOPLE:
        user = await _user(seeding, identity, who=who, email=email, full_name=full_name)
        for slug, role in grants:
            tenant = tenants[slug]
            if await accounts.membership(session, user_id=user.id, tenant_id=tenant.id) is None:
                await add_membership(session, tenant=tenant, user=user, role=role)
