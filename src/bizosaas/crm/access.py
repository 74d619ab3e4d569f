"""Record-level access: which people, companies, leads and deals a caller sees.

The tenant picks one rule (`AccessRule`): everyone sees every record; `team`: a member sees
records owned by themselves or by members holding one of their roles; `owner`: a member sees
only the records they own. Tenant admins (and platform administrators, and API keys, which a
tenant admin issues with chosen permissions) always see every record. A `Viewer` carries the
outcome for one caller, built once per request by `service/access.py`; the repository and the
search apply `Viewer.clause` to every list, search, get and export, so a hidden record answers
exactly like a missing one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, true

from bizosaas.crm.models import OwnedRecord
from bizosaas.kit.tenancy import TenantScope


@dataclass(frozen=True, slots=True)
class Viewer:
    scope: TenantScope
    member_id: uuid.UUID | None
    """The calling member (None for an API key): the default owner of what they create."""
    owner_ids: frozenset[uuid.UUID] | None
    """The owners whose records the caller sees; None for every record."""

    @property
    def sees_everything(self) -> bool:
        return self.owner_ids is None

    def clause(self, model: type[OwnedRecord]) -> Any:
        if self.owner_ids is None:
            return true()
        if not self.owner_ids:
            return false()
        return model.owner_id.in_(sorted(self.owner_ids))

    def may_see(self, record: OwnedRecord) -> bool:
        return self.owner_ids is None or record.owner_id in self.owner_ids
