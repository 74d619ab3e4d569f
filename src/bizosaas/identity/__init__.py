"""Identity and access: tenants, users, memberships, roles, tokens, sessions, API keys, MFA.

Routes under /api/brain/auth/ (see router.py), the JWKS document also at the site root, the
service layer for the web apps in service.py, and the `Authenticator` every domain relies on.
"""

from __future__ import annotations

from bizosaas.identity import mail, runtime
from bizosaas.identity.authenticator import IdentityAuthenticator
from bizosaas.identity.events import MAIL_REQUESTED
from bizosaas.identity.permissions import IDENTITY_PERMISSIONS
from bizosaas.identity.router import router, web
from bizosaas.identity.seed import seed
from bizosaas.kit.module import DomainModule, Services


async def startup(services: Services) -> None:
    """Open the key store (creating the first signing key), install the runtime and provide
    the authenticator."""
    identity = runtime.build(services.settings, database=services.database, redis=services.redis)
    runtime.install(identity)
    services.provide("authenticator", IdentityAuthenticator(identity, services.database))
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
