"""`Idempotency-Key`: a write that a client may retry runs once, and every retry gets its answer.

The semantics are Stripe's (https://docs.stripe.com/api/idempotent_requests). An operation opts
in with one declaration, the same in every domain: its router uses `IdempotentRoute` and the
operation lists the `IdempotencyKey` dependency (which also puts the optional header, and the
409 and 422 answers, in the OpenAPI document):

    router = APIRouter(route_class=IdempotentRoute)

    @router.post("/things", status_code=201, dependencies=[IdempotencyKey])
    async def create_thing(...) -> Thing: ...

A request without the header runs as before. With one (1 to 255 printable ASCII characters,
else 400 `idempotency.key_invalid`; an anonymous caller gets 401, since a key belongs to a
caller, unless a public operation names it with `name_public_caller`):

* The first request runs, and its answer (status, headers, body bytes) is kept for
  `BIZOSAAS_IDEMPOTENCY_TTL` seconds (24 hours by default), per tenant (for platform-level
  callers without a tenant, per principal) and key, with a fingerprint of the request: the
  caller, the method, the route template, and a hash of the path, query and body bytes.
* A retry with the same key and the same request does not run the operation again: it gets the
  stored answer byte for byte, with `Idempotent-Replayed: true`.
* The same key with another request (another body, another route, another caller of the same
  tenant) answers 422 `idempotency.key_reused`. Like Stripe, a key names one request, so a key
  is never shared between routes; and a key never replays one member's answer to another.
* A retry while the first request still runs answers 409 `idempotency.in_progress` at once,
  with `Retry-After: 1` (Stripe does the same); it never waits and never runs a second time.
* What is stored: every answer below 500 that the operation gave, returned or raised as a
  `Problem` (a 404 or 409 of the operation is replayed, as Stripe replays its 4xx). Not stored,
  so a retry runs again: 5xx answers, unexpected exceptions, streamed bodies, and refusals at
  the door where the operation never ran (request validation, 401, 403, 429). The key is then
  released at once.

Transactions, and why the stored answer never disagrees with the operation's effects:

1. Reserve. Before the operation runs, the key is inserted as in progress, with a fresh attempt
   token and a lease, in a short transaction of its own that commits at once. The unique
   (owner, key) index settles a race between two first requests; the loser answers 409.
2. Complete. The answer is written by an UPDATE fenced on the attempt token, in the request's
   own unit of work (the route handler runs before `get_session` commits), so it commits with
   the operation's rows, audit entries and outbox events, or not at all.
3. Release. An answer that is not stored deletes the reservation: in the request's unit of
   work for a returned 5xx, in a transaction of its own after rolling the request back for
   an exception.

A crash between 1 and the commit of 2 leaves no effect and a key in progress: retries answer
409 until the lease (`IN_PROGRESS_LEASE`) runs out, then one takes the key over under a new
attempt token and runs. Should the first attempt be alive after all, its fenced UPDATE matches
no row and it rolls back: at most one attempt ever commits. A crash after the commit of 2 leaves
both, and a retry is replayed.

Records live in the database (`idempotency_keys`), so every process sees them. On PostgreSQL
the table is under row-level security: a tenant's rows are visible only to that tenant's
transactions; platform-level rows (no tenant) are matched by their owner. Expired records are
deleted lazily, a bounded batch at each reservation, by the owner's transaction.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import structlog
from fastapi import Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute
from sqlalchemy import (
    JSON,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    Uuid,
    delete,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from starlette.responses import Response

from bizosaas.kit.auth import OptionalPrincipal, Principal
from bizosaas.kit.db import Base, Database, IdMixin, utcnow
from bizosaas.kit.deps import get_database, get_session, get_settings
from bizosaas.kit.errors import (
    Conflict,
    PermissionDenied,
    Problem,
    RateLimited,
    Unauthenticated,
    problem_response,
)
from bizosaas.kit.tenancy import TenantScope, bind_tenant, current_tenant
from bizosaas.settings import Settings

log = structlog.get_logger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IN_PROGRESS_LEASE = timedelta(seconds=60)
"""How long a reservation protects a running first request; past it the key counts as
abandoned (its process died) and a retry takes it over."""
SWEEP_BATCH = 100

_KEY_PATTERN = re.compile(r"^[\x20-\x7e]{1,255}$")
# Not replayed: recomputed for every answer, or never to be handed out twice.
_UNSTORED_HEADERS = frozenset({"content-length", "date", "server", "set-cookie"})
_CLAIM = "bizosaas.idempotency_claim"
_ROUTE_HANDLES = "bizosaas.idempotent_route"


class IdempotencyRecord(IdMixin, Base):
    """A key, the request it was first used for, and (once complete) the answer to replay.

    Not `TenantOwned`: platform-level callers own keys without a tenant. Every query here names
    its owner; on PostgreSQL row-level security still hides other tenants' rows."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("owner", "key"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    owner: Mapped[str] = mapped_column(String(80))
    """`tenant:<id>`, or `<principal kind>:<id>` for a caller without a tenant."""
    key: Mapped[str] = mapped_column(String(255))
    caller: Mapped[str] = mapped_column(String(80))
    method: Mapped[str] = mapped_column(String(10))
    route: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[uuid.UUID] = mapped_column(Uuid)
    locked_until: Mapped[datetime]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
    response_status: Mapped[int | None] = mapped_column(default=None)
    response_headers: Mapped[list[list[str]] | None] = mapped_column(JSON, default=None)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)


