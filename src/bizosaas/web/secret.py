"""The web secret: the HMAC key for CSRF tokens and flash cookies.

Kept in the database's platform facts so every gateway process of a deployment shares it;
created on the first start.
"""

from __future__ import annotations

import base64
import secrets

from sqlalchemy.exc import IntegrityError

from bizosaas.kit.db import Database
from bizosaas.kit.meta import get_fact, set_fact

SECRET_FACT = "web.secret"  # noqa: S105 - the name of the fact, not a secret


async def load_or_create(database: Database) -> bytes:
    for _attempt in range(2):
        try:
            async with database.unit_of_work() as session:
                value = await get_fact(session, SECRET_FACT)
                if value is None:
                    value = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
                    await set_fact(session, SECRET_FACT, value)
        except IntegrityError:
            continue  # another process created it first: read theirs
        return base64.urlsafe_b64decode(value)
    raise RuntimeError("could not read or create the web secret")
