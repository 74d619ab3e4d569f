"""The mailer sends through SMTP when a server is configured (here a small local one)."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from email import message_from_bytes

import pytest

from bizosaas.identity import service
from bizosaas.identity.records.mail import Mailer
from bizosaas.kit.db import Database
from bizosaas.settings import Settings
from tests.identity.conftest import Register


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: greeting, EHLO, MAIL, RCPT, DATA, QUIT."""

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self._reply("220 test ESMTP")
        recipients: list[str] = []
        while raw := self.rfile.readline():
            command = raw.decode().strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in {"EHLO", "HELO"}:
                self._reply("250 test")
            elif verb == "MAIL":
                self._reply("250 ok")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip("<> "))
                self._reply("250 ok")
            elif verb == "DATA":
                self._reply("354 go ahead")
                data = b""
                while (line := self.rfile.readline()) not in {b".\r\n", b""}:
                    data += line
                self.server.messages.append((recipients, message_from_bytes(data)))  # type: ignore[attr-defined]
                self._reply("250 queued")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("250 ok")


@pytest.fixture
def smtp_server() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(settings: Settings, smtp_server: socketserver.ThreadingTCPServer) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.server_address[1],
            "smtp_starttls": False,
        }
    )


async def test_mail_goes_out_through_smtp(
    register: Register,
    database: Database,
    settings: Settings,
    smtp_server: socketserver.ThreadingTCPServer,
) -> None:
    owner = await register(verified=False, mailer=Mailer(settings=settings, database=database))
    messages = smtp_server.messages  # type: ignore[attr-defined]
    sent = [(to, m) for to, m in messages if to == [owner.email]]
    assert len(sent) == 1
    message = sent[0][1]
    assert message["Subject"] == "Confirm your e-mail address"
    assert "verify-email?token=" in message.get_payload()
    async with database.unit_of_work() as session:
        record = await service.list_mail(session, to=owner.email)
    assert [(r.transport, r.status) for r in record] == [("smtp", "sent")]


async def test_unreachable_smtp_server_is_recorded_as_failed(
    register: Register, database: Database, settings: Settings
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    unreachable = settings.model_copy(update={"smtp_port": closed_port})
    owner = await register(verified=False, mailer=Mailer(settings=unreachable, database=database))
    async with database.unit_of_work() as session:
        record = await service.list_mail(session, to=owner.email)
    assert [(r.transport, r.status) for r in record] == [("smtp", "failed")]
