"""People, companies and leads: create, read, change, delete, list and search, always within
the caller's `Viewer` (a record the tenant's rule hides answers like a missing one)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bizosaas.crm import repository, search
from bizosaas.crm.access import Viewer
from bizosaas.crm.events import PERSON_CREATED, PersonCreated
from bizosaas.crm.exceptions import CrmNotFound
from bizosaas.crm.models import Company, Lead, OwnedRecord, Person, RecordType
from bizosaas.crm.schemas import (
    Address,
    CompanyCreate,
    CompanyRead,
    CompanyUpdate,
    LeadCreate,
    LeadRead,
    LeadUpdate,
    Page,
    PersonCreate,
    PersonRead,
    PersonUpdate,
    SearchHit,
    SearchResults,
)
from bizosaas.crm.service.access import check_members
from bizosaas.crm.service.fields import definitions
from bizosaas.crm.service.values import custom_values, normalise_phones, search_text, unique
from bizosaas.kit.outbox import record_event
from bizosaas.kit.tenancy import bind_tenant

RECORD_TYPES: dict[type[OwnedRecord], RecordType] = {
    Person: RecordType.person,
    Company: RecordType.company,
    Lead: RecordType.lead,
}


async def found(
    session: AsyncSession,
    model: type[repository.RecordT],
    *,
    viewer: Viewer,
    record_id: uuid.UUID,
) -> repository.RecordT:
    """The record, if the viewer may see it; `crm.not_found` otherwise."""
    await bind_tenant(session, viewer.scope)
    record = await repository.get_record(session, model, viewer=viewer, record_id=record_id)
    if record is None:
        raise CrmNotFound(f"No {model.__name__.lower()} {record_id} in this CRM.")
    return record


async def apply_common(
    session: AsyncSession,
    record: OwnedRecord,
    data: Any,
    *,
    viewer: Viewer,
    record_type: RecordType,
    creating: bool,
) -> None:
    """Owner, source, tags and custom values from a create or an update (`data` of either:
    an update changes only the fields it sets)."""
    given = data.model_fields_set
    if creating and "owner_id" not in given:
        record.owner_id = viewer.member_id
    elif "owner_id" in given:
        await check_members(session, scope=viewer.scope, user_ids=[data.owner_id])
        record.owner_id = data.owner_id
    if "source" in given or creating:
        record.source = data.source
    if data.tags is not None:
        record.tags = unique(data.tags)
    if data.custom is not None:
        fields = await definitions(session, scope=viewer.scope, record_type=record_type)
        record.custom = custom_values(
            fields, data.custom, current=None if creating else record.custom
        )
    elif creating:
        fields = await definitions(session, scope=viewer.scope, record_type=record_type)
        record.custom = custom_values(fields, {})


async def check_visible_links(
    session: AsyncSession,
    *,
    viewer: Viewer,
    person_id: uuid.UUID | None = None,
    company_ids: Sequence[uuid.UUID] = (),
) -> None:
    """Records a record points at are ones the caller may see (`crm.not_found` otherwise)."""
    if person_id is not None:
        await found(session, Person, viewer=viewer, record_id=person_id)
    for company_id in company_ids:
        await found(session, Company, viewer=viewer, record_id=company_id)


# -- people ----------------------------------------------------------------------------------


def _person_search_text(person: Person) -> str:
    return search_text(
        person.first_name, person.last_name, *person.emails, *person.phones, *person.tags
    )


async def person_read(session: AsyncSession, person: Person, *, viewer: Viewer) -> PersonRead:
    companies = await repository.company_ids_of(session, scope=viewer.scope, person_ids=[person.id])
    return _person_read(person, companies[person.id])


def _person_read(person: Person, company_ids: list[uuid.UUID]) -> PersonRead:
    return PersonRead(
        id=person.id,
        first_name=person.first_name,
        last_name=person.last_name,
        emails=list(person.emails),
        phones=list(person.phones),
        address=Address.model_validate(person.address) if person.address else None,
        lifecycle_stage=person.lifecycle_stage,
        company_ids=company_ids,
        owner_id=person.owner_id,
        source=person.source,
        tags=list(person.tags),
        custom=dict(person.custom),
        created_at=person.created_at,
        updated_at=person.updated_at,
    )


def refresh_person(person: Person) -> None:
    """The columns derived from a person's fields: sort name, primary e-mail, search text."""
    person.sort_name = f"{person.last_name} {person.first_name}".strip().lower()
    person.primary_email = person.emails[0] if person.emails else None
    person.search_text = _person_search_text(person)