class IdempotencyKeyInvalid(Problem):
    status = 400
    code = "idempotency.key_invalid"
    title = "The Idempotency-Key header is not valid"


class IdempotencyKeyReused(Problem):
    status = 422
    code = "idempotency.key_reused"
    title = "This Idempotency-Key was used for another request"


class IdempotencyInProgress(Conflict):
    code = "idempotency.in_progress"
    title = "A request with this Idempotency-Key is still running"


class _Replay(Exception):
    """Raised by the dependency to answer with a stored response; `IdempotentRoute` catches it
    before any error handler sees it."""

    def __init__(self, response: Response) -> None:
        super().__init__("idempotent replay")
        self.response = response


@dataclass(frozen=True, slots=True)
class _Fingerprint:
    owner: str
    tenant: TenantScope | None
    key: str
    caller: str
    method: str
    route: str
    request_hash: str

    def matches(self, record: IdempotencyRecord) -> bool:
        return (record.caller, record.method, record.route, record.request_hash) == (
            self.caller,
            self.method,
            self.route,
            self.request_hash,
        )


@dataclass(frozen=True, slots=True)
class _Claim:
    """This request holds the key: it writes the answer, or releases the key."""

    record_id: uuid.UUID
    attempt: uuid.UUID
    tenant: TenantScope | None
    session: AsyncSession
    """The request's unit of work (the session the operation writes with)."""
    database: Database
    now: datetime


def idempotency_clock(request: Request) -> datetime:
    """The time the key store goes by: the app's `state.idempotency_clock` (a callable) when
    one is set, as tests do to move time, else the wall clock."""
    clock: Callable[[], datetime] | None = getattr(request.app.state, "idempotency_clock", None)
    return clock() if clock is not None else utcnow()


# -- the dependency an operation lists to opt in ------------------------------------------------


