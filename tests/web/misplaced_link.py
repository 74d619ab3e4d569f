"""A module whose navigation names a workspace section the web shell does not define."""

from __future__ import annotations

from bizosaas.kit.module import DomainModule, NavLink, WebApp

module = DomainModule(
    name="misplaced",
    title="Misplaced link (test module)",
    navigation=[NavLink(WebApp.workspace, "sales", "Deals", "/app/deals")],
)
