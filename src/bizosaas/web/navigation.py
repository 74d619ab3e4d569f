"""The navigation model of the web apps: which pages each app has and who may see them.

Each app (`admin`, `workspace`) has ordered sections; a section holds items. Domain modules add
their pages with `NAVIGATION.add(...)` from their `web.py` at import time, so the shell never
names a domain. An item is shown when the viewer passes its check (a permission through
`Principal.can`, a set of roles, or platform administration).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from bizosaas.kit.auth import Principal


class App(StrEnum):
    admin = "admin"
    workspace = "workspace"


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    permission: str | None = None
    """Shown only to a viewer whose principal `can()` this permission."""
    roles: frozenset[str] = frozenset()
    """Shown only to a viewer holding one of these roles (empty: any role)."""
    super_admin: bool = False
    icon: str = "dot"
    """Name of an icon in the shell's sprite (templates/icons.html)."""

    def visible_to(self, principal: Principal) -> bool:
        if self.super_admin and not principal.is_super_admin:
            return False
        if self.roles and not (self.roles & principal.roles) and not principal.is_super_admin:
            return False
        return self.permission is None or principal.can(self.permission)

    def is_current(self, path: str) -> bool:
        root = self.href.rstrip("/")
        if root in {"/app", "/admin"}:
            return path.rstrip("/") == root
        return path == root or path.startswith(root + "/")


@dataclass(slots=True)
class NavSection:
    key: str
    title: str
    items: list[NavItem] = field(default_factory=list)
    planned: tuple[str, ...] = ()
    """Names of areas that will live here once their module ships (shown on the dashboard)."""


@dataclass(frozen=True, slots=True)
class VisibleSection:
    title: str
    items: tuple[NavItem, ...]


class Navigation:
    def __init__(self) -> None:
        self._apps: dict[App, list[NavSection]] = {app: [] for app in App}

    def section(self, app: App, key: str, title: str, *, planned: Iterable[str] = ()) -> NavSection:
        for existing in self._apps[app]:
            if existing.key == key:
                return existing
        created = NavSection(key=key, title=title, planned=tuple(planned))
        self._apps[app].append(created)
        return created

    def add(self, app: App, section: str, item: NavItem) -> None:
        """Add `item` to an existing section of `app` (domains call this from their web.py)."""
        for existing in self._apps[app]:
            if existing.key == section:
                if all(i.href != item.href for i in existing.items):
                    existing.items.append(item)
                return
        raise KeyError(f"{app} has no navigation section {section!r}")

    def visible(self, app: App, principal: Principal) -> list[VisibleSection]:
        shown = []
        for section in self._apps[app]:
            items = tuple(item for item in section.items if item.visible_to(principal))
            if items:
                shown.append(VisibleSection(title=section.title, items=items))
        return shown

    def planned(self, app: App) -> list[tuple[str, tuple[str, ...]]]:
        """Sections that still have areas to come, for the dashboard's roadmap card."""
        result = []
        for section in self._apps[app]:
            shipped = {item.label for item in section.items}
            waiting = tuple(name for name in section.planned if name not in shipped)
            if waiting:
                result.append((section.title, waiting))
        return result

    def can_open(self, app: App, principal: Principal, href: str) -> bool:
        return any(
            item.href == href and item.visible_to(principal)
            for section in self._apps[app]
            for item in section.items
        )


NAVIGATION = Navigation()
