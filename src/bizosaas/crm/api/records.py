"""People, companies, leads, and the search across record types."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from bizosaas.crm.api.common import LIST_ERRORS, RECORD_ERRORS, errors, record_query, viewer_of
from bizosaas.crm.auth import ContactReader, ContactWriter
from bizosaas.crm.models import Company, Lead, Person
from bizosaas.crm.schemas import (
    CompanyCreate,
    CompanyRead,
    CompanyUpdate,
    DuplicateRead,
    LeadCreate,
    LeadRead,
    LeadUpdate,
    Page,
    PersonCreate,
    PersonMerge,
    PersonRead,
    PersonUpdate,
    SearchResults,
)
from bizosaas.crm.search import RecordQuery
from bizosaas.crm.service import duplicates, records
from bizosaas.kit.auth import TenantSession
from bizosaas.kit.text import SingleLine

router = APIRouter(tags=["crm: people, companies, leads"])
Query_ = Annotated[RecordQuery, Depends(record_query)]
WRITE_ERRORS = errors(status_422=RECORD_ERRORS)


@router.get("/search", summary="Full text across people, companies, leads and deals")
async def search_records(
    principal: ContactReader,
    session: TenantSession,
    q: Annotated[SingleLine, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SearchResults:
    viewer = await viewer_of(session, principal)
    return await records.search_everything(session, viewer=viewer, text=q, limit=limit)


# -- people ----------------------------------------------------------------------------------


@router.get(
    "/people", summary="Find people: full text, filters, sort, keyset pages", responses=LIST_ERRORS
)
async def list_people(
    principal: ContactReader, session: TenantSession, query: Query_
) -> Page[PersonRead]:
    viewer = await viewer_of(session, principal)
    return await records.find_people(session, viewer=viewer, query=query)


@router.post("/people", status_code=201, summary="Add a person", responses=WRITE_ERRORS)
async def create_person(
    data: PersonCreate, principal: ContactWriter, session: TenantSession
) -> PersonRead:
    viewer = await viewer_of(session, principal)
    return await records.create_person(session, viewer=viewer, data=data)


@router.get("/people/{person_id}", summary="One person", responses=errors())
async def read_person(
    person_id: uuid.UUID, principal: ContactReader, session: TenantSession
) -> PersonRead:
    viewer = await viewer_of(session, principal)
    return await records.read_person(session, viewer=viewer, person_id=person_id)


@router.patch("/people/{person_id}", summary="Change a person", responses=WRITE_ERRORS)
async def update_person(
    person_id: uuid.UUID, data: PersonUpdate, principal: ContactWriter, session: TenantSession
) -> PersonRead:
    viewer = await viewer_of(session, principal)
    return await records.update_person(session, viewer=viewer, person_id=person_id, data=data)


@router.delete(
    "/people/{person_id}", status_code=204, summary="Delete a person", responses=errors()
)
async def delete_person(
    person_id: uuid.UUID, principal: ContactWriter, session: TenantSession
) -> Response:
    viewer = await viewer_of(session, principal)
    await records.delete_record(session, Person, viewer=viewer, record_id=person_id)
    return Response(status_code=204)


@router.get(
    "/people/{person_id}/duplicates",
    summary="Likely duplicates: the same e-mail or phone, or a similar name in a shared company",
    responses=errors(),
)
async def person_duplicates(
    person_id: uuid.UUID, principal: ContactReader, session: TenantSession
) -> list[DuplicateRead]:
    viewer = await viewer_of(session, principal)
    return await duplicates.find_duplicates(session, viewer=viewer, person_id=person_id)


@router.post(
    "/people/{person_id}/merge",
    summary="Fold another person into this one, keeping every timeline item, lead and deal",
    responses=errors(status_422="`crm.invalid_merge`: merging a person into themselves"),
)
async def merge_person(
    person_id: uuid.UUID, data: PersonMerge, principal: ContactWriter, session: TenantSession
) -> PersonRead:
    viewer = await viewer_of(session, principal)
    return await duplicates.merge_people(
        session, viewer=viewer, person_id=person_id, other_id=data.other_id
    )


# -- companies -------------------------------------------------------------------------------


@router.get("/companies", summary="Find companies", responses=LIST_ERRORS)
async def list_companies(
    principal: ContactReader, session: TenantSession, query: Query_
) -> Page[CompanyRead]:
    viewer = await viewer_of(session, principal)
    return await records.find_companies(session, viewer=viewer, query=query)


@router.post("/companies", status_code=201, summary="Add a company", responses=WRITE_ERRORS)
async def create_company(
    data: CompanyCreate, principal: ContactWriter, session: TenantSession
) -> CompanyRead:
    viewer = await viewer_of(session, principal)
    return await records.create_company(session, viewer=viewer, data=data)


@router.get("/companies/{company_id}", summary="One company", responses=errors())
async def read_company(
    company_id: uuid.UUID, principal: ContactReader, session: TenantSession
) -> CompanyRead:
    viewer = await viewer_of(session, principal)
    return await records.read_company(session, viewer=viewer, company_id=company_id)


@router.patch("/companies/{company_id}", summary="Change a company", responses=WRITE_ERRORS)
async def update_company(
    company_id: uuid.UUID, data: CompanyUpdate, principal: ContactWriter, session: TenantSession
) -> CompanyRead:
    viewer = await viewer_of(session, principal)
    return await records.update_company(session, viewer=viewer, company_id=company_id, data=data)


@router.delete(
    "/companies/{company_id}", status_code=204, summary="Delete a company", responses=errors()
)
async def delete_company(
    company_id: uuid.UUID, principal: ContactWriter, session: TenantSession
) -> Response:
    viewer = await viewer_of(session, principal)
    await records.delete_record(session, Company, viewer=viewer, record_id=company_id)
    return Response(status_code=204)


# -- leads -----------------------------------------------------------------------------------


@router.get("/leads", summary="Find leads", responses=LIST_ERRORS)
async def list_leads(
    principal: ContactReader, session: TenantSession, query: Query_
) -> Page[LeadRead]:
    viewer = await viewer_of(session, principal)
    return await records.find_leads(session, viewer=viewer, query=query)


@router.post("/leads", status_code=201, summary="Add a lead", responses=WRITE_ERRORS)
async def create_lead(
    data: LeadCreate, principal: ContactWriter, session: TenantSession
) -> LeadRead:
    viewer = await viewer_of(session, principal)
    return await records.create_lead(session, viewer=viewer, data=data)


@router.get("/leads/{lead_id}", summary="One lead", responses=errors())
async def read_lead(
    lead_id: uuid.UUID, principal: ContactReader, session: TenantSession
) -> LeadRead:
    viewer = await viewer_of(session, principal)
    return await records.read_lead(session, viewer=viewer, lead_id=lead_id)


@router.patch("/leads/{lead_id}", summary="Change a lead", responses=WRITE_ERRORS)
async def update_lead(
    lead_id: uuid.UUID, data: LeadUpdate, principal: ContactWriter, session: TenantSession
) -> LeadRead:
    viewer = await viewer_of(session, principal)
    return await records.update_lead(session, viewer=viewer, lead_id=lead_id, data=data)


@router.delete("/leads/{lead_id}", status_code=204, summary="Delete a lead", responses=errors())
async def delete_lead(
    lead_id: uuid.UUID, principal: ContactWriter, session: TenantSession
) -> Response:
    viewer = await viewer_of(session, principal)
    await records.delete_record(session, Lead, viewer=viewer, record_id=lead_id)
    return Response(status_code=204)
