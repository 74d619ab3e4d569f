"""What start-up checks and derives from the enabled modules: the permission catalogue (every
declaration, the role matrix their grants extend) and the refusal of unknown permissions."""

from __future__ import annotations

import pytest

from bizosaas import identity
from bizosaas.kit.contract import ModuleContractError, load_declarations
from bizosaas.kit.module import DomainModule
from bizosaas.kit.permissions import ROLE_GRANTS, PermissionCatalogue, Role
from tests.support import broken_modules, notes


def test_catalogue_merges_every_modules_declarations() -> None:
    catalogue = load_declarations([identity.module, notes.module]).permissions
    assert catalogue.declared["notes.note:read"].module == "notes"
    assert catalogue.describe("notes.note:write") == "Write notes"
    assert catalogue.declared["identity.member:write"].module == "auth"
    assert set(catalogue.declared) == {*identity.module.permissions, *notes.module.permissions}


def test_a_modules_role_grant_extends_the_platform_matrix() -> None:
    with_notes = load_declarations([identity.module, notes.module]).permissions
    without_notes = load_declarations([identity.module]).permissions
    staff = with_notes.permissions_for([Role.staff])
    assert "notes.note:read" in staff
    assert set(ROLE_GRANTS[Role.staff]) <= staff, "the platform's grants are kept"
    assert "notes.note:read" not in without_notes.permissions_for([Role.staff])
    assert with_notes.role_covers(Role.staff, "notes.note:read")
    assert not with_notes.role_covers(Role.staff, "notes.note:write")
    assert not with_notes.role_covers(Role.client, "notes.note:read")
    assert with_notes.permissions_for(["super_admin"]) == frozenset({"*"})
    assert PermissionCatalogue().permissions_for([Role.staff]) == frozenset(ROLE_GRANTS[Role.staff])


@pytest.mark.parametrize(
    ("broken", "place"),
    [
        (broken_modules.route_needs_undeclared, "route GET /api/brain/broken/secret"),
        (broken_modules.page_needs_undeclared, "page GET /app/broken-secrets"),
        (broken_modules.shell_page_needs_undeclared, "page GET /app/broken-vault"),
        (broken_modules.link_needs_undeclared, "navigation link 'Secrets' (/app/secrets)"),
        (broken_modules.grant_undeclared, "role grant to staff"),
    ],
    ids=["route", "page", "workspace-page", "navigation", "role-grant"],
)
def test_an_undeclared_permission_stops_start_up_naming_module_place_and_permission(
    broken: DomainModule, place: str
) -> None:
    with pytest.raises(ModuleContractError) as error:
        load_declarations([identity.module, notes.module, broken])
    message = str(error.value)
    assert f"module 'broken': {place} uses 'broken.secret:read'" in message
    assert "commerce.*:read" not in message, "a pattern may match nothing"
    assert len(message.splitlines()) == 3, message


def test_declaring_the_permission_lets_the_route_through() -> None:
    fixed = DomainModule(
        name="broken",
        router=broken_modules.router,
        permissions={"broken.secret:read": "Read secrets"},
    )
    catalogue = load_declarations([identity.module, fixed]).permissions
    assert catalogue.is_declared("broken.secret:read")


def test_a_permission_declared_twice_is_refused() -> None:
    with pytest.raises(ModuleContractError, match="declared by both module 'auth' and module"):
        load_declarations([identity.module, broken_modules.declares_identity_permission])


@pytest.mark.parametrize(
    ("permissions", "role_grants", "expected"),
    [
        ({"Notes": "x"}, {}, "not of the form <domain>.<resource>:<action>"),
        ({"notes.*:read": "x"}, {}, "not of the form"),
        ({}, {"owner": ["notes.note:read"]}, "grants permissions to the role 'owner'"),
    ],
)
def test_malformed_declarations_are_refused(
    permissions: dict[str, str], role_grants: dict[str, list[str]], expected: str
) -> None:
    module = DomainModule(name="broken", permissions=permissions, role_grants=role_grants)
    with pytest.raises(ModuleContractError, match=expected):
        load_declarations([module])
