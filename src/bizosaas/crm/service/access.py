"""Record-level access: the caller's `Viewer`, the tenant's rule, and who may own records."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.crm import repository
from bizosaas.crm.access import Viewer
from bizosaas.crm.exceptions import InvalidOwner
from bizosaas.crm.models import AccessPolicy, AccessRule
from bizosaas.crm.schemas import AccessPolicyRead
from bizosaas.identity import service as identity
from bizosaas.kit.auth import Principal, PrincipalKind
from bizosaas.kit.permissions import Role
from bizosaas.kit.tenancy import TenantScope, bind_tenant


async def current_rule(session: AsyncSession, *, scope: TenantScope) -> AccessRule:
    await bind_tenant(session, scope)
    policy = await repository.access_policy(session, scope=scope)
    return AccessRule(policy.rule) if policy else AccessRule.everyone


async def viewer_for(session: AsyncSession, *, principal: Principal) -> Viewer:
    """What `principal` may see under the tenant's rule. Tenant admins, platform
    administrators and API keys see every record; other members what the rule allows."""
    assert principal.scope is not None
    scope = principal.scope
    member_id = principal.subject if principal.kind == PrincipalKind.user else None
    sees_all = (
        principal.is_super_admin
        or principal.kind != PrincipalKind.user
        or Role.tenant_admin in principal.roles
    )
    if sees_all:
        return Viewer(scope=scope, member_id=member_id, owner_ids=None)
    rule = await current_rule(session, scope=scope)
    if rule == AccessRule.everyone:
        return Viewer(scope=scope, member_id=member_id, owner_ids=None)
    owners = {principal.subject}
    if rule == AccessRule.team:
        members = await identity.list_members(session, scope=scope)
        owners |= {m.user_id for m in members if m.role in principal.roles}
    return Viewer(scope=scope, member_id=member_id, owner_ids=frozenset(owners))


async def set_rule(
    session: AsyncSession, *, scope: TenantScope, rule: AccessRule
) -> AccessPolicyRead:
    await bind_tenant(session, scope)
    policy = await repository.access_policy(session, scope=scope)
    if policy is None:
        session.add(AccessPolicy(rule=rule))
    else:
        policy.rule = rule
    await session.flush()
    return AccessPolicyRead(rule=rule)


async def check_members(
    session: AsyncSession, *, scope: TenantScope, user_ids: Iterable[uuid.UUID | None]
) -> None:
    """Owners and assignees are members of the tenant: `crm.invalid_owner` otherwise."""
    wanted = {user_id for user_id in user_ids if user_id is not None}
    if not wanted:
        return
    members = {m.user_id for m in await identity.list_members(session, scope=scope)}
    strangers = wanted - members
    if strangers:
        raise InvalidOwner(
            f"Not a member of this tenant: {', '.join(sorted(map(str, strangers)))}."
        )
