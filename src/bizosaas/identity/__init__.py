"""Identity and access: tenants, users, memberships, roles, tokens, sessions, API keys, MFA.

Routes under /api/brain/auth/ (api/router.py), the JWKS document also at the site root, its
pages in the web apps (web/), the use cases other packages may call in service.py, and the
`Authenticator` every domain relies on. The sub-packages: credentials/ (what proves who someone
is), sessions/ (signing in and staying signed in), membership/ (who belongs where), records/
(audit log, mail), api/ (HTTP), repository/ (every query), web/ (pages).
"""

from __future__ import annotations

import structlog
from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError

from bizosaas.identity import context, web
from bizosaas.identity.api.router import router
from bizosaas.identity.api.router import web as well_known
from bizosaas.identity.credentials import totp
from bizosaas.identity.events import (
    IDENTITY_EVENTS,
    LOGIN_FAILED,
    MAIL_REQUESTED,
    PASSWORD_RESET_REQUESTED,
    SIGN_UP_REQUESTED,
)
from bizosaas.identity.membership import account, registration
from bizosaas.identity.permissions import IDENTITY_PERMISSIONS
from bizosaas.identity.records import mail
from bizosaas.identity.seed import seed
from bizosaas.identity.sessions import login_attempts
from bizosaas.identity.sessions.authenticator import IdentityAuthenticator
from bizosaas.identity.web.profiles import IdentityProfiles
from bizosaas.kit.auth import SESSION_LIVENESS
from bizosaas.kit.module import DomainModule, Services
from bizosaas.kit.viewer import PROFILES

log = structlog.get_logger(__name__)


async def startup(services: Services) -> None:
    """Open the key stores (creating the first signing and data-encryption keys), build the
    identity context, encrypt TOTP secrets left in plain text, and provide the context (`app.state.identity`), the authenticator and
    the viewer profiles the web shell shows."""
    identity = context.build(
        services.settings,
        database=services.database,
        redis=services.redis,
        permissions=services.permissions,
        bus=services.bus,
    )
    try:
        async with services.database.unit_of_work() as session:
            sealed = await totp.seal_plain_secrets(session, data_keys=identity.data_keys)
    except SQLAlchemyError as error:  # not migrated yet: the next start tries again
        log.warning("totp_sealing_skipped", error=type(error).__name__)
    else:
        if sealed:
            log.info("totp_secrets_sealed", count=sealed)
    services.provide(
        "authenticator",
        IdentityAuthenticator(identity, services.database, services.permissions),
    )
    services.provide("identity", identity)
    services.provide(SESSION_LIVENESS, identity.guard)
    services.provide(PROFILES, IdentityProfiles())


site = APIRouter(include_in_schema=False)
"""Everything identity serves at the site root: the JWKS document and its pages."""
site.include_router(well_known)
site.include_router(web.router)

module = DomainModule(
    name="auth",
    title="Identity",
    router=router,
    web=site,
    navigation=web.NAV_LINKS,
    templates=web.TEMPLATES,
    permissions=IDENTITY_PERMISSIONS,
    events=IDENTITY_EVENTS,
    event_handlers={
        MAIL_REQUESTED.name: mail.deliver,
        LOGIN_FAILED.name: login_attempts.audit_failure,
        SIGN_UP_REQUESTED.name: registration.complete_sign_up,
        PASSWORD_RESET_REQUESTED.name: account.send_reset_link,
    },
    seed=seed,
    startup=startup,
)

__all__ = ["module"]
