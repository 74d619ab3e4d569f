"""The example module's own settings: `BIZOSAAS_NOTES_*`."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class NotesSettings(BaseSettings):
    page_size: int = Field(
        default=50, ge=1, le=500, description="Most notes one listing of `/notes` returns."
    )
