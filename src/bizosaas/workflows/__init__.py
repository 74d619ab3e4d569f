"""Durable workflows on Temporal: the client, the embedded dev server, and (as domains add
workflows) the worker and human approvals."""

from __future__ import annotations

from bizosaas.kit.module import DomainModule
from bizosaas.workflows.runtime import startup

module = DomainModule(name="workflows", title="Workflows", startup=startup)

__all__ = ["module"]
