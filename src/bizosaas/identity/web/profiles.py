"""The profiles the web shell shows (see kit/viewer.py): name, e-mail, workspaces, MFA state."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity import service as identity
from bizosaas.kit.auth import Principal
from bizosaas.kit.viewer import Profile, TenantChoice


class IdentityProfiles:
    """Identity's `ProfileSource`: identity's tables are global, so a session bound to the
    principal's tenant reads them too."""

    async def load(self, session: AsyncSession, principal: Principal) -> Profile:
        me = await identity.me(
            session,
            user_id=principal.subject,
            tenant_id=principal.scope.tenant_id if principal.scope else None,
            session_id=principal.session_id,
            roles=sorted(principal.roles),
            permissions=sorted(principal.permissions),
        )
        return Profile(
            email=me.user.email,
            full_name=me.user.full_name,
            tenant_name=me.tenant.name if me.tenant else None,
            email_verified=me.user.email_verified_at is not None,
            mfa_enabled=me.user.mfa_enabled,
            memberships=tuple(
                TenantChoice(tenant_id=m.tenant.id, tenant_name=m.tenant.name, role=m.role)
                for m in me.memberships
                if m.tenant.status == "active"
            ),
        )
