"""A local stand-in for Stripe's API, speaking its documented wire format, for the payment
tests (no test reaches the internet).

It serves what the payment provider uses, as https://docs.stripe.com/api documents it:

* `POST /v1/payment_intents` (form-encoded: amount, currency, capture_method, confirm,
  payment_method, receipt_email, description, metadata[...]); with `confirm=true` the test
  cards `pm_card_visa` (authorised: `requires_capture`) and `pm_card_chargeDeclined` (a 402
  `card_error`, code `card_declined`, with the intent in the error) behave as in test mode;
* `POST /v1/payment_intents/{id}/capture` (amount_to_capture), `POST
  /v1/payment_intents/{id}/cancel`, `POST /v1/refunds` (payment_intent, amount);
* errors as `{"error": {"type", "code", "message", ...}}` with Stripe's statuses (400
  `invalid_request_error`, 401 for a wrong key, 402 `card_error`, 500 `api_error`);
* `Idempotency-Key`: a key seen before with the same parameters answers the stored response
  again (`Idempotent-Replayed: true`); with other parameters a 400 `idempotency_error`.

It records every request it receives (`requests`), and tests can make it fail the next request
(`fail_next`) or do the work and then drop the connection without an answer
(`drop_next_answer`), as a timeout after Stripe charged would. `event()` and `sign()` build
webhook deliveries signed as Stripe signs them (`t=...,v1=HMAC-SHA256(secret, "t.payload")`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web


@dataclass
class Received:
    method: str
    path: str
    params: dict[str, str]
    idempotency_key: str | None
    replayed: bool = False


@dataclass
class StripeFake:
    secret_key: str
    requests: list[Received] = field(default_factory=list)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    _idempotent: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)
    _fail: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    _drop: int = 0
    _runner: web.AppRunner | None = None
    url: str = ""

    # -- running ----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/payment_intents", self._create_intent)
        app.router.add_post("/v1/payment_intents/{id}/capture", self._capture)
        app.router.add_post("/v1/payment_intents/{id}/cancel", self._cancel)
        app.router.add_post("/v1/refunds", self._refund)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- what tests steer and look at -------------------------------------------------------

    def fail_next(self, status: int, error: dict[str, Any]) -> None:
        """Answer the next request with this error object, doing nothing."""
        self._fail.append((status, error))

    def drop_next_answer(self) -> None:
        """Do the next request's work, then close the connection without answering."""
        self._drop += 1

    def calls(self, path_suffix: str) -> list[Received]:
        return [r for r in self.requests if r.path.endswith(path_suffix)]

    def authorise_intent(self, intent_id: str) -> dict[str, Any]:
        """The buyer confirmed the card in their browser (what Stripe.js does)."""
        intent = self.intents[intent_id]
        intent.update(status="requires_capture", amount_capturable=intent["amount"])
        return intent

    def event(self, event_type: str, data: dict[str, Any], *, event_id: str | None = None) -> bytes:
        """A webhook delivery body, as Stripe sends it."""
        return json.dumps(
            {
                "id": event_id or f"evt_{secrets.token_hex(12)}",
                "object": "event",
                "api_version": "2025-01-27.acacia",
                "created": int(time.time()),
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "type": event_type,
                "data": {"object": data},
            }
        ).encode()

    def charge_of(self, intent_id: str) -> dict[str, Any]:
        """The intent's charge as `charge.refunded` carries it (cumulative amount_refunded)."""
        intent = self.intents[intent_id]
        refunds = [r for r in self.refunds.values() if r["payment_intent"] == intent_id]
        return {
            "id": intent["latest_charge"],
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount_received"],
            "amount_refunded": sum(r["amount"] for r in refunds),
            "currency": intent["currency"],
            "payment_intent": intent_id,
            "refunded": sum(r["amount"] for r in refunds) >= intent["amount_received"],
            "refunds": {"object": "list", "data": list(reversed(refunds))},
        }

    # -- the API ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request, work: Any) -> web.StreamResponse:
        form = await request.text()
        params = dict(parse_qsl(form, keep_blank_values=True))
        key = request.headers.get("Idempotency-Key")
        received = Received(request.method, request.path, params, key)
        self.requests.append(received)
        if request.headers.get("Authorization") != f"Bearer {self.secret_key}":
            return _error(
                401,
                {
                    "type": "invalid_request_error",
                    "message": f"Invalid API Key provided: sk_test_****{self.secret_key[-4:]}",
                },
            )
        fingerprint = hashlib.sha256(f"{request.path}?{form}".encode()).hexdigest()
        if key is not None and key in self._idempotent:
            first, status, body = self._idempotent[key]
            if first != fingerprint:
                return _error(
                    400,
                    {
                        "type": "idempotency_error",
                        "message": "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with.",
                    },
                )
            received.replayed = True
            return web.json_response(body, status=status, headers={"Idempotent-Replayed": "true"})
        if self._fail:
            status, error = self._fail.pop(0)
            return _error(status, error)
        status, body = work(request.match_info, params)
        if key is not None and status < 500:
            self._idempotent[key] = (fingerprint, status, body)
        if self._drop:
            self._drop -= 1
            assert request.transport is not None
            request.transport.close()  # the work is done; the answer never arrives
            raise web.HTTPBadRequest  # unreachable for the client: the socket is gone
        return web.json_response(body, status=status)

    async def _create_intent(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, self._do_create_intent)

    async def _capture(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, self._do_capture)

    async def _cancel(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, self._do_cancel)

    async def _refund(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, self._do_refund)

    def _do_create_intent(self, _match: Any, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if "amount" not in params or "currency" not in params:
            return 400, _invalid("parameter_missing", "Missing required param: amount.")
        intent_id = f"pi_{secrets.token_hex(12)}"
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "amount_capturable": 0,
            "amount_received": 0,
            "currency": params["currency"],
            "capture_method": params.get("capture_method", "automatic_async"),
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
            "created": int(time.time()),
            "description": params.get("description"),
            "receipt_email": params.get("receipt_email"),
            "metadata": {
                name[len("metadata[") : -1]: value
                for name, value in params.items()
                if name.startswith("metadata[")
            },
            "latest_charge": None,
            "last_payment_error": None,
            "livemode": False,
            "payment_method": params.get("payment_method"),
            "status": "requires_payment_method",
        }
        self.intents[intent_id] = intent
        if params.get("confirm") == "true":
            method = params.get("payment_method")
            if method == "pm_card_chargeDeclined":
                error = {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": "generic_decline",
                    "message": "Your card was declined.",
                }
                intent["last_payment_error"] = error
                return 402, {"error": {**error, "payment_intent": intent}}
            intent.update(latest_charge=f"ch_{secrets.token_hex(12)}")
            if intent["capture_method"] == "manual":
                intent.update(status="requires_capture", amount_capturable=intent["amount"])
            else:
                intent.update(status="succeeded", amount_received=intent["amount"])
        return 200, intent

    def _do_capture(self, match: Any, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        intent = self.intents.get(match["id"])
        if intent is None:
            return 404, _invalid("resource_missing", f"No such payment_intent: '{match['id']}'")
        if intent["status"] != "requires_capture":
            return 400, _unexpected_state(intent, "capture")
        amount = int(params.get("amount_to_capture", intent["amount_capturable"]))
        if amount > intent["amount_capturable"]:
            return 400, _invalid(
                "amount_too_large", "The amount to capture exceeds the amount capturable."
            )
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        return 200, intent

    def _do_cancel(self, match: Any, _params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        intent = self.intents.get(match["id"])
        if intent is None:
            return 404, _invalid("resource_missing", f"No such payment_intent: '{match['id']}'")
        if intent["status"] in {"succeeded", "canceled"}:
            return 400, _unexpected_state(intent, "cancel")
        intent.update(status="canceled", amount_capturable=0)
        return 200, intent

    def _do_refund(self, _match: Any, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None:
            return 404, _invalid("resource_missing", "No such payment_intent.")
        if intent["status"] != "succeeded":
            return 400, _unexpected_state(intent, "refund")
        refunded = sum(
            r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent["id"]
        )
        left = intent["amount_received"] - refunded
        amount = int(params.get("amount", left))
        if left <= 0:
            return 400, _invalid("charge_already_refunded", "Charge has already been refunded.")
        if amount > left:
            return 400, _invalid(
                "amount_too_large", "Refund amount is greater than unrefunded amount on charge."
            )
        refund = {
            "id": f"re_{secrets.token_hex(12)}",
            "object": "refund",
            "amount": amount,
            "charge": intent["latest_charge"],
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "status": "succeeded",
            "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        return 200, refund


def sign(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header value for `payload`."""
    moment = int(time.time()) if timestamp is None else timestamp
    signed = f"{moment}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def _invalid(code: str, message: str) -> dict[str, Any]:
    return {"error": {"type": "invalid_request_error", "code": code, "message": message}}


def _unexpected_state(intent: dict[str, Any], action: str) -> dict[str, Any]:
    return _invalid(
        "payment_intent_unexpected_state",
        f"This PaymentIntent could not be {action}d because it has a status of {intent['status']}.",
    )


def _error(status: int, error: dict[str, Any]) -> web.Response:
    return web.json_response({"error": error}, status=status)
