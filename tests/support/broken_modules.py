"""Modules that break the DomainModule contract, one way each. Each is loaded as an extra
module (`tests.support.broken_modules:<attribute>`) and must stop start-up with one message
naming the module, the place and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends

from bizosaas.kit.auth import Principal, require
from bizosaas.kit.module import DomainModule, NavLink, Services, WebApp
from bizosaas.kit.permissions import Role
from bizosaas.web.session import Viewer, require_permission

DECLARED = {"broken.thing:read": "Read things"}
UNDECLARED = "broken.secret:read"
MIGRATIONS = Path(__file__).parent / "broken_migrations"


async def secret_reader(
    principal: Annotated[Principal, Depends(require(UNDECLARED))],
) -> Principal:
    """The permission sits one dependency deep, as a domain's `auth.py` would put it."""
    return principal


router = APIRouter()


@router.get("/secret")
async def secret(_reader: Annotated[Principal, Depends(secret_reader)]) -> dict[str, str]:
    return {"secret": "kept"}


route_needs_undeclared = DomainModule(name="broken", router=router, permissions=DECLARED)

pages = APIRouter()


@pages.get("/app/broken-secrets")
async def secrets_page(_reader: Annotated[Principal, Depends(secret_reader)]) -> dict[str, str]:
    return {"secret": "kept"}


page_needs_undeclared = DomainModule(name="broken", web=pages, permissions=DECLARED)

shell_pages = APIRouter()


@shell_pages.get("/app/broken-vault")
async def vault_page(
    _viewer: Annotated[Viewer, Depends(require_permission(UNDECLARED))],
) -> dict[str, str]:
    """A workspace page guarded the way pages are, by the web shell's `require_permission`."""
    return {"secret": "kept"}


shell_page_needs_undeclared = DomainModule(name="broken", web=shell_pages, permissions=DECLARED)

link_needs_undeclared = DomainModule(
    name="broken",
    permissions=DECLARED,
    navigation=[
        NavLink(
            app=WebApp.workspace,
            section="organisation",
            label="Secrets",
            href="/app/secrets",
            permission=UNDECLARED,
        )
    ],
)

grant_undeclared = DomainModule(
    name="broken",
    permissions=DECLARED,
    # The pattern may match nothing (no commerce module here); the exact name must exist.
    role_grants={Role.staff: ["commerce.*:read", UNDECLARED]},
)

declares_identity_permission = DomainModule(
    name="broken", permissions={"identity.member:read": "Someone else's permission"}
)


async def always_ok(_services: Services) -> None:
    return None


health_named_like_the_platform = DomainModule(name="broken", health_checks={"database": always_ok})

migrations_missing = DomainModule(name="broken", migrations=MIGRATIONS / "no-such-folder")
migrations_unjoined = DomainModule(name="broken", migrations=MIGRATIONS / "unjoined")
migrations_unlabelled = DomainModule(name="broken", migrations=MIGRATIONS / "unlabelled")
migrations_dangling = DomainModule(name="broken", migrations=MIGRATIONS / "dangling")
