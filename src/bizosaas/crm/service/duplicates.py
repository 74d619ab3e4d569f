"""Duplicate people and merging them.

A person's likely duplicates are the people the caller may see who share one of their e-mail
addresses or phone numbers (both are stored normalised, so `Ada@Example.com` and
`ada@example.com`, or `020 8366 1177` and `+44 20 8366 1177`, match), or whose name is close
to theirs (a similarity ratio of at least `NAME_SIMILARITY`, `difflib`'s) within a company they
share. Merging keeps the survivor and folds the other into it: every timeline item (activities,
notes, other domains' events) and every lead and deal moves over, e-mails, phones, tags and companies are united,
fields the survivor lacks are filled, and the other person is deleted, in one transaction.
"""

from __future__ import annotations

import uuid
from difflib import SequenceMatcher

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.crm import repository, search
from bizosaas.crm.access import Viewer
from bizosaas.crm.exceptions import InvalidMerge
from bizosaas.crm.models import (
    Activity,
    Deal,
    Employment,
    ExternalEvent,
    Lead,
    Note,
    Person,
    RecordType,
)
from bizosaas.crm.schemas import DuplicateRead, PersonRead
from bizosaas.crm.service.records import found, person_read, refresh_person
from bizosaas.crm.service.values import unique

NAME_SIMILARITY = 0.85
MAX_CANDIDATES = 200


def _name(person: Person) -> str:
    return f"{person.first_name} {person.last_name}".strip().lower()


async def find_duplicates(
    session: AsyncSession, *, viewer: Viewer, person_id: uuid.UUID
) -> list[DuplicateRead]:
    person = await found(session, Person, viewer=viewer, record_id=person_id)
    reasons: dict[uuid.UUID, list[str]] = {}
    filters = [f"email:eq:{email}" for email in person.emails]
    filters += [f"phone:eq:{phone}" for phone in person.phones]
    for raw in filters:
        query = search.RecordQuery(filters=(raw,), limit=MAX_CANDIDATES)
        rows, _ = await search.find(session, Person, query, viewer=viewer, fields={})
        for row in rows:
            if row.id != person.id:
                reasons.setdefault(row.id, []).append(
                    raw.split(":", 2)[0] + " " + raw.split(":", 2)[2]
                )
    companies = (
        await repository.company_ids_of(session, scope=viewer.scope, person_ids=[person.id])
    )[person.id]
    if companies and _name(person):
        colleagues = await session.scalars(
            select(Person)
            .where(
                Person.tenant_id == viewer.scope.tenant_id,
                Person.id.in_(
                    select(Employment.person_id).where(Employment.company_id.in_(companies))
                ),
                Person.id != person.id,
                viewer.clause(Person),
            )
            .order_by(Person.id)
            .limit(MAX_CANDIDATES)
        )
        for colleague in colleagues:
            ratio = SequenceMatcher(None, _name(person), _name(colleague)).ratio()
            if ratio >= NAME_SIMILARITY:
                reasons.setdefault(colleague.id, []).append("similar name in a shared company")
    duplicates = []
    for other_id, why in reasons.items():
        other = await found(session, Person, viewer=viewer, record_id=other_id)
        duplicates.append(
            DuplicateRead(person=await person_read(session, other, viewer=viewer), reasons=why)
        )
    return sorted(duplicates, key=lambda d: (-len(d.reasons), str(d.person.id)))


async def merge_people(
    session: AsyncSession, *, viewer: Viewer, person_id: uuid.UUID, other_id: uuid.UUID
) -> PersonRead:
    """Fold `other_id` into `person_id` (both visible to the caller); see the module doc."""
    if person_id == other_id:
        raise InvalidMerge("Name another person to merge into this one.")
    survivor = await found(session, Person, viewer=viewer, record_id=person_id)
    other = await found(session, Person, viewer=viewer, record_id=other_id)
    scope = viewer.scope
    for model in (Activity, Note, ExternalEvent):
        await session.execute(
            update(model)
            .where(
                model.tenant_id == scope.tenant_id,
                model.record_type == RecordType.person,
                model.record_id == other.id,
            )
            .values(record_id=survivor.id)
        )
    for linked in (Lead, Deal):
        await session.execute(
            update(linked)
            .where(linked.tenant_id == scope.tenant_id, linked.person_id == other.id)
            .values(person_id=survivor.id)
        )
    companies = await repository.company_ids_of(
        session, scope=scope, person_ids=[survivor.id, other.id]
    )
    survivor.emails = unique([*survivor.emails, *other.emails])
    survivor.phones = unique([*survivor.phones, *other.phones])
    survivor.tags = unique([*survivor.tags, *other.tags])
    survivor.first_name = survivor.first_name or other.first_name
    survivor.last_name = survivor.last_name or other.last_name
    survivor.address = survivor.address or other.address
    survivor.lifecycle_stage = survivor.lifecycle_stage or other.lifecycle_stage
    survivor.source = survivor.source or other.source
    survivor.owner_id = survivor.owner_id or other.owner_id
    survivor.custom = {**other.custom, **survivor.custom}
    await session.delete(other)
    await session.flush()
    await repository.set_employments(
        session,
        scope=scope,
        person_id=survivor.id,
        company_ids=[
            uuid.UUID(c) for c in unique(map(str, [*companies[survivor.id], *companies[other.id]]))
        ],
    )
    refresh_person(survivor)
    await session.flush()
    return await person_read(session, survivor, viewer=viewer)
