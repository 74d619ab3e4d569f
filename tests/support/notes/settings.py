"""The example module's own settings: `BIZOSAAS_NOTES_*`."""

from __future__ import annotations

from pydantic import Field

from bizosaas.kit.module import ModuleSettings


class NotesSettings(ModuleSettings):
    page_size: int = Field(
        default=50, ge=1, le=500, description="Most notes one listing of `/notes` returns."
    )
