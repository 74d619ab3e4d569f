"""Where uploaded files live: a small storage interface and its local-folder implementation.

Keys are relative paths made of safe segments (`<tenant>/<image>/600.webp`); a store never
sees a name a client chose. `LocalMediaStore` keeps files under `BIZOSAAS_MEDIA_DIR` (default
`<data dir>/media`), written to a temporary name and renamed, so a reader never sees half a
file. An S3-compatible store implements the same four methods over `put_object`,
`get_object`, `list_objects_v2` + `delete_objects` (boto3 is not a dependency yet, so it is
not shipped; see docs/commerce.md, "Images").
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Protocol

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class InvalidMediaKey(ValueError):
    pass


def check_key(key: str) -> list[str]:
    """The key's segments; `InvalidMediaKey` for anything but safe relative segments."""
    segments = key.split("/")
    if not segments or any(not _SEGMENT.match(s) or s in {".", ".."} for s in segments):
        raise InvalidMediaKey(f"not a media key: {key!r}")
    return segments


class MediaStore(Protocol):
    async def put(self, key: str, data: bytes, *, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None:
        """The file's bytes, or None when there is none."""
        ...

    async def delete_prefix(self, prefix: str) -> None:
        """Remove every file whose key starts with `prefix/`."""
        ...

    async def exists(self, key: str) -> bool: ...


class LocalMediaStore:
    """Files in a folder on this machine (embedded mode, or a shared volume)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key))

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    async def delete_prefix(self, prefix: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self._path(prefix), True)