async def claim_idempotency_key(
    request: Request,
    *,
    principal: OptionalPrincipal,
    session: Annotated[AsyncSession, Depends(get_session, scope="function")],
    database: Annotated[Database, Depends(get_database)],
    settings: Annotated[Settings, Depends(get_settings)],
    now: Annotated[datetime, Depends(idempotency_clock)],
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="Any unique value (a UUID is best), 1 to 255 printable ASCII characters. "
            "A retry with the same key and the same request gets the first answer again, with "
            "`Idempotent-Replayed: true`, instead of running twice. Kept for 24 hours (unless "
            "configured otherwise).",
            json_schema_extra={"minLength": 1, "maxLength": 255},
        ),
    ] = None,
) -> None:
    if key is None:
        return
    if not request.scope.get(_ROUTE_HANDLES):
        raise RuntimeError(
            f"{request.method} {_route_template(request)} lists IdempotencyKey but its router "
            "does not use route_class=IdempotentRoute"
        )
    if not _KEY_PATTERN.match(key):
        raise IdempotencyKeyInvalid(
            f"{HEADER} must be 1 to 255 printable ASCII characters.", header=HEADER
        )
    caller = _caller(request, principal)
    if caller is None:
        raise Unauthenticated(
            f"An {HEADER} belongs to a caller: send a credential with it.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    fingerprint = _fingerprint(request, caller, key, await request.body())
    ttl = timedelta(seconds=settings.idempotency_ttl)
    outcome = await _reserve(database, fingerprint, now=now, ttl=ttl)
    if isinstance(outcome, Response):
        raise _Replay(outcome)
    request.scope[_CLAIM] = _Claim(
        record_id=outcome[0],
        attempt=outcome[1],
        tenant=fingerprint.tenant,
        session=session,
        database=database,
        now=now,
    )


IdempotencyKey = Depends(claim_idempotency_key)
"""List it in an operation's `dependencies` to accept `Idempotency-Key` (see the module doc)."""

IDEMPOTENCY_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The Idempotency-Key header is not valid (`idempotency.key_invalid`)"},
    409: {"description": "A request with this Idempotency-Key is still running"},
    422: {"description": "This Idempotency-Key was used for another request"},
}


@dataclass(frozen=True, slots=True)
class _Caller:
    name: str
    scope: TenantScope | None


def name_public_caller(request: Request, *, scope: TenantScope, subject: str) -> None:
    """For a public operation (one that needs no credential, such as a storefront's checkout):
    name who the caller is, so its `Idempotency-Key` has an owner. `scope` is the tenant the
    operation acts for, `subject` what identifies the caller there (up to 64 characters, e.g. a
    hash of the secret the caller holds). Call it from a dependency listed before
    `IdempotencyKey` in the operation's `dependencies`. It takes precedence over a credential
    the caller may also send: the operation acts in `scope`, which need not be that
    credential's tenant."""
    request.state.idempotency_public_caller = _Caller(f"public:{subject[:64]}", scope)


def _caller(request: Request, principal: Principal | None) -> _Caller | None:
    named = getattr(request.state, "idempotency_public_caller", None)
    if isinstance(named, _Caller):
        return named
    if principal is not None:
        return _Caller(f"{principal.kind.value}:{principal.subject}", principal.scope)
    return None


