"""Identity is the package new domains copy: its queries live in the repository only."""

from __future__ import annotations

import ast
from pathlib import Path

import bizosaas.identity

PACKAGE = Path(bizosaas.identity.__file__).parent
QUERY_BUILDERS = {"select", "update", "delete", "insert"}
SESSION_QUERIES = {"get", "execute", "scalar", "scalars"}


def _query_sites(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    sites = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            sites += [f"imports {a.name}" for a in node.names if a.name in QUERY_BUILDERS]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SESSION_QUERIES
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"session", "connection"}
        ):
            sites.append(f"line {node.lineno}: {node.func.value.id}.{node.func.attr}()")
    return sites


def test_only_the_repository_queries_identity_tables() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): sites
        for path in sorted(PACKAGE.rglob("*.py"))
        if "repository" not in path.relative_to(PACKAGE).parts and (sites := _query_sites(path))
    }
    assert offenders == {}
