"""The navigation of the web apps: the sections the shell defines, filled with the links the
enabled modules declare (`DomainModule.navigation`).

Each app (`admin`, `workspace`) has ordered sections; a module's `NavLink` names its app and
section, and links appear in module mount order. A link to a section the shell does not
define stops start-up. A link is shown when the viewer passes its check (a permission through
`Principal.can`, a set of roles, or platform administration).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bizosaas.kit.auth import Principal
from bizosaas.kit.module import DomainModule, NavLink, WebApp


class NavigationError(ValueError):
    """A module's navigation does not fit the shell (an unknown section, a link added twice)."""


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    planned: tuple[str, ...] = ()
    """Names of areas that will live here once their module ships (shown on the dashboard)."""


SECTIONS: Mapping[WebApp, tuple[Section, ...]] = {
    WebApp.workspace: (
        Section("overview", "Overview"),
        Section("business", "Business", planned=("Commerce", "Content", "CRM", "Campaigns")),
        Section("automation", "Automation", planned=("Agents", "Approvals")),
        Section("organisation", "Organisation"),
        Section("account", "Your account"),
    ),
    WebApp.admin: (
        Section("overview", "Overview"),
        Section("platform", "Platform"),
        Section("records", "Records"),
    ),
}
"""The sections each app's side navigation has, in order. Public pages have no navigation."""


@dataclass(frozen=True, slots=True)
class VisibleSection:
    title: str
    items: tuple[NavLink, ...]


class Navigation:
    """The links of one application, grouped by the shell's sections."""

    def __init__(self, links: Mapping[WebApp, Mapping[str, tuple[NavLink, ...]]]) -> None:
        self._links = links

    @classmethod
    def build(cls, modules: Iterable[DomainModule]) -> Navigation:
        """The navigation of `modules` (in mount order). Raises `NavigationError` for a link
        to a section its app does not have, or a second link to the same page."""
        links: dict[WebApp, dict[str, list[NavLink]]] = {
            app: {section.key: [] for section in sections} for app, sections in SECTIONS.items()
        }
        owners: dict[tuple[WebApp, str], str] = {}
        for module in modules:
            for link in module.navigation:
                sections = links.get(link.app, {})
                if link.section not in sections:
                    known = ", ".join(sections) or "none: it has no navigation"
                    raise NavigationError(
                        f"module {module.name!r} adds the link {link.label!r} ({link.href}) to "
                        f"the {link.app.value} section {link.section!r}, which the web shell "
                        f"does not define (its sections: {known})"
                    )
                owner = owners.get((link.app, link.href))
                if owner is not None:
                    raise NavigationError(
                        f"module {module.name!r} adds a second {link.app.value} link to "
                        f"{link.href} (module {owner!r} already links there)"
                    )
                owners[(link.app, link.href)] = module.name
                sections[link.section].append(link)
        return cls(
            {
                app: {key: tuple(items) for key, items in sections.items()}
                for app, sections in links.items()
            }
        )

    def visible(self, app: WebApp, principal: Principal) -> list[VisibleSection]:
        shown = []
        for section in SECTIONS.get(app, ()):
            items = tuple(i for i in self._links[app][section.key] if i.visible_to(principal))
            if items:
                shown.append(VisibleSection(title=section.title, items=items))
        return shown

    def planned(self, app: WebApp) -> list[tuple[str, tuple[str, ...]]]:
        """Sections that still have areas to come, for the dashboard's roadmap card."""
        result = []
        for section in SECTIONS.get(app, ()):
            shipped = {item.label for item in self._links[app][section.key]}
            waiting = tuple(name for name in section.planned if name not in shipped)
            if waiting:
                result.append((section.title, waiting))
        return result