def _fingerprint(request: Request, who: _Caller, key: str, body: bytes) -> _Fingerprint:
    caller = who.name
    owner = f"tenant:{who.scope.tenant_id}" if who.scope else caller
    digest = hashlib.sha256()
    for part in (request.url.path.encode(), request.url.query.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return _Fingerprint(
        owner=owner,
        tenant=who.scope,
        key=key,
        caller=caller,
        method=request.method,
        route=_route_template(request),
        request_hash=digest.hexdigest(),
    )


def _route_template(request: Request) -> str:
    # Included routers stay unflattened: FastAPI records the effective (prefixed) template.
    effective = request.scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(effective, "path_format", None)
    if not isinstance(path, str):
        path = getattr(request.scope.get("route"), "path_format", request.url.path)
    return str(path)


# -- the store ------------------------------------------------------------------------------------


async def _reserve(
    database: Database, fingerprint: _Fingerprint, *, now: datetime, ttl: timedelta
) -> tuple[uuid.UUID, uuid.UUID] | Response:
    """Take the key for this request (its record id and attempt token), or return the stored
    answer to replay. Raises `IdempotencyKeyReused` or `IdempotencyInProgress`."""
    for _ in range(2):
        try:
            async with database.unit_of_work() as session:
                if fingerprint.tenant is not None:
                    await bind_tenant(session, fingerprint.tenant)
                await sweep_expired(session, now=now)
                return await _reserve_in(session, fingerprint, now=now, ttl=ttl)
        except IntegrityError:
            continue  # a concurrent first request inserted the key: read what it holds
    raise IdempotencyInProgress(headers={"Retry-After": "1"})


async def _reserve_in(
    session: AsyncSession, fingerprint: _Fingerprint, *, now: datetime, ttl: timedelta
) -> tuple[uuid.UUID, uuid.UUID] | Response:
    record = await session.scalar(
        select(IdempotencyRecord)
        .where(IdempotencyRecord.owner == fingerprint.owner)
        .where(IdempotencyRecord.key == fingerprint.key)
        .with_for_update()
    )
    if record is not None and record.expires_at <= now:
        await session.delete(record)
        await session.flush()
        record = None
    attempt = uuid.uuid4()
    if record is None:
        record = IdempotencyRecord(
            tenant_id=fingerprint.tenant.tenant_id if fingerprint.tenant else None,
            owner=fingerprint.owner,
            key=fingerprint.key,
            caller=fingerprint.caller,
            method=fingerprint.method,
            route=fingerprint.route,
            request_hash=fingerprint.request_hash,
            attempt=attempt,
            locked_until=now + IN_PROGRESS_LEASE,
            created_at=now,
            expires_at=now + ttl,
        )
        session.add(record)
        await session.flush()
        return record.id, attempt
    if not fingerprint.matches(record):
        raise IdempotencyKeyReused(
            f"The {HEADER} {fingerprint.key!r} was first used for another request (another "
            "body, route or caller). Use a new key for a new request.",
        )
    if record.completed_at is not None:
        return _replay_response(record)
    if record.locked_until > now:
        raise IdempotencyInProgress(
            "The first request with this key has not finished; retry in a moment.",
            headers={"Retry-After": "1"},
        )
    # The first attempt's lease ran out (its process died): this request takes the key over.
    record.attempt = attempt
    record.locked_until = now + IN_PROGRESS_LEASE
    return record.id, attempt


async def sweep_expired(session: AsyncSession, *, now: datetime, limit: int = SWEEP_BATCH) -> int:
    """Delete up to `limit` expired records the session may see; returns how many."""
    expired = list(
        await session.scalars(
            select(IdempotencyRecord.id)
            .where(IdempotencyRecord.expires_at <= now)
            .order_by(IdempotencyRecord.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if expired:
        await session.execute(
            delete(IdempotencyRecord)
            .where(IdempotencyRecord.id.in_(expired))
            .execution_options(synchronize_session=False)
        )
    return len(expired)


def _replay_response(record: IdempotencyRecord) -> Response:
    assert record.response_status is not None and record.response_body is not None
    response = Response(content=record.response_body, status_code=record.response_status)
    response.headers.raw.extend(
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in record.response_headers or []
    )
    response.headers[REPLAYED_HEADER] = "true"
    return response


async def _complete(claim: _Claim, response: Response) -> None:
    """Write the answer in the request's unit of work, fenced on this request's attempt."""
    session = claim.session
    if claim.tenant is not None and current_tenant(session) is None:
        await bind_tenant(session, claim.tenant)  # RLS must let this transaction see the key
    headers = [
        [name.decode("latin-1"), value.decode("latin-1")]
        for name, value in response.headers.raw
        if name.decode("latin-1").lower() not in _UNSTORED_HEADERS
    ]
    result = await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == claim.record_id)
        .where(IdempotencyRecord.attempt == claim.attempt)
        .where(IdempotencyRecord.completed_at.is_(None))
        .values(
            completed_at=claim.now,
            response_status=response.status_code,
            response_headers=headers,
            response_body=bytes(response.body),
        )
        .execution_options(synchronize_session=False)
    )
    if _rowcount(result) != 1:
        # Another attempt took the key over after this one's lease ran out: let that one win.
        raise IdempotencyInProgress(
            "This request outlived its claim on the key; its work was undone.",
            headers={"Retry-After": "1"},
        )


async def _release_in(session: AsyncSession, claim: _Claim) -> None:
    if claim.tenant is not None and current_tenant(session) is None:
        await bind_tenant(session, claim.tenant)
    await session.execute(
        delete(IdempotencyRecord)
        .where(IdempotencyRecord.id == claim.record_id)
        .where(IdempotencyRecord.attempt == claim.attempt)
        .where(IdempotencyRecord.completed_at.is_(None))
        .execution_options(synchronize_session=False)
    )


async def _release_after_failure(claim: _Claim) -> None:
    """Free the key after an exception; the caller re-raises that exception whatever happens
    here (a key left in progress frees itself when its lease runs out)."""
    try:
        # The request's transaction goes first: on SQLite it holds the write lock a new
        # transaction would wait for.
        await claim.session.rollback()
        async with claim.database.unit_of_work() as session:
            await _release_in(session, claim)
    except Exception:
        log.warning("idempotency_release_failed", record_id=str(claim.record_id), exc_info=True)


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0))


