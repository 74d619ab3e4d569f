"""The platform lists every enabled module's agent toolsets to a signed-in caller, and a tool
reads only the tenant it acts for."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from bizosaas.kit.db import Database
from bizosaas.kit.module import ToolContext
from bizosaas.kit.tenancy import trusted_scope
from tests.gateway.support import register_account
from tests.support.notes.models import Note
from tests.support.notes.tools import NoteSummary, search_notes

TOOLSETS = "/api/brain/platform/toolsets"


async def test_toolsets_are_listed_for_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    anonymous = await client.get(TOOLSETS)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"

    account = await register_account(client)
    listed = await client.get(TOOLSETS, headers=account.headers)

    assert listed.status_code == 200
    (notes,) = [toolset for toolset in listed.json() if toolset["id"] == "notes"]
    assert (notes["module"], notes["title"]) == ("notes", "Notes")
    (tool,) = notes["tools"]
    assert tool["name"] == "search_notes"
    assert tool["description"].startswith("List the tenant's notes")
    parameters = tool["parameters"]
    assert set(parameters["properties"]) == {"text", "limit"}, "the context is not a parameter"
    assert parameters["properties"]["limit"]["maximum"] == 100
    assert parameters["properties"]["text"]["description"].startswith("Only notes containing")
    assert parameters.get("required", []) == []


async def test_toolsets_endpoint_is_documented(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/api/brain/openapi.json")).json()
    operation = schema["paths"][TOOLSETS]["get"]
    assert operation["summary"] == "The agent toolsets of every enabled module"
    assert "401" in operation["responses"]
    assert "ToolsetDescription" in schema["components"]["schemas"]


async def test_a_tool_reads_only_the_tenant_it_acts_for(app: FastAPI, database: Database) -> None:
    shop, other = uuid.uuid4(), uuid.uuid4()
    for tenant, bodies in ((shop, ["Call the supplier", "Pay rent"]), (other, ["Call home"])):
        async with database.unit_of_work(trusted_scope(tenant)) as session:
            session.add_all(Note(body=body) for body in bodies)
    context = ToolContext(services=app.state.platform.services, scope=trusted_scope(shop))

    everything = await search_notes(context)
    calls = await search_notes(context, text="call")

    assert sorted(note.body for note in everything) == ["Call the supplier", "Pay rent"]
    assert [note.body for note in calls] == ["Call the supplier"]
    assert all(isinstance(note, NoteSummary) for note in calls)
