"""Identity and access: tenants, users, memberships, roles, tokens, sessions, API keys, MFA.

Routes under /api/brain/auth/ (see router.py), the JWKS document also at the site root, the
service layer for the web apps in service.py, and the `Authenticator` every domain relies on.
"""

from __future__ import annotations

import structlog
from sqlalchemy.exc import SQLAlchemyError

from bizosaas.identity import mail, mfa, runtime
from bizosaas.identity.authenticator import IdentityAuthenticator
from bizosaas.identity.events import MAIL_REQUESTED
from bizosaas.identity.permissions import IDENTITY_PERMISSIONS
from bizosaas.identity.router import router, web
from bizosaas.identity.seed import seed
from bizosaas.kit.module import DomainModule, Services

log = structlog.get_logger(__name__)


async def startup(services: Services) -> None:
    """Open the key stores (creating the first signing and data-encryption keys), install the
    runtime, encrypt TOTP secrets left in plain text, and provide the authenticator."""
    identity = runtime.build(
        services.settings,
        database=services.database,
        redis=services.redis,
        permissions=services.permissions,
    )
    runtime.install(identity)
    try:
        async with services.database.unit_of_work() as session:
            sealed = await mfa.seal_plain_secrets(session)
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


module = DomainModule(
    name="auth",
    title="Identity",
    router=router,
    web=web,
    permissions=IDENTITY_PERMISSIONS,
    event_handlers={MAIL_REQUESTED: mail.deliver},
    seed=seed,
    startup=startup,
)

__all__ = ["module"]
