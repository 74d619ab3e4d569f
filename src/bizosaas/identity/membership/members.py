"""Members and invitations of a tenant.

Joining a tenant is by invitation only. Invitation links carry the tenant in the token text
(`bzi_<tenant id hex>_<secret>`), so accepting can look the invitation up inside that tenant
(row-level security applies) and prove it by its hash. Tenant admins manage members; a tenant
always keeps at least one tenant admin. A role change ends the member's sessions in the
tenant (the new role applies at their next login); removing a member ends them too and
revokes the API keys they created there.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials.tokens import INVITATION_PREFIX, hash_secret, new_secret
from bizosaas.identity.events import MEMBER_JOINED, AuditAction, MemberJoined
from bizosaas.identity.exceptions import (
    AlreadyMember,
    EmailUnverified,
    InvitationInvalid,
    InvitationNotFound,
    LastAdmin,
    MemberNotFound,
    TenantNotFound,
    WeakPassword,
)
from bizosaas.identity.membership.registration import (
    add_membership,
    checked_tenant_name,
    create_user,
    user_read,
)
from bizosaas.identity.models import (
    Invitation,
    Membership,
    TenantStatus,
    User,
    invitation_status,
)
from bizosaas.identity.records import audit
from bizosaas.identity.records.mail import request_mail
from bizosaas.identity.repository import accounts, credentials
from bizosaas.identity.schemas import InvitationAccepted, InvitationRead, MemberRead, TenantRead
from bizosaas.identity.sessions.rotation import revoke_sessions
from bizosaas.kit.auth import Principal
from bizosaas.kit.db import utcnow
from bizosaas.kit.errors import PermissionDenied
from bizosaas.kit.outbox import record_event
from bizosaas.kit.permissions import Role
from bizosaas.kit.tenancy import TenantScope, bind_tenant, trusted_scope
from bizosaas.kit.text import unlinkable

ACCEPT_PATH = "/auth/accept-invitation"


def _require(actor: Principal, permission: str) -> None:
    if not actor.can(permission):
        raise PermissionDenied(f"This action needs the permission {permission}.")


def _member_read(member: Membership, user: User) -> MemberRead:
    return MemberRead(
        user_id=member.user_id,
        email=user.email,
        full_name=user.full_name,
        role=member.role,
        joined_at=member.created_at,
    )


async def list_members(session: AsyncSession, *, scope: TenantScope) -> list[MemberRead]:
    await bind_tenant(session, scope)
    return [_member_read(m, u) for m, u in await accounts.members_in_scope(session, scope=scope)]


async def rename_tenant(
    session: AsyncSession,
    *,
    scope: TenantScope,
    actor: Principal,
    name: str,
    ip: str | None = None,
) -> TenantRead:
    """A tenant admin renames their tenant, under the rules sign-up applies (2 to 80
    characters of one line, 422 `identity.invalid_tenant_name`; quoted in mail as plain text).
    The slug, and so every address of the tenant, stays. Audited as `tenant.renamed`."""
    _require(actor, "identity.tenant:write")
    name = checked_tenant_name(name)
    await bind_tenant(session, scope)
    tenant = await accounts.tenant_by_id(session, tenant_id=scope.tenant_id)
    if tenant is None:
        raise TenantNotFound()
    if tenant.name != name:
        previous, tenant.name = tenant.name, name
        await audit.record(
            session,
            tenant_id=scope.tenant_id,
            action=AuditAction.tenant_renamed,
            actor_id=actor.subject,
            target=tenant.slug,
            ip=ip,
            details={"from": previous, "to": name},
        )
        await session.flush()
    return TenantRead.model_validate(tenant)


async def change_member_role(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    scope: TenantScope,
    actor: Principal,
    user_id: uuid.UUID,
    role: str,
    ip: str | None = None,
) -> MemberRead:
    _require(actor, "identity.member:write")
    await bind_tenant(session, scope)
    new_role = Role(role)
    found = await accounts.member_in_scope(session, scope=scope, user_id=user_id)
    if found is None:
        raise MemberNotFound()
    member, user = found
    if member.role == new_role.value:
        return _member_read(member, user)
    if (
        member.role == Role.tenant_admin.value
        and await accounts.count_admins(session, scope=scope) <= 1
    ):
        raise LastAdmin("Make someone else a tenant admin first.")
    previous = member.role
    member.role = new_role.value
    # The new role applies at once: the member's sessions in this tenant end and their next
    # login carries it (tokens are never re-issued with a role they were not signed in with).
    await revoke_sessions(
        session,
        identity=identity,
        user_id=user_id,
        tenant_id=scope.tenant_id,
        reason="role_changed",
    )
    await audit.record(
        session,
        tenant_id=scope.tenant_id,
        action=AuditAction.role_changed,
        actor_id=actor.subject,
        target=str(user_id),
        ip=ip,
        details={"from": previous, "to": new_role.value, "email": user.email},
    )
    await session.flush()
    return _member_read(member, user)


async def remove_member(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    scope: TenantScope,
    actor: Principal,
    user_id: uuid.UUID,
    ip: str | None = None,
) -> None:
    _require(actor, "identity.member:write")
    await bind_tenant(session, scope)
    found = await accounts.member_in_scope(session, scope=scope, user_id=user_id)
    if found is None:
        raise MemberNotFound()
    member, user = found
    if (
        member.role == Role.tenant_admin.value
        and await accounts.count_admins(session, scope=scope) <= 1
    ):
        raise LastAdmin("The last tenant admin cannot be removed.")
    await session.delete(member)
    await revoke_sessions(
        session,
        identity=identity,
        user_id=user_id,
        tenant_id=scope.tenant_id,
        reason="member_removed",
    )
    await credentials.revoke_api_keys_created_by(session, scope=scope, user_id=user_id)
    await audit.record(
        session,
        tenant_id=scope.tenant_id,
        action=AuditAction.member_removed,
        actor_id=actor.subject,
        target=str(user_id),
        ip=ip,
        details={"email": user.email, "role": member.role},
    )
    await session.flush()


async def tenant_may_send(session: AsyncSession, *, scope: TenantScope) -> bool:
    """Whether mail may go out on the tenant's behalf: once one of its tenant admins has
    proven their address (a fresh sign-up is not a mail relay)."""
    await bind_tenant(session, scope)
    return await accounts.has_verified_admin(session, scope=scope)


async def ensure_tenant_may_send(session: AsyncSession, *, scope: TenantScope) -> None:
    """Raise 403 `identity.email_unverified` unless `tenant_may_send`."""
    if not await tenant_may_send(session, scope=scope):
        raise EmailUnverified(
            "Confirm your e-mail address first: open the link we sent you, or ask for a new "
            "one in your security settings. Until then this workspace sends no e-mail."
        )


# -- invitations ------------------------------------------------------------------------------


def invitation_token(tenant_id: uuid.UUID) -> str:
    return f"{INVITATION_PREFIX}{tenant_id.hex}_{new_secret('', 24)}"


def _tenant_of_token(token: str) -> uuid.UUID | None:
    if not token.startswith(INVITATION_PREFIX):
        return None
    tenant_hex, _, secret = token[len(INVITATION_PREFIX) :].partition("_")
    if len(tenant_hex) != 32 or len(secret) < 16:
        return None
    try:
        return uuid.UUID(hex=tenant_hex)
    except ValueError:
        return None


async def list_invitations(session: AsyncSession, *, scope: TenantScope) -> list[InvitationRead]:
    await bind_tenant(session, scope)
    rows = await accounts.invitations_in_scope(session, scope=scope)
    return [InvitationRead.model_validate(row) for row in rows]


async def create_invitation(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    scope: TenantScope,
    actor: Principal,
    email: str,
    role: str,
    ip: str | None = None,
) -> InvitationRead:
    _require(actor, "identity.invitation:write")
    await bind_tenant(session, scope)
    email = accounts.normalise_email(email)
    invited_role = Role(role)
    tenant = await accounts.tenant_by_id(session, tenant_id=scope.tenant_id)
    if tenant is None:
        raise TenantNotFound()
    existing = await accounts.user_by_email(session, email=email)
    if existing and await accounts.membership(
        session, user_id=existing.id, tenant_id=scope.tenant_id
    ):
        raise AlreadyMember(f"{email} is already a member of this tenant.")
    await ensure_tenant_may_send(session, scope=scope)
    await identity.quotas.charge_invitation(scope.tenant_id)
    now = utcnow()
    # A new invitation replaces any pending one for the same address.
    replaced = await accounts.revoke_pending_invitations(session, scope=scope, email=email, now=now)
    token = invitation_token(scope.tenant_id)
    invitation = Invitation(
        email=email,
        role=invited_role.value,
        token_hash=hash_secret(token),
        invited_by=actor.subject,
        created_at=now,
        expires_at=now + timedelta(seconds=identity.settings.invitation_ttl),
    )
    session.add(invitation)
    await session.flush()
    link = f"{identity.settings.base_url}{ACCEPT_PATH}?token={token}"
    days = max(1, identity.settings.invitation_ttl // 86400)
    # The tenant's name is the sender's choice: it stays out of the subject (where it would
    # read as our words) and is quoted defanged in the body, so no client links it.
    request_mail(
        session,
        to=email,
        subject="You have been invited to a workspace on BizOSaaS",
        body=(
            f"Hello,\n\nYou have been invited to join the workspace "
            f'"{unlinkable(tenant.name)}" on BizOSaaS as '
            f"{invited_role.value.replace('_', ' ')}.\n\nAccept within {days} days:\n{link}\n\n"
            f"Or enter this code: {token}\n\n"
            "If you do not know this workspace, ignore this message: nothing happens unless "
            "you accept.\n"
        ),
        tenant_id=scope.tenant_id,
    )
    await audit.record(
        session,
        tenant_id=scope.tenant_id,
        action=AuditAction.invitation_created,
        actor_id=actor.subject,
        target=str(invitation.id),
        ip=ip,
        details={"email": email, "role": invited_role.value},
    )
    for replaced_id in replaced:
        await audit.record(
            session,
            tenant_id=scope.tenant_id,
            action=AuditAction.invitation_revoked,
            actor_id=actor.subject,
            target=str(replaced_id),
            ip=ip,
            details={"email": email, "replaced_by": str(invitation.id)},
        )
    return InvitationRead.model_validate(invitation)


async def revoke_invitation(
    session: AsyncSession,
    *,
    scope: TenantScope,
    actor: Principal,
    invitation_id: uuid.UUID,
    ip: str | None = None,
) -> None:
    _require(actor, "identity.invitation:write")
    await bind_tenant(session, scope)
    invitation = await accounts.invitation_in_scope(
        session, scope=scope, invitation_id=invitation_id
    )
    if invitation is None:
        raise InvitationNotFound()
    now = utcnow()
    if invitation_status(
        invitation.accepted_at, invitation.revoked_at, invitation.expires_at, now
    ) in ("accepted", "revoked"):
        raise InvitationInvalid("This invitation was already used or revoked.")
    invitation.revoked_at = now
    await audit.record(
        session,
        tenant_id=scope.tenant_id,
        action=AuditAction.invitation_revoked,
        actor_id=actor.subject,
        target=str(invitation.id),
        ip=ip,
        details={"email": invitation.email},
    )


async def accept_invitation(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    token: str,
    password: str | None = None,
    full_name: str | None = None,
    ip: str | None = None,
) -> InvitationAccepted:
    """Join the tenant. A new person also chooses a password (and name); having the link
    proves the e-mail address, so their address counts as verified."""
    tenant_id = _tenant_of_token(token.strip())
    if tenant_id is None:
        raise InvitationInvalid()
    scope = trusted_scope(tenant_id)
    await bind_tenant(session, scope)
    invitation = await accounts.invitation_by_token_hash(
        session, scope=scope, token_hash=hash_secret(token.strip())
    )
    now = utcnow()
    if invitation is None or (
        invitation_status(invitation.accepted_at, invitation.revoked_at, invitation.expires_at, now)
        != "pending"
    ):
        raise InvitationInvalid()
    tenant = await accounts.tenant_by_id(session, tenant_id=tenant_id)
    if tenant is None or tenant.status != TenantStatus.active.value:
        raise InvitationInvalid("This tenant is not accepting members.")
    user = await accounts.user_by_email(session, email=invitation.email)
    created = user is None
    if user is None:
        if not password:
            raise WeakPassword("Choose a password to create your account.", reason="missing")
        user = await create_user(
            session,
            identity=identity,
            email=invitation.email,
            password=password,
            full_name=full_name or invitation.email.split("@", 1)[0],
            verified=True,
        )
    elif await accounts.membership(session, user_id=user.id, tenant_id=tenant_id):
        raise AlreadyMember()
    if user.email_verified_at is None:
        user.email_verified_at = now
    await add_membership(session, tenant=tenant, user=user, role=invitation.role)
    invitation.accepted_at = now
    record_event(
        session,
        MEMBER_JOINED,
        MemberJoined(tenant_id=tenant_id, user_id=user.id, role=invitation.role),
    )
    await audit.record(
        session,
        tenant_id=tenant_id,
        action=AuditAction.invitation_accepted,
        actor_id=user.id,
        target=str(invitation.id),
        ip=ip,
        details={"email": user.email, "role": invitation.role, "new_account": created},
    )
    return InvitationAccepted(
        user=user_read(user),
        tenant=TenantRead.model_validate(tenant),
        role=invitation.role,
        created_user=created,
    )