async def create_person(session: AsyncSession, *, viewer: Viewer, data: PersonCreate) -> PersonRead:
    await bind_tenant(session, viewer.scope)
    company_ids = unique(map(str, data.company_ids))
    await check_visible_links(
        session, viewer=viewer, company_ids=[uuid.UUID(c) for c in company_ids]
    )
    person = Person(
        first_name=data.first_name,
        last_name=data.last_name,
        emails=unique(data.emails),
        phones=normalise_phones(data.phones, region=data.phone_region),
        address=data.address.model_dump(exclude_none=True) if data.address else None,
        lifecycle_stage=data.lifecycle_stage,
    )
    await apply_common(
        session, person, data, viewer=viewer, record_type=RecordType.person, creating=True
    )
    refresh_person(person)
    session.add(person)
    await session.flush()
    await repository.set_employments(
        session,
        scope=viewer.scope,
        person_id=person.id,
        company_ids=[uuid.UUID(c) for c in company_ids],
    )
    await session.flush()
    record_event(
        session,
        PERSON_CREATED,
        PersonCreated(person_id=person.id, owner_id=person.owner_id, source=person.source),
    )
    return await person_read(session, person, viewer=viewer)


async def read_person(session: AsyncSession, *, viewer: Viewer, person_id: uuid.UUID) -> PersonRead:
    person = await found(session, Person, viewer=viewer, record_id=person_id)
    return await person_read(session, person, viewer=viewer)


async def update_person(
    session: AsyncSession, *, viewer: Viewer, person_id: uuid.UUID, data: PersonUpdate
) -> PersonRead:
    person = await found(session, Person, viewer=viewer, record_id=person_id)
    given = data.model_fields_set
    if data.first_name is not None:
        person.first_name = data.first_name
    if data.last_name is not None:
        person.last_name = data.last_name
    if data.emails is not None:
        person.emails = unique(data.emails)
    if data.phones is not None:
        person.phones = normalise_phones(data.phones, region=data.phone_region)
    if "address" in given:
        person.address = data.address.model_dump(exclude_none=True) if data.address else None
    if "lifecycle_stage" in given:
        person.lifecycle_stage = data.lifecycle_stage
    await apply_common(
        session, person, data, viewer=viewer, record_type=RecordType.person, creating=False
    )
    if data.company_ids is not None:
        company_ids = [uuid.UUID(c) for c in unique(map(str, data.company_ids))]
        await check_visible_links(session, viewer=viewer, company_ids=company_ids)
        await repository.set_employments(
            session, scope=viewer.scope, person_id=person.id, company_ids=company_ids
        )
    refresh_person(person)
    await session.flush()
    return await person_read(session, person, viewer=viewer)


async def find_people(
    session: AsyncSession, *, viewer: Viewer, query: search.RecordQuery
) -> Page[PersonRead]:
    await bind_tenant(session, viewer.scope)
    fields = await definitions(session, scope=viewer.scope, record_type=RecordType.person)
    people, next_cursor = await search.find(session, Person, query, viewer=viewer, fields=fields)
    companies = await repository.company_ids_of(
        session, scope=viewer.scope, person_ids=[p.id for p in people]
    )
    return Page(items=[_person_read(p, companies[p.id]) for p in people], next_cursor=next_cursor)


# -- companies -------------------------------------------------------------------------------


def company_read(company: Company) -> CompanyRead:
    return CompanyRead(
        id=company.id,
        name=company.name,
        domain=company.domain,
        emails=list(company.emails),
        phones=list(company.phones),
        address=Address.model_validate(company.address) if company.address else None,
        lifecycle_stage=company.lifecycle_stage,
        owner_id=company.owner_id,
        source=company.source,
        tags=list(company.tags),
        custom=dict(company.custom),
        created_at=company.created_at,
        updated_at=company.updated_at,
    )


def _company_search_text(company: Company) -> str:
    return search_text(
        company.name, company.domain, *company.emails, *company.phones, *company.tags
    )


async def create_company(
    session: AsyncSession, *, viewer: Viewer, data: CompanyCreate
) -> CompanyRead:
    await bind_tenant(session, viewer.scope)
    company = Company(
        name=data.name,
        domain=data.domain,
        emails=unique(data.emails),
        phones=normalise_phones(data.phones, region=data.phone_region),
        address=data.address.model_dump(exclude_none=True) if data.address else None,
        lifecycle_stage=data.lifecycle_stage,
    )
    await apply_common(
        session, company, data, viewer=viewer, record_type=RecordType.company, creating=True
    )
    company.search_text = _company_search_text(company)
    session.add(company)
    await session.flush()
    return company_read(company)


async def read_company(
    session: AsyncSession, *, viewer: Viewer, company_id: uuid.UUID
) -> CompanyRead:
    return company_read(await found(session, Company, viewer=viewer, record_id=company_id))


async def update_company(
    session: AsyncSession, *, viewer: Viewer, company_id: uuid.UUID, data: CompanyUpdate
) -> CompanyRead:
    company = await found(session, Company, viewer=viewer, record_id=company_id)
    given = data.model_fields_set
    if data.name is not None:
        company.name = data.name
    if "domain" in given:
        company.domain = data.domain
    if data.emails is not None:
        company.emails = unique(data.emails)
    if data.phones is not None:
        company.phones = normalise_phones(data.phones, region=data.phone_region)
    if "address" in given:
        company.address = data.address.model_dump(exclude_none=True) if data.address else None
    if "lifecycle_stage" in given:
        company.lifecycle_stage = data.lifecycle_stage
    await apply_common(
        session, company, data, viewer=viewer, record_type=RecordType.company, creating=False
    )
    company.search_text = _company_search_text(company)
    await session.flush()
    return company_read(company)


