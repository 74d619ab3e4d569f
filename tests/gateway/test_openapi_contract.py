"""The API keeps the promises of its OpenAPI document: schemathesis fuzzes every operation,
anonymous and as a tenant admin, with every default check (no server error, documented status
codes, content types, headers and response schemas, invalid input refused).

The app runs under uvicorn on this event loop; the (synchronous) fuzzing runs in a thread.
A bounded, derandomised number of examples per operation keeps it quick and repeatable.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from bizosaas.gateway.app import create_app
from bizosaas.kit.db import Database
from bizosaas.settings import Settings
from tests.gateway.support import serve, tenant_account

MAX_EXAMPLES = 12
# Fuzzing sends thousands of requests from one address: lift the per-address limit (429 is
# documented and would pass, but would hide the operations behind it).
GENEROUS_LIMITS = json.dumps({"rate_limits": [{"limit": "1000000/minute", "name": "fuzz"}]})

Headers = Callable[[], dict[str, str]]

# Schema-valid input that a business rule refuses: a password the password policy turns down
# (422: its length is a setting, and there is a list of common passwords) or a one-time token
# that does not exist (400, 410), or an e-mail address at a special-use domain (RFC 6761:
# `.test`, `.invalid` ...), which `format: email` allows but no mail reaches (422), or an API
# key's expiry that has passed (422: the schema cannot say "after now"), or a tenant name that
# is too short once its surrounding spaces are trimmed (422); or a product listing's
# page cursor the API did not issue (400), or variant attribute values that do not fit the
# product type's attributes, which live in the database (422); or a CRM record's phone numbers
# (valid only by `phonenumbers`' numbering plans), custom field values, filters, sorts and view
# columns (the fields are the tenant's, in the database), a custom field's choices or currency
# that do not fit its kind, owners who must be members, or a page cursor the API did not issue
# (400, 422); or a payment operation whose Idempotency-Key was first used with another body
# (422 `idempotency.key_reused`), whose amount rounds to nothing in the payment's currency
# (422), a Stripe key of the wrong kind in the payment settings (422), or a webhook whose Stripe
# signature does not verify (400). Every other operation must accept schema-valid input.
# The runs, schedules and task queues of workflows are Temporal's own records: in a process
# without Temporal (as here) they answer 503 `workflows.unavailable`, as documented, which is
# no server error of ours.
BUSINESS_RULES = """
[[operations]]
include-path-regex = "/auth/(register|tenant|api-keys|invitations|invitations/accept|password/change|password/reset/confirm|email/verify/confirm)$"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "400", "401", "403", "404", "409", "410", "422", "429",
]

[[operations]]
include-path-regex = "/commerce/(products|products/[^/]+/variants|variants/[^/]+)$"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "400", "401", "403", "404", "409", "422", "429",
]

[[operations]]
include-path-regex = "/workflows/(runs|schedules|queues)(/[^/]+)*$"
checks.not_a_server_error.enabled = false

[[operations]]
include-path-regex = "/crm/(people|companies|leads|deals|activities|views|fields|pipelines)(/[^/]+)*$"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "400", "401", "403", "404", "409", "422", "429",
]

[[operations]]
include-path-regex = "/commerce/(payments/[^/]+/(capture|void|refund)|orders/[^/]+/payments|payment-settings|webhooks/stripe/[^/]+)$"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "400", "401", "403", "404", "409", "422", "429",
]
"""


def config_with(headers: dict[str, str]) -> schemathesis.config.SchemathesisConfig:
    """The configuration, with the caller's credential as configured headers (so the auth
    checks know it was given, and probe the operation without it and with a forged one)."""
    lines = "".join(f'{name} = "{value}"\n' for name, value in headers.items())
    return schemathesis.config.SchemathesisConfig.from_str(
        (f"[headers]\n{lines}\n" if lines else "") + BUSINESS_RULES
    )


def fuzz(spec: dict[str, Any], base_url: str, headers: Headers, mode: GenerationMode) -> list[str]:
    """Every operation, `MAX_EXAMPLES` cases each; returns the failures."""
    failures: list[str] = []
    labels = [
        found.ok().label for found in schemathesis.openapi.from_dict(spec).get_all_operations()
    ]
    for label in labels:
        # A fresh credential per operation: one operation's logout must not blind the rest.
        credential = headers()
        schema = schemathesis.openapi.from_dict(spec, config=config_with(credential))
        operation = next(
            found.ok() for found in schema.get_all_operations() if found.ok().label == label
        )
        try:
            _checker(operation, base_url, mode, credential)()
        except Unsatisfiable:
            # No input to make invalid (negative mode on an operation without parameters).
            continue
        except Exception as error:  # every failure is reported, not only the first
            failures.append(f"{label}: {str(error)[:1500]}")
    return failures


def _checker(
    operation: Any, base_url: str, mode: GenerationMode, credential: dict[str, str]
) -> Callable[[], None]:
    @hypothesis_settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: schemathesis.Case) -> None:
        # The credential is also named to the checks, so the auth checks always know it was
        # given (a retried write that answers with its stored response must not look like an
        # unauthenticated success) and probe the operation without it and with a forged one.
        case.call_and_validate(base_url=base_url, headers=credential or None)

    return check  # type: ignore[no-any-return]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("caller", ["anonymous", "tenant_admin"])
async def test_the_api_keeps_its_openapi_contract(
    settings: Settings, database: Database, caller: str, mode: GenerationMode
) -> None:
    app = create_app(
        # The test-only notes module (with its deliberate 500 route) is left out.
        settings.model_copy(update={"gateway_policies": GENEROUS_LIMITS, "extra_modules": []}),
        database=database,
    )
    loop = asyncio.get_running_loop()
    async with serve(app) as url:
        spec = app.openapi()

        def headers() -> dict[str, str]:
            if caller == "anonymous":
                return {}
            # A fresh sign-in per operation: one operation's logout must not blind the rest.
            account = asyncio.run_coroutine_threadsafe(tenant_account(app), loop).result()
            # Spelled as schemathesis spells it, so its auth checks replace it, not add to it.
            return {"Authorization": f"Bearer {account.token}"}

        failures = await asyncio.to_thread(fuzz, spec, url, headers, mode)
    assert not failures, "\n\n".join(failures)
