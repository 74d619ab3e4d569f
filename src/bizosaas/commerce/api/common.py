"""What every commerce endpoint shares: the documented error answers.

The gateway documents 401, 403, 404, 422 and the rest from each route's dependencies and
parameters (gateway/operations.py); an endpoint adds here what only it can say: which codes
its 404 and 409 carry.
"""

from __future__ import annotations

from typing import Any

Responses = dict[int | str, dict[str, Any]]

NOT_FOUND = "`commerce.not_found`: no such row in your store (another store's rows included)"


def errors(*, conflicts: str | None = None, not_found: bool = True, **more: str) -> Responses:
    """Documented answers: 404 `commerce.not_found` (unless `not_found` is False), 409 with
    the `conflicts` codes, and `more` as `{"400": "what"}`-style extras."""
    answers: Responses = {}
    if not_found:
        answers[404] = {"description": NOT_FOUND}
    if conflicts:
        answers[409] = {"description": f"Refused: {conflicts}"}
    for status, description in more.items():
        answers[int(status.removeprefix("status_"))] = {"description": description}
    return answers
