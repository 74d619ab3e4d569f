"""Text input without control characters, one rule for every API schema and form.

A NUL or another control character in a name is never meant: it breaks logs, terminals and
exports, hides text from reviewers, and PostgreSQL refuses 0x00 in text outright (a 500 if
it got that far). `SingleLine` refuses every control character (C0, DEL, C1), the Unicode
line and paragraph separators and lone surrogates; `PlainText`, for multi-line text, also
allows tab, line feed and carriage return. Either answers 422 through the usual validation
error, and its JSON Schema carries the same rule as a `pattern`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

_CONTROLS = "\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029"
_CONTROLS_MULTILINE = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f"
_SURROGATES = "\\ud800-\\udfff"
# The documented patterns leave lone surrogates out: JSON text cannot carry one as a character,
# only as an escape, and schema tools cannot generate from a class that names them.
SINGLE_LINE_PATTERN = f"^[^{_CONTROLS}]*$"
WORD_PATTERN = f"^[^\\s{_CONTROLS}]+$"
PLAIN_TEXT_PATTERN = f"^[^{_CONTROLS_MULTILINE}]*$"
_SINGLE_LINE_BAD = re.compile(f"[{_CONTROLS}{_SURROGATES}]")
_WORD_BAD = re.compile(f"[\\s{_CONTROLS}{_SURROGATES}]")
_PLAIN_TEXT_BAD = re.compile(f"[{_CONTROLS_MULTILINE}{_SURROGATES}]")


def control_character_at(value: str, *, multiline: bool) -> int | None:
    """The position of the first character `value` may not contain, or None."""
    found = (_PLAIN_TEXT_BAD if multiline else _SINGLE_LINE_BAD).search(value)
    return None if found is None else found.start()


@dataclass(frozen=True, slots=True)
class OneWord:
    """`Annotated` marker: a non-empty string without whitespace or control characters (a
    permission, a code)."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", WORD_PATTERN)
        return json_schema

    def _check(self, value: str) -> str:
        found = _WORD_BAD.search(value)
        if not value or found is not None:
            raise PydanticCustomError(
                "text.not_one_word", "Use one word: no spaces or control characters"
            )
        return value


@dataclass(frozen=True, slots=True)
class NoControlCharacters:
    """`Annotated` marker: the string may not contain control characters."""

    multiline: bool = False

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        # A stricter pattern of the field's own (a slug's, say) already excludes these.
        json_schema.setdefault(
            "pattern", PLAIN_TEXT_PATTERN if self.multiline else SINGLE_LINE_PATTERN
        )
        return json_schema

    def _check(self, value: str) -> str:
        position = control_character_at(value, multiline=self.multiline)
        if position is not None:
            raise PydanticCustomError(
                "text.control_character",
                "Control characters are not allowed (found U+{code} at position {position})",
                {"code": f"{ord(value[position]):04X}", "position": position},
            )
        return value


SingleLine = Annotated[str, NoControlCharacters()]
"""One line of text: no control characters at all."""
PlainText = Annotated[str, NoControlCharacters(multiline=True)]
"""Multi-line text: tab, line feed and carriage return allowed, other control characters not."""
Word = Annotated[str, OneWord()]
"""A non-empty string without whitespace or control characters."""


# Dots (with the full-width and ideographic ones browsers read as dots) and at signs between
# word characters, and a scheme separator: what auto-linkers look for.
_LINKABLE = re.compile(r"(?<=\w)[.@\uff0e\u3002\uff61](?=\w)|://")


def unlinkable(text: str) -> str:
    """`text` (a name someone chose) made safe to quote in an e-mail: mail clients turn
    anything shaped like an address or a URL into a link, so a tenant called
    "verify at evil.example" would send a clickable phishing link under our name. The dots and
    at signs inside words, and `://`, are bracketed as security advisories "defang" them
    ("evil[.]example", "https[:]//"); a name without them is unchanged."""

    def defang(match: re.Match[str]) -> str:
        found = match.group(0)
        return "[:]//" if found == "://" else f"[{found}]"

    return _LINKABLE.sub(defang, text)
