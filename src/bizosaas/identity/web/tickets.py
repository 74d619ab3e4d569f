"""The cookie that carries a sign-in from the password step to the two-factor step.

It holds only the identity service's MFA challenge token: opaque, single use, stored hashed on
the server, valid five minutes and bound to the browser channel and the client address. The
password is never kept between the steps. HttpOnly, SameSite=Strict, Secure under https, sent
only to /login.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from bizosaas.identity.schemas import MfaChallenge
from bizosaas.web.shell import is_secure

MFA_COOKIE = "bizosaas_mfa"
_PATH = "/login"


def issue(request: Request, response: Response, challenge: MfaChallenge) -> None:
    response.set_cookie(
        MFA_COOKIE,
        challenge.mfa_token,
        max_age=challenge.expires_in,
        httponly=True,
        samesite="strict",
        secure=is_secure(request),
        path=_PATH,
    )


def read(request: Request) -> str | None:
    token = request.cookies.get(MFA_COOKIE, "")
    return token if 10 <= len(token) <= 200 else None


def discard(request: Request, response: Response) -> None:
    response.delete_cookie(
        MFA_COOKIE,
        path=_PATH,
        httponly=True,
        samesite="strict",
        secure=is_secure(request),
    )
