"""What the enabled modules declare, listed for people and agents (kit/contract.py checks it).

* Events: `events_markdown` renders docs/events.md from every module's typed events.
* Toolsets: `describe_toolsets` lists them with each tool's parameters as JSON schema (what an
  agent sees).
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from bizosaas.kit.module import DomainModule, ToolContext

# -- events reference -----------------------------------------------------------------------

EVENTS_HEADER = """# Events

Domain events are written to the outbox in the transaction of the change they describe and
relayed after commit (at least once: handlers are idempotent, keyed on the event id). Each has a
name (`<domain>.<event>`) and a payload schema; the payload is validated when the event is
written, and handlers read it back typed (`EVENT.parse(event)`). A handler subscribed to an exact
name that no enabled module declares stops start-up (patterns such as `identity.*` are not
checked). This page is generated from the modules' declarations by `bizosaas events --markdown`;
a test keeps it current.
"""


def _type_of(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return str(prop["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in prop:
        return " or ".join(_type_of(option) for option in prop["anyOf"])
    if prop.get("type") == "array":
        return f"array of {_type_of(prop.get('items', {}))}"
    kind = str(prop.get("type", "any"))
    return f"{kind} ({prop['format']})" if "format" in prop else kind


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def events_markdown(modules: Iterable[DomainModule]) -> str:
    sections = [EVENTS_HEADER]
    for module in modules:
        if not module.events:
            continue
        sections.append(f"\n## {module.title or module.name}\n")
        for event in module.events:
            schema = event.json_schema()
            required = set(schema.get("required", []))
            lines = [f"\n### `{event.name}`\n"]
            if event.description:
                lines.append(f"\n{event.description}\n")
            lines.append("\n| Field | Type | Required | Meaning |\n|---|---|---|---|\n")
            for name, prop in schema.get("properties", {}).items():
                lines.append(
                    f"| `{name}` | {_cell(_type_of(prop))} | {'yes' if name in required else 'no'} "
                    f"| {_cell(str(prop.get('description', '')))} |\n"
                )
            lines.append(
                "\n<details><summary>JSON schema</summary>\n\n```json\n"
                f"{json.dumps(schema, indent=2)}\n```\n\n</details>\n"
            )
            sections.append("".join(lines))
    return "".join(sections)


# -- toolsets -------------------------------------------------------------------------------


class ToolDescription(BaseModel):
    name: str
    description: str
    parameters: dict[str, Any]
    """JSON schema of the arguments the model fills in (the `ToolContext` is not one)."""


class ToolsetDescription(BaseModel):
    id: str
    title: str
    description: str
    module: str
    tools: list[ToolDescription]


def tool_parameters(tool: Callable[..., Any]) -> dict[str, Any]:
    """The JSON schema of `tool`'s arguments, leaving out its leading `ToolContext`."""
    hints = typing.get_type_hints(tool, include_extras=True)
    fields: dict[str, Any] = {}
    for parameter in inspect.signature(tool).parameters.values():
        annotation = hints.get(parameter.name, Any)
        if annotation is ToolContext:
            continue
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[parameter.name] = (annotation, default)
    arguments = create_model(
        f"{tool.__name__}_arguments", __config__=ConfigDict(extra="forbid"), **fields
    )
    schema: dict[str, Any] = arguments.model_json_schema()
    schema.pop("title", None)
    return schema


def describe_toolsets(modules: Iterable[DomainModule]) -> list[ToolsetDescription]:
    return [
        ToolsetDescription(
            id=toolset.id,
            title=toolset.title,
            description=toolset.description,
            module=module.name,
            tools=[
                ToolDescription(
                    name=tool.__name__,
                    description=inspect.cleandoc(tool.__doc__ or ""),
                    parameters=tool_parameters(tool),
                )
                for tool in toolset.tools
            ],
        )
        for module in modules
        for toolset in module.toolsets
    ]
