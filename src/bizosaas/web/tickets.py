"""The sign-in ticket that carries a login from the password step to the two-factor step.

The identity service checks password and second factor together, so between the two pages
the browser holds the credentials it typed in an HttpOnly cookie, encrypted and authenticated
under a key derived from the web secret (Fernet: AES-CBC + HMAC), valid for five minutes and
deleted as soon as the second step succeeds. The password never appears in a page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

import orjson
from cryptography.fernet import Fernet, InvalidToken
from fastapi import Request
from starlette.responses import Response

from bizosaas.web.shell import is_secure, settings_of, web_secret

MFA_COOKIE = "bizosaas_mfa"
MFA_TICKET_TTL = 300


@dataclass(frozen=True, slots=True)
class MfaTicket:
    email: str
    password: str
    next: str


def _fernet(request: Request) -> Fernet:
    key = hmac.new(web_secret(request), b"mfa-ticket", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def issue(request: Request, response: Response, ticket: MfaTicket) -> None:
    body = orjson.dumps({"e": ticket.email, "p": ticket.password, "n": ticket.next})
    response.set_cookie(
        MFA_COOKIE,
        _fernet(request).encrypt(body).decode(),
        max_age=MFA_TICKET_TTL,
        httponly=True,
        samesite="strict",
        secure=is_secure(settings_of(request)),
        path="/login",
    )


def read(request: Request) -> MfaTicket | None:
    raw = request.cookies.get(MFA_COOKIE)
    if not raw:
        return None
    try:
        data = orjson.loads(_fernet(request).decrypt(raw.encode(), ttl=MFA_TICKET_TTL))
        return MfaTicket(email=str(data["e"]), password=str(data["p"]), next=str(data["n"]))
    except (InvalidToken, ValueError, KeyError, TypeError):
        return None


def discard(request: Request, response: Response) -> None:
    response.delete_cookie(
        MFA_COOKIE,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=is_secure(settings_of(request)),
    )
