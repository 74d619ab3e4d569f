"""Typed events: a payload is checked against its event's schema before anything is written,
handlers get the typed payload back, and start-up refuses modules that contradict each other."""

from __future__ import annotations

import functools
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import func, select
from structlog.testing import capture_logs

from bizosaas.gateway.platform import Platform
from bizosaas.identity.events import MailRequested
from bizosaas.kit.cache import MemoryCache
from bizosaas.kit.catalog import events_markdown
from bizosaas.kit.contract import ModuleContractError, check_events_and_toolsets
from bizosaas.kit.db import Database
from bizosaas.kit.events import Event, InProcessEventBus
from bizosaas.kit.module import DomainModule, EventType, InvalidEventPayload, Services, Toolset
from bizosaas.kit.outbox import OutboxEvent, OutboxRelay, record_event
from bizosaas.kit.tenancy import trusted_scope
from bizosaas.modules import BUILTIN_MODULES
from bizosaas.settings import Settings
from tests.support import notes, processes
from tests.support.notes.events import NOTE_CREATED, NoteCreated
from tests.support.notes.models import Note
from tests.support.notes.tools import toolset as notes_toolset

TENANT = uuid.UUID("0195f3a0-0000-7000-8000-0000000000f1")


async def _outbox_rows(database: Database) -> int:
    async with database.unit_of_work() as session:
        query = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.tenant_id == TENANT)
        return int(await session.scalar(query) or 0)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (MailRequested(to="a@example.com", subject="s", body="b"), "takes a NoteCreated payload"),
        ({"note_id": str(uuid.uuid4()), "body": "a dict"}, "not dict"),
        (NoteCreated.model_construct(note_id="not-a-uuid", body="x"), "invalid notes.created"),
        (NoteCreated.model_construct(note_id=uuid.uuid4(), body="x" * 501), "at most 500"),
    ],
    ids=["other-schema", "dict", "bad-uuid", "too-long"],
)
async def test_bad_payload_is_refused_and_nothing_is_written(
    database: Database, payload: Any, message: str
) -> None:
    async with database.unit_of_work(trusted_scope(TENANT)) as session:
        note = Note(body="kept")
        session.add(note)
        await session.flush()
        with pytest.raises(InvalidEventPayload, match=message):
            record_event(session, NOTE_CREATED, payload)
    # The transaction went on and committed its note, without any event.
    async with database.unit_of_work(trusted_scope(TENANT)) as session:
        assert await session.scalar(select(Note.body).where(Note.id == note.id)) == "kept"
    assert await _outbox_rows(database) == 0


async def test_handler_receives_the_typed_payload_through_the_relay(
    database: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivery_log = tmp_path / "deliveries.log"
    monkeypatch.setenv(notes.DELIVERY_LOG_ENV, str(delivery_log))
    received: list[NoteCreated] = []

    async def typed(event: Event) -> None:
        if event.tenant_id == TENANT:
            received.append(NOTE_CREATED.parse(event))

    bus = InProcessEventBus()
    services = Services(
        settings=settings, database=database, cache=MemoryCache(), bus=bus, redis=None
    )
    for pattern, handler in notes.module.event_handlers.items():
        bus.subscribe(pattern, functools.partial(handler, services=services))
    bus.subscribe(NOTE_CREATED.name, typed)
    async with database.unit_of_work(trusted_scope(TENANT)) as session:
        note = Note(body="typed")
        session.add(note)
        await session.flush()
        written = NoteCreated(note_id=note.id, body=note.body)
        row = record_event(session, NOTE_CREATED, written)
    assert row.payload == {"note_id": str(note.id), "body": "typed"}, "stored as JSON"

    await OutboxRelay(database, bus).drain()

    assert received == [written]
    assert isinstance(received[0].note_id, uuid.UUID)
    assert f"{row.id} {note.id}\n" in delivery_log.read_text(), "the module's handler ran"


def test_parse_refuses_an_event_of_another_type() -> None:
    event = Event(id=uuid.uuid4(), name="notes.deleted", occurred_at=datetime.now(UTC))
    with pytest.raises(ValueError, match=r"not notes\.created"):
        NOTE_CREATED.parse(event)


class Ping(BaseModel):
    n: int


async def _ignore(_event: Event, _services: Services) -> None:
    return None


def test_event_names_read_domain_dot_event() -> None:
    with pytest.raises(ValueError, match=r"<domain>\.<event>"):
        EventType("NoDomain", Ping)


def test_handler_of_an_undeclared_event_stops_start_up() -> None:
    typo = DomainModule(name="typo", event_handlers={"notes.craeted": _ignore})
    with pytest.raises(
        ModuleContractError, match=r"typo handles 'notes.craeted'.*no module declares"
    ):
        check_events_and_toolsets([notes.module, typo])
    patterns = DomainModule(name="patterns", event_handlers={"notes.*": _ignore})
    check_events_and_toolsets([notes.module, patterns])  # patterns are not checked
    exact = DomainModule(name="exact", event_handlers={"notes.created": _ignore})
    check_events_and_toolsets([notes.module, exact])


def test_handler_of_an_event_whose_module_is_disabled_is_a_warning() -> None:
    consumer = DomainModule(name="consumer", event_handlers={"notes.created": _ignore})
    with capture_logs() as logs:
        check_events_and_toolsets([consumer], disabled=[notes.module])
    assert {"event": "event_producer_disabled", "module": "consumer"}.items() <= logs[0].items()


def test_events_and_toolsets_are_unique_across_modules() -> None:
    again = DomainModule(name="again", events=[EventType("notes.created", Ping)])
    with pytest.raises(ModuleContractError, match=r"notes\.created is declared by both"):
        check_events_and_toolsets([notes.module, again])
    tools = DomainModule(
        name="tools", toolsets=[Toolset(id="notes", title="Copy", description="A copy.")]
    )
    with pytest.raises(ModuleContractError, match="toolset 'notes' is declared by both"):
        check_events_and_toolsets([notes.module, tools])
    assert notes_toolset in notes.module.toolsets


DUPLICATE_TOOLSET = DomainModule(
    name="duplicate", toolsets=[Toolset(id="notes", title="Copy", description="A copy.")]
)


def test_a_duplicate_toolset_id_stops_start_up() -> None:
    settings = Settings(
        extra_modules=[
            "tests.support.notes:module",
            "tests.kit.test_typed_events:DUPLICATE_TOOLSET",
        ]
    )
    with pytest.raises(ModuleContractError, match="toolset 'notes' is declared by both"):
        Platform.build(settings)


def test_events_reference_is_current(repo_root: Path) -> None:
    document = (repo_root / "docs" / "events.md").read_text()
    assert document == events_markdown(BUILTIN_MODULES), (
        "run: bizosaas events --markdown > docs/events.md"
    )
    assert "### `identity.member_joined`" in document
    assert '"format": "uuid"' in document


def test_events_command_prints_the_reference(
    subprocess_env: dict[str, str], tmp_path: Path
) -> None:
    result = subprocess.run(
        [processes.BIZOSAAS, "events", "--markdown"],
        check=False,
        env={**subprocess_env, "BIZOSAAS_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == events_markdown(BUILTIN_MODULES)
