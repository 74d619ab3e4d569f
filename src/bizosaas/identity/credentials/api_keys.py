"""API keys for machine access: shown once, stored hashed, scoped to a tenant and to a subset
of the creator's permissions, revocable, with the last use recorded (to the minute)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.identity.context import IdentityContext
from bizosaas.identity.credentials.tokens import API_KEY_PREFIX, hash_secret, new_secret
from bizosaas.identity.events import AuditAction
from bizosaas.identity.exceptions import ApiKeyNotFound, PermissionNotHeld, UnknownPermission
from bizosaas.identity.models import ApiKey
from bizosaas.identity.records import audit
from bizosaas.identity.repository import credentials
from bizosaas.identity.schemas import ApiKeyCreated, ApiKeyRead
from bizosaas.kit.auth import Principal
from bizosaas.kit.db import utcnow
from bizosaas.kit.errors import InvalidInput, PermissionDenied
from bizosaas.kit.permissions import covers
from bizosaas.kit.tenancy import TenantScope, bind_tenant


def api_key_text(tenant_id: uuid.UUID, secret: str) -> str:
    """`bzk_<tenant id hex>_<secret>`: the tenant lets the lookup run inside that tenant."""
    return f"{API_KEY_PREFIX}{tenant_id.hex}_{secret}"


def parse_api_key(key: str) -> uuid.UUID | None:
    """The tenant a `bzk_` key names, or None when the text is not shaped like a key."""
    body = key[len(API_KEY_PREFIX) :]
    tenant_hex, _, secret = body.partition("_")
    if len(tenant_hex) != 32 or len(secret) < 20:
        return None
    try:
        return uuid.UUID(hex=tenant_hex)
    except ValueError:
        return None


def _require(actor: Principal, permission: str) -> None:
    if not actor.can(permission):
        raise PermissionDenied(f"This action needs the permission {permission}.")


async def create_api_key(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    scope: TenantScope,
    actor: Principal,
    name: str,
    permissions: list[str],
    expires_at: datetime | None = None,
    ip: str | None = None,
) -> ApiKeyCreated:
    """A key may hold only permissions the process's catalogue declares (or patterns matching
    some) and the creator holds; a tenant creates a few an hour at most (its quota)."""
    _require(actor, "identity.api_key:write")
    await bind_tenant(session, scope)
    wanted = sorted({p.strip() for p in permissions if p.strip()})
    if not wanted:
        raise InvalidInput("Give the key at least one permission.")
    unknown = identity.permissions.unknown(wanted)
    if unknown:
        raise UnknownPermission(
            f"No enabled module declares {', '.join(unknown)}; "
            "a key holding it could never use it.",
            unknown=unknown,
        )
    if not actor.is_super_admin:
        missing = [p for p in wanted if not covers(actor.permissions, p)]
        if missing:
            raise PermissionNotHeld(
                f"You do not hold {', '.join(missing)}, so a key you create cannot either.",
                missing=missing,
            )
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput("The expiry must be in the future.")
    await identity.quotas.charge_api_key(scope.tenant_id)
    secret = new_secret("", 32)
    key_text = api_key_text(scope.tenant_id, secret)
    api_key = ApiKey(
        name=name.strip(),
        prefix=key_text[:12],
        key_hash=hash_secret(key_text),
        permissions=wanted,
        created_by=actor.subject,
        expires_at=expires_at,
    )
    session.add(api_key)
    await session.flush()
    await audit.record(
        session,
        tenant_id=scope.tenant_id,
        action=AuditAction.api_key_created,
        actor_id=actor.subject,
        target=str(api_key.id),
        ip=ip,
        details={"name": api_key.name, "permissions": wanted},
    )
    return ApiKeyCreated(**ApiKeyRead.model_validate(api_key).model_dump(), key=key_text)


async def list_api_keys(session: AsyncSession, *, scope: TenantScope) -> list[ApiKeyRead]:
    await bind_tenant(session, scope)
    rows = await credentials.api_keys_in_scope(session, scope=scope)
    return [ApiKeyRead.model_validate(row) for row in rows]


async def revoke_api_key(
    session: AsyncSession,
    *,
    identity: IdentityContext,
    scope: TenantScope,
    actor: Principal,
    key_id: uuid.UUID,
    ip: str | None = None,
) -> None:
    """Revoke the key (it authenticates no more), and close its open realtime sockets in every
    gateway process (announced on the bus like an ended session)."""
    _require(actor, "identity.api_key:write")
    await bind_tenant(session, scope)
    api_key = await credentials.api_key_in_scope(session, scope=scope, key_id=key_id)
    if api_key is None:
        raise ApiKeyNotFound()
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        await audit.record(
            session,
            tenant_id=scope.tenant_id,
            action=AuditAction.api_key_revoked,
            actor_id=actor.subject,
            target=str(api_key.id),
            ip=ip,
            details={"name": api_key.name},
        )
        await identity.guard.announce_ended([api_key.id])
