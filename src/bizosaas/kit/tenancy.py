"""Tenancy: who may see which rows, enforced twice.

* `TenantScope` is the only way to name the tenant of a request. It is produced by the auth layer
  from a verified token (and by trusted system code: the CLI, seeding, jobs), never from input.
* Tenant-owned tables mix in `TenantOwned`. On every backend the ORM adds
  `tenant_id = <scope>` to every SELECT of them and stamps `tenant_id` on insert; with no scope
  bound a session sees no tenant rows at all and cannot insert one.
* On PostgreSQL the same rule holds in the database: migrations enable and FORCE row-level
  security with a policy on `current_setting('app.tenant_id')`, which each transaction sets with
  `set_config(..., is_local => true)` (the function form of `SET LOCAL`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Uuid, event, false, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransaction,
    declared_attr,
    mapped_column,
    with_loader_criteria,
)

_TENANT_KEY = "bizosaas.tenant_id"
READ_ONLY_KEY = "bizosaas.read_only"
"""Session info: "database" when each transaction is to be marked READ ONLY on PostgreSQL (in the
same statement that sets its tenant, so a read-only unit of work costs no extra round trip),
"orm" when only the ORM refuses writes (see `Database.open_session`)."""
_SCOPE_ISSUER = object()


class TenancyViolation(RuntimeError):
    """Code tried to write a tenant-owned row outside (or across) its tenant scope."""


@dataclass(frozen=True, slots=True)
class TenantScope:
    """The tenant a unit of work acts for. Build one with `trusted_scope` only."""

    tenant_id: uuid.UUID
    _issuer: object

    def __post_init__(self) -> None:
        if self._issuer is not _SCOPE_ISSUER:
            raise TypeError("TenantScope comes from the auth layer; use trusted_scope()")

    def __repr__(self) -> str:
        return f"TenantScope({self.tenant_id})"


def trusted_scope(tenant_id: uuid.UUID) -> TenantScope:
    """Issue a scope for a tenant id that was *verified*: a signed token's claim, or system code.

    Call sites are the auth dependencies, the CLI, demo seeding and background jobs whose
    payload was written by the platform. Never pass a value read from a request.
    """
    return TenantScope(tenant_id, _SCOPE_ISSUER)


class TenantOwned:
    """Mixin for tenant-owned rows: row-level security and ORM filtering apply."""

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(Uuid, nullable=False, index=True)


def current_tenant(session: AsyncSession | Session) -> uuid.UUID | None:
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    value = sync.info.get(_TENANT_KEY)
    return value if isinstance(value, uuid.UUID) else None


async def bind_tenant(session: AsyncSession, scope: TenantScope) -> None:
    """Make `session` act for `scope`: ORM filters now, and the PostgreSQL setting at once if a
    transaction is already open (otherwise at its start)."""
    existing = current_tenant(session)
    if existing is not None and existing != scope.tenant_id:
        raise TenancyViolation("a session serves one tenant; open another session")
    session.sync_session.info[_TENANT_KEY] = scope.tenant_id
    if session.in_transaction():
        connection = await session.connection()
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT set_config('app.tenant_id', :tenant, true)"),
                {"tenant": str(scope.tenant_id)},
            )


_SET_TENANT = text("SELECT set_config('app.tenant_id', :tenant, true)")
_SET_TENANT_READ_ONLY = text(
    "SELECT set_config('app.tenant_id', :tenant, true),"
    " set_config('transaction_read_only', 'on', true)"
)


def _set_database_tenant(
    connection: Connection, tenant_id: uuid.UUID | None, *, read_only: bool = False
) -> None:
    if connection.dialect.name != "postgresql":
        return
    connection.execute(
        _SET_TENANT_READ_ONLY if read_only else _SET_TENANT,
        {"tenant": str(tenant_id) if tenant_id else ""},
    )


@event.listens_for(Session, "after_begin")
def _after_begin(
    session: Session, _transaction: SessionTransaction, connection: Connection
) -> None:
    read_only = session.info.get(READ_ONLY_KEY) == "database"
    _set_database_tenant(connection, session.info.get(_TENANT_KEY), read_only=read_only)


@event.listens_for(Session, "do_orm_execute")
def _filter_tenant_rows(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return
    tenant_id = state.session.info.get(_TENANT_KEY)
    if tenant_id is None:
        criteria: Any = lambda cls: false()  # noqa: E731 - no scope, no tenant rows (as RLS)
    else:
        criteria = lambda cls: cls.tenant_id == tenant_id  # noqa: E731
    state.statement = state.statement.options(
        with_loader_criteria(TenantOwned, criteria, include_aliases=True)
    )


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session: Session, _context: Any, _instances: Any) -> None:
    tenant_id = session.info.get(_TENANT_KEY)
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantOwned):
            continue
        if tenant_id is None:
            raise TenancyViolation(
                f"{type(obj).__name__} is tenant-owned; bind a TenantScope before writing it"
            )
        if obj.tenant_id is None:
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise TenancyViolation(f"{type(obj).__name__} belongs to another tenant")


# -- PostgreSQL row-level security DDL, used by migrations and by the test harness -----------


def rls_policy_statements(table: str) -> list[str]:
    """Statements that put `table` under tenant row-level security (run as the table owner)."""
    predicate = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
    return [
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY',
        f'DROP POLICY IF EXISTS tenant_isolation ON "{table}"',
        f'CREATE POLICY tenant_isolation ON "{table}" USING ({predicate}) WITH CHECK ({predicate})',
    ]


def drop_rls_statements(table: str) -> list[str]:
    return [
        f'DROP POLICY IF EXISTS tenant_isolation ON "{table}"',
        f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY',
        f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY',
    ]
