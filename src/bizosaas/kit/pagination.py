"""Keyset page cursors: an opaque, URL-safe token carrying the sort order's name and the sort
key and id of the last row of a page. A page then costs the same at any depth, and rows added
meanwhile never shift or repeat one. Domains turn `CursorError` into their own problem code.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

import orjson

Scalar = str | int | float | bool | None


class CursorError(ValueError):
    """A cursor this API did not issue, or one of another sort order."""


def encode_cursor(sort: str, values: Sequence[Scalar]) -> str:
    raw = orjson.dumps([sort, *values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: str, cursor: str, *, size: int) -> list[Scalar]:
    """The `size` values a cursor of `sort` carries; `CursorError` for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = orjson.loads(raw)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as error:
        raise CursorError("not a cursor of this API") from error
    if not isinstance(decoded, list) or len(decoded) != size + 1 or decoded[0] != sort:
        raise CursorError("the cursor belongs to another sort order")
    values = decoded[1:]
    if not all(isinstance(value, str | int | float | bool) or value is None for value in values):
        raise CursorError("not a cursor of this API")
    return values
