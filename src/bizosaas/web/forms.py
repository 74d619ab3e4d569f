"""Form handling for pages: field checks, and turning service errors into field messages.

A page that rejects a form re-renders it with status 422, the user's input (never passwords)
and a message next to each field at fault.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bizosaas.kit.errors import InvalidInput, Problem
from bizosaas.kit.text import control_character_at

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ALL = "__all__"
"""The key of a message about the whole form."""


class ControlCharacters(InvalidInput):
    code = "form.control_character"
    title = "The form contains characters that are not allowed"


def refuse_control_characters(values: Mapping[str, str]) -> None:
    """422 for a form with a control character in any field (tab and line breaks excepted:
    text areas have them), the rule every API schema applies (`kit.text`)."""
    for name, value in values.items():
        if control_character_at(value, multiline=True) is not None:
            raise ControlCharacters(f"Remove the control characters from the field {name!r}.")


@dataclass
class Form:
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def get(self, name: str) -> str:
        return self.values.get(name, "").strip()

    def require(self, name: str, message: str) -> str:
        value = self.get(name)
        if not value:
            self.errors.setdefault(name, message)
        return value

    def email(self, name: str = "email") -> str:
        value = self.require(name, "Enter an e-mail address.")
        if value and not EMAIL.match(value):
            self.errors.setdefault(name, "Enter an e-mail address like name@example.com.")
        return value.lower()

    def max_length(self, name: str, limit: int) -> None:
        if len(self.get(name)) > limit:
            self.errors.setdefault(name, f"Use at most {limit} characters.")

    def choice(self, name: str, options: Mapping[str, object], message: str) -> str:
        value = self.get(name)
        if value not in options:
            self.errors.setdefault(name, message)
        return value

    def fail(self, problem: Problem, fields: Mapping[str, str]) -> None:
        """Put a service error next to the field its code concerns (or on the whole form)."""
        self.errors[fields.get(problem.code, ALL)] = problem.detail

    def safe_values(self) -> dict[str, str]:
        """What to echo back into the form: everything the user typed except secrets."""
        return {
            key: value
            for key, value in self.values.items()
            if "password" not in key and key not in {"code", "csrf_token", "token"}
        }


def local_path(candidate: str | None, default: str) -> str:
    """`candidate` if it is a path on this site (for ?next=), otherwise `default`."""
    if not candidate:
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc or not candidate.startswith("/") or candidate.startswith("//"):
        return default
    if "\\" in candidate or any(ord(ch) < 32 for ch in candidate):
        return default
    return candidate