# -- the route class ------------------------------------------------------------------------------


def _not_stored(problem: Exception) -> bool:
    """Refusals at the door: the operation never ran, so a retry must be free to run it."""
    return isinstance(
        problem, RequestValidationError | Unauthenticated | PermissionDenied | RateLimited
    )


def _with_idempotency_responses(
    responses: dict[int | str, dict[str, Any]],
) -> dict[int | str, dict[str, Any]]:
    merged = dict(responses)
    for status, extra in IDEMPOTENCY_RESPONSES.items():
        own = merged.get(status)
        if own is None:
            merged[status] = extra
        else:
            merged[status] = {
                **own,
                "description": f"{own['description']}. Or: {extra['description']}",
            }
    return merged


def _lists_idempotency_key(dependencies: object) -> bool:
    return isinstance(dependencies, list | tuple) and any(
        isinstance(item, DependsParam) and item.dependency is claim_idempotency_key
        for item in dependencies
    )


class IdempotentRoute(APIRoute):
    """Route class for routers with idempotent operations: replays stored answers and stores
    first ones before the request's unit of work commits. Routes that do not list
    `IdempotencyKey` run exactly as plain `APIRoute`s."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        self.accepts_idempotency_key = _lists_idempotency_key(kwargs.get("dependencies"))
        if self.accepts_idempotency_key:
            kwargs["responses"] = _with_idempotency_responses(kwargs.get("responses") or {})
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not self.accepts_idempotency_key:
            return handler

        async def idempotent_handler(request: Request) -> Response:
            request.scope[_ROUTE_HANDLES] = True
            try:
                response = await handler(request)
            except _Replay as replay:
                return replay.response
            except Exception as error:
                claim: _Claim | None = request.scope.get(_CLAIM)
                if claim is None:
                    raise
                if isinstance(error, Problem) and error.status < 500 and not _not_stored(error):
                    # The operation refused: its partial work is undone (as the error handler
                    # would), and the refusal is the answer every retry gets.
                    answer = problem_response(error.body(instance=request.url.path), error.headers)
                    await claim.session.rollback()
                    await _complete(claim, answer)
                    return answer
                await _release_after_failure(claim)
                raise
            claim = request.scope.get(_CLAIM)
            if claim is None:
                return response
            if response.status_code >= 500 or not isinstance(
                getattr(response, "body", None), bytes
            ):
                await _release_in(claim.session, claim)
                return response
            await _complete(claim, response)
            return response

        return idempotent_handler
