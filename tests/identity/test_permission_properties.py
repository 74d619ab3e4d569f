"""Properties of the permission matrix that must hold for every permission, not just the ones
a hand-written test happens to name: admins can everything, clients only their own records,
more roles never take a permission away, unknown roles give nothing, and the matrix's
`covers` agrees with the check requests actually go through (`Principal.can`)."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from bizosaas.identity.models import SUPER_ADMIN_ROLE
from bizosaas.identity.permissions import ROLE_GRANTS, ROLES, covers, permissions_for
from bizosaas.kit.auth import Principal, PrincipalKind

SEGMENT_ALPHABET = "abcdefghijklmnopqrstuvwxyz_"
DOMAINS = ("commerce", "crm", "cms", "campaigns", "directory", "analytics", "workflows")
RESOURCES = ("own", "order", "contact", "page", "member", "invitation", "api_key", "approval")
ACTIONS = ("read", "write", "approve", "publish", "delete")

segment = st.text(SEGMENT_ALPHABET, min_size=1, max_size=10)


def part(known: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Names the matrix mentions (where the interesting cases are) or any other name."""
    return st.one_of(st.sampled_from(known), segment)


# A concrete permission, as an endpoint requires it: `<domain>.<resource>:<action>`.
permissions = st.builds(
    "{}.{}:{}".format,
    part((*DOMAINS, "identity", "agents")),
    part(RESOURCES),
    part(ACTIONS),
)
# A grant pattern: any mix of names, separators and `*`.
grant_patterns = st.lists(
    st.one_of(segment, st.sampled_from(["*", ".", ":", "own", "read"])), min_size=1, max_size=6
).map("".join)
known_roles = st.sampled_from(ROLES)
unknown_roles = segment.filter(lambda name: name not in ROLES and name != SUPER_ADMIN_ROLE)
any_roles = st.lists(st.one_of(known_roles, unknown_roles, st.just(SUPER_ADMIN_ROLE)))

ROLE_LADDER = ("client", "staff", "manager", "tenant_admin")
"""Each role can do everything the one before it can."""


def principal(*, granted: frozenset[str], super_admin: bool = False) -> Principal:
    return Principal(
        subject=uuid.uuid4(),
        kind=PrincipalKind.user,
        scope=None,
        permissions=granted,
        is_super_admin=super_admin,
    )


def test_the_ladder_names_every_role() -> None:
    assert sorted(ROLE_LADDER) == sorted(ROLES) == sorted(ROLE_GRANTS)


@given(permissions)
def test_tenant_admins_and_super_admins_can_everything(permission: str) -> None:
    assert covers(permissions_for(["tenant_admin"]), permission)
    assert covers(permissions_for([SUPER_ADMIN_ROLE]), permission)
    assert principal(granted=frozenset(), super_admin=True).can(permission)


@given(permissions)
def test_a_client_can_only_read_and_write_its_own_records(permission: str) -> None:
    _, _, rest = permission.partition(".")
    resource, _, action = rest.partition(":")
    allowed = resource == "own" and action in ("read", "write")
    assert covers(permissions_for(["client"]), permission) is allowed
    assert principal(granted=permissions_for(["client"])).can(permission) is allowed


@given(st.lists(grant_patterns, max_size=5), permissions)
def test_covers_agrees_with_the_principal_check(grants: list[str], permission: str) -> None:
    assert covers(grants, permission) is principal(granted=frozenset(grants)).can(permission)


@given(st.lists(known_roles), st.lists(known_roles), permissions)
def test_more_roles_never_take_a_permission_away(
    roles: list[str], more: list[str], permission: str
) -> None:
    fewer_grants = permissions_for(roles)
    more_grants = permissions_for(roles + more)
    assert fewer_grants <= more_grants
    if covers(fewer_grants, permission):
        assert covers(more_grants, permission)


@given(st.integers(0, len(ROLE_LADDER) - 2), permissions)
def test_each_role_can_what_the_role_below_it_can(rank: int, permission: str) -> None:
    lower, higher = ROLE_LADDER[rank], ROLE_LADDER[rank + 1]
    if covers(permissions_for([lower]), permission):
        assert covers(permissions_for([higher]), permission), (lower, higher)


@given(any_roles, st.lists(unknown_roles, min_size=1), permissions)
def test_unknown_roles_grant_nothing(roles: list[str], unknown: list[str], permission: str) -> None:
    assert permissions_for(unknown) == frozenset()
    assert not principal(granted=permissions_for(unknown)).can(permission)
    assert permissions_for(roles + unknown) == permissions_for(roles)
