"""The pinned locks: `make run` installs requirements.lock (the runtime only), `make test` adds
requirements-dev.lock. Both must be complete, hashed and in step with pyproject.toml, and the
runtime lock must carry no development tool.

The dependency closures are read from the installed packages' metadata, with markers evaluated
for the interpreter and platform the locks are resolved for (scripts/lock.sh)."""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"
APPLICATION_CODE = (ROOT / "src" / "bizosaas", ROOT / "migrations")
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class Pin:
    version: str
    hashes: tuple[str, ...]


def read_lock(path: Path) -> dict[NormalizedName, Pin]:
    """Every requirement of a lock file, which must be `name==version` followed by its hashes."""
    pins: dict[NormalizedName, Pin] = {}
    joined = path.read_text().replace("\\\n", " ")
    for line in joined.splitlines():
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        requirement, *options = fields
        parsed = Requirement(requirement)
        specifiers = list(parsed.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", (
            f"{path.name}: {requirement} is not pinned to one version"
        )
        assert parsed.marker is None and parsed.url is None, f"{path.name}: {requirement}"
        pins[canonicalize_name(parsed.name)] = Pin(specifiers[0].version, tuple(options))
    return pins


def pyproject_dependencies() -> tuple[list[Requirement], list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(line) for line in project["dependencies"]]
    dev = [Requirement(line) for line in project["optional-dependencies"]["dev"]]
    return runtime, dev


def target_environment() -> dict[str, str]:
    """Marker values of the interpreter and platform scripts/lock.sh resolves for."""
    script = (ROOT / "scripts" / "lock.sh").read_text()
    found = re.search(r"^TARGET_PYTHON=(\d+\.\d+)\.(\d+)$", script, re.MULTILINE)
    assert found, "scripts/lock.sh names no TARGET_PYTHON"
    minor, patch = found.groups()
    return {
        "python_version": minor,
        "python_full_version": f"{minor}.{patch}",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "os_name": "posix",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
    }


def dependency_closure(roots: Iterable[Requirement], lock: dict[NormalizedName, Pin]) -> set[str]:
    """The names of the roots and of everything they need on the target, extras included."""
    environment = target_environment()

    def applies(requirement: Requirement, extras: Iterable[str]) -> bool:
        marker = requirement.marker
        return marker is None or any(
            marker.evaluate({**environment, "extra": extra}) for extra in extras
        )

    names: set[str] = set()
    visited: set[tuple[str, frozenset[str]]] = set()
    pending = [root for root in roots if applies(root, [""])]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if (name, frozenset(requirement.extras)) in visited:
            continue
        visited.add((name, frozenset(requirement.extras)))
        names.add(name)
        installed = metadata.version(name)
        if name in lock:
            assert installed == lock[name].version, (
                f"{name} {installed} is installed but the lock pins {lock[name].version}: "
                "reinstall .venv (rm .venv/.installed-*; make test)"
            )
        extras = ["", *requirement.extras]
        pending += [
            dependency
            for line in metadata.requires(name) or []
            if applies(dependency := Requirement(line), extras)
        ]
    return names


RUNTIME_PINS = read_lock(RUNTIME_LOCK)
DEV_PINS = read_lock(DEV_LOCK)
RUNTIME_DEPENDENCIES, DEV_DEPENDENCIES = pyproject_dependencies()


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=lambda path: path.name)
def test_every_pin_carries_a_sha256_hash(lock: Path) -> None:
    pins = read_lock(lock)
    assert pins
    unhashed = [name for name, pin in pins.items() if not pin.hashes]
    malformed = [
        option for pin in pins.values() for option in pin.hashes if not HASH.fullmatch(option)
    ]
    assert unhashed == [], f"{lock.name}: pins without a hash (pip --require-hashes refuses them)"
    assert malformed == []


@pytest.mark.parametrize(
    ("dependencies", "pins"),
    [(RUNTIME_DEPENDENCIES, RUNTIME_PINS), (RUNTIME_DEPENDENCIES + DEV_DEPENDENCIES, DEV_PINS)],
    ids=["runtime", "dev"],
)
def test_every_pyproject_dependency_is_pinned_within_its_range(
    dependencies: list[Requirement], pins: dict[NormalizedName, Pin]
) -> None:
    for dependency in dependencies:
        pin = pins.get(canonicalize_name(dependency.name))
        assert pin is not None, f"{dependency.name} is not in the lock: run make lock"
        assert dependency.specifier.contains(pin.version, prereleases=True), (
            f"{dependency.name}=={pin.version} is outside {dependency}: run make lock"
        )


def test_shared_packages_have_the_same_version_in_both_locks() -> None:
    differing = {
        name: (pin.version, DEV_PINS[name].version)
        for name, pin in RUNTIME_PINS.items()
        if name in DEV_PINS and DEV_PINS[name].version != pin.version
    }
    assert differing == {}
    assert RUNTIME_PINS.keys() <= DEV_PINS.keys(), "the dev lock must hold the runtime set too"


def test_runtime_lock_holds_no_development_tool() -> None:
    runtime_names = {canonicalize_name(r.name) for r in RUNTIME_DEPENDENCIES}
    tools = {canonicalize_name(r.name) for r in DEV_DEPENDENCIES} - runtime_names
    assert tools, "pyproject.toml lists no development dependency"
    assert sorted(tools & RUNTIME_PINS.keys()) == []


def test_runtime_lock_is_exactly_what_the_runtime_dependencies_need() -> None:
    needed = dependency_closure(RUNTIME_DEPENDENCIES, RUNTIME_PINS)
    assert sorted(needed - RUNTIME_PINS.keys()) == [], "missing: make run would fail"
    assert sorted(RUNTIME_PINS.keys() - needed) == [], "pinned but needed by no runtime package"


def test_dev_lock_is_exactly_what_runtime_and_dev_dependencies_need() -> None:
    needed = dependency_closure(RUNTIME_DEPENDENCIES + DEV_DEPENDENCIES, DEV_PINS)
    assert sorted(needed - DEV_PINS.keys()) == [], "missing: make test would fail"
    assert sorted(DEV_PINS.keys() - needed) == [], "pinned but needed by nothing"


def imported_top_level_modules(folder: Path) -> set[str]:
    modules: set[str] = set()
    for source in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(), filename=str(source))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def test_application_code_imports_no_package_that_only_the_dev_lock_installs() -> None:
    dev_only = DEV_PINS.keys() - RUNTIME_PINS.keys()
    providers = metadata.packages_distributions()
    offending = sorted(
        f"{module} (from {distribution})"
        for folder in APPLICATION_CODE
        for module in imported_top_level_modules(folder)
        for distribution in providers.get(module, [])
        if canonicalize_name(distribution) in dev_only
    )
    assert offending == [], "make run installs only requirements.lock: declare these as runtime"
