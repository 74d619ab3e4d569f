"""The dependency rules of docs/architecture.md, checked over the package's import graph.

A change that breaks a rule fails here, naming the file, the import and the rule; the rules
themselves are tested below by adding a forbidden import to the real graph.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "bizosaas"
SOURCE = Path(__file__).resolve().parents[1] / "src" / PACKAGE

SHARED = {"kit", "settings", "__version__"}
"""Importable by every part of the package."""
LAYERS = {"kit", "web", "gateway"}
"""Top-level packages that are not business domains."""
ENTRY_POINTS = {"cli", "modules", "demo", "__main__"}
"""Top-level modules that assemble the platform and may import any part of it."""
DOMAIN_SURFACE = {"service", "schemas", "events"}
"""What one domain may use of another."""


@dataclass(frozen=True, slots=True)
class Import:
    source: str
    """The importing module (`bizosaas.web.shell`)."""
    target: str
    """The imported module or name (`bizosaas.identity.service`)."""
    line: int
    nested: bool
    """Inside a function or class body rather than at module level."""


def module_name(path: Path, root: Path = SOURCE) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_of(path: Path, root: Path) -> Iterator[Import]:
    source = module_name(path, root)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]

    def visit(node: ast.AST, nested: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            )
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield Import(source, alias.name, child.lineno, nested)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in child.names:
                    yield Import(source, f"{base}.{alias.name}", child.lineno, nested)
            else:
                yield from visit(child, inner)

    yield from visit(tree, False)


def package_imports(root: Path = SOURCE) -> list[Import]:
    found = []
    for path in sorted(root.rglob("*.py")):
        found.extend(i for i in _imports_of(path, root) if i.target.startswith(PACKAGE + "."))
    return found


def _top(module: str) -> str:
    """`bizosaas.identity.credentials.tokens` -> `identity`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _domains(root: Path = SOURCE) -> set[str]:
    return {
        path.name
        for path in root.iterdir()
        if path.is_dir() and (path / "__init__.py").exists() and path.name not in LAYERS
    }


def violations(imports: Iterable[Import], domains: set[str]) -> list[str]:
    """Every import that breaks a dependency rule, as `module:line -> target (rule)`."""
    found = []
    for item in imports:
        source, target = _top(item.source), _top(item.target)
        where = f"{item.source}:{item.line} -> {item.target}"
        if item.nested:
            found.append(f"{where} (a function-level import: fix the cycle in the design)")
            continue
        if source == target or target in SHARED or target == "":
            continue
        if source in ENTRY_POINTS:
            continue
        if source == "kit":
            found.append(f"{where} (kit imports no other part of the platform)")
        elif source == "settings":
            found.append(f"{where} (settings import nothing of the platform)")
        elif source == "web":
            found.append(f"{where} (the web shell sits below the domains and imports none)")
        elif source == "gateway":
            if target != "modules":
                found.append(f"{where} (the gateway knows domains only through modules.py)")
        elif source in domains:
            surface = item.target.split(".")[2] if item.target.count(".") >= 2 else ""
            if target == "web":
                continue
            if target in domains and surface in DOMAIN_SURFACE:
                continue
            found.append(
                f"{where} (a domain uses another domain's service, schemas and events only,"
                " the kit and the web shell; never the gateway or the assembly)"
            )
    return found


def test_the_package_keeps_its_dependency_rules() -> None:
    broken = violations(package_imports(), _domains())
    assert broken == [], "\n".join(broken)


# -- the rules themselves ------------------------------------------------------------------------


def _with(extra: Import) -> list[str]:
    return violations([*package_imports(), extra], _domains() | {"commerce"})


@pytest.mark.parametrize(
    ("source", "target", "rule"),
    [
        ("bizosaas.kit.db", "bizosaas.identity.models.User", "kit imports no other part"),
        ("bizosaas.web.shell", "bizosaas.identity.service", "web shell sits below"),
        ("bizosaas.web.forms", "bizosaas.gateway.registry", "web shell sits below"),
        ("bizosaas.gateway.split", "bizosaas.identity.tokens", "gateway knows domains only"),
        ("bizosaas.commerce.service", "bizosaas.identity.models.User", "a domain uses another"),
        ("bizosaas.commerce.service", "bizosaas.identity.repository", "a domain uses another"),
        ("bizosaas.commerce.router", "bizosaas.gateway.app", "a domain uses another"),
        ("bizosaas.identity.service", "bizosaas.modules.enabled_modules", "a domain uses another"),
    ],
)
def test_a_forbidden_import_fails_the_rules(source: str, target: str, rule: str) -> None:
    broken = _with(Import(source, target, 1, nested=False))
    assert any(target in line and rule in line for line in broken), broken


def test_a_function_level_import_fails_the_rules() -> None:
    broken = _with(Import("bizosaas.identity.service", "bizosaas.kit.db.Base", 7, nested=True))
    assert any("function-level import" in line for line in broken), broken


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("bizosaas.commerce.service", "bizosaas.identity.service.me"),
        ("bizosaas.commerce.router", "bizosaas.identity.schemas.UserRead"),
        ("bizosaas.commerce.service", "bizosaas.identity.events.TENANT_CREATED"),
        ("bizosaas.commerce.web", "bizosaas.web.shell.render"),
        ("bizosaas.gateway.platform", "bizosaas.modules.enabled_modules"),
        ("bizosaas.cli", "bizosaas.identity.cli.users_app"),
    ],
)
def test_allowed_imports_pass_the_rules(source: str, target: str) -> None:
    assert _with(Import(source, target, 1, nested=False)) == violations(
        package_imports(), _domains() | {"commerce"}
    )


def test_the_graph_is_read_from_the_source(tmp_path: Path) -> None:
    """The reader sees relative, aliased and nested imports, so the rules cannot be dodged."""
    package = tmp_path / PACKAGE / "web"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "page.py").write_text(
        "from ..identity import service\n"
        "import bizosaas.gateway.app as gw\n"
        "def f():\n    from bizosaas.kit import db\n"
    )
    found = {(i.source, i.target, i.nested) for i in package_imports(tmp_path / PACKAGE)}
    assert ("bizosaas.web.page", "bizosaas.identity.service", False) in found
    assert ("bizosaas.web.page", "bizosaas.gateway.app", False) in found
    assert ("bizosaas.web.page", "bizosaas.kit.db", True) in found