async def find_companies(
    session: AsyncSession, *, viewer: Viewer, query: search.RecordQuery
) -> Page[CompanyRead]:
    await bind_tenant(session, viewer.scope)
    fields = await definitions(session, scope=viewer.scope, record_type=RecordType.company)
    rows, next_cursor = await search.find(session, Company, query, viewer=viewer, fields=fields)
    return Page(items=[company_read(c) for c in rows], next_cursor=next_cursor)


# -- leads -----------------------------------------------------------------------------------


def lead_read(lead: Lead) -> LeadRead:
    return LeadRead(
        id=lead.id,
        title=lead.title,
        status=lead.status,
        person_id=lead.person_id,
        company_id=lead.company_id,
        owner_id=lead.owner_id,
        source=lead.source,
        tags=list(lead.tags),
        custom=dict(lead.custom),
        created_at=lead.created_at,
        updated_at=lead.updated_at,
    )


async def create_lead(session: AsyncSession, *, viewer: Viewer, data: LeadCreate) -> LeadRead:
    await bind_tenant(session, viewer.scope)
    await check_visible_links(
        session,
        viewer=viewer,
        person_id=data.person_id,
        company_ids=[data.company_id] if data.company_id else [],
    )
    lead = Lead(
        title=data.title, status=data.status, person_id=data.person_id, company_id=data.company_id
    )
    await apply_common(
        session, lead, data, viewer=viewer, record_type=RecordType.lead, creating=True
    )
    lead.search_text = search_text(lead.title, *lead.tags)
    session.add(lead)
    await session.flush()
    return lead_read(lead)


async def read_lead(session: AsyncSession, *, viewer: Viewer, lead_id: uuid.UUID) -> LeadRead:
    return lead_read(await found(session, Lead, viewer=viewer, record_id=lead_id))


async def update_lead(
    session: AsyncSession, *, viewer: Viewer, lead_id: uuid.UUID, data: LeadUpdate
) -> LeadRead:
    lead = await found(session, Lead, viewer=viewer, record_id=lead_id)
    given = data.model_fields_set
    if data.title is not None:
        lead.title = data.title
    if data.status is not None:
        lead.status = data.status
    if "person_id" in given:
        await check_visible_links(session, viewer=viewer, person_id=data.person_id)
        lead.person_id = data.person_id
    if "company_id" in given:
        await check_visible_links(
            session, viewer=viewer, company_ids=[data.company_id] if data.company_id else []
        )
        lead.company_id = data.company_id
    await apply_common(
        session, lead, data, viewer=viewer, record_type=RecordType.lead, creating=False
    )
    lead.search_text = search_text(lead.title, *lead.tags)
    await session.flush()
    return lead_read(lead)


async def find_leads(
    session: AsyncSession, *, viewer: Viewer, query: search.RecordQuery
) -> Page[LeadRead]:
    await bind_tenant(session, viewer.scope)
    fields = await definitions(session, scope=viewer.scope, record_type=RecordType.lead)
    rows, next_cursor = await search.find(session, Lead, query, viewer=viewer, fields=fields)
    return Page(items=[lead_read(lead) for lead in rows], next_cursor=next_cursor)


# -- deleting and searching any record -------------------------------------------------------


async def delete_record(
    session: AsyncSession, model: type[OwnedRecord], *, viewer: Viewer, record_id: uuid.UUID
) -> None:
    """The record goes with its activities and notes (links to it from other records are
    cleared by the database)."""
    record = await found(session, model, viewer=viewer, record_id=record_id)
    record_type = RECORD_TYPES.get(model, RecordType.deal)
    await repository.delete_about_record(
        session, scope=viewer.scope, record_type=record_type, record_id=record.id
    )
    await session.delete(record)
    await session.flush()


def _title(record: Any) -> str:
    if isinstance(record, Person):
        return f"{record.first_name} {record.last_name}".strip() or (record.primary_email or "")
    return str(getattr(record, "name", None) or getattr(record, "title", ""))


async def search_everything(
    session: AsyncSession, *, viewer: Viewer, text: str, limit: int
) -> SearchResults:
    """Full text across people, companies, leads and deals the viewer sees, up to `limit` of
    each type, best sorted by name."""
    await bind_tenant(session, viewer.scope)
    hits: list[SearchHit] = []
    if not search.words(text):
        return SearchResults(hits=hits)
    for record_type, model in search.MODELS.items():
        rows, _ = await search.find(
            session, model, search.RecordQuery(text=text, limit=limit), viewer=viewer, fields={}
        )
        hits += [SearchHit(record_type=record_type, id=row.id, title=_title(row)) for row in rows]
    return SearchResults(hits=hits)
