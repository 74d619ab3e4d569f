"""CRM API input and output: `XCreate`, `XUpdate` (every field optional), `X` (read).

Money is `Decimal` (a JSON string on output, so no client parses it as a float); names are one
line of text without control characters. E-mail addresses are validated and normalised here;
phone numbers and custom field values by the service (they need the tenant's context: a default
region, the field definitions) and refused with their own codes.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    JsonValue,
    StringConstraints,
    WithJsonSchema,
)

from bizosaas.crm.models import (
    AccessRule,
    ActivityKind,
    DealStatus,
    FieldKind,
    LeadStatus,
    LifecycleStage,
    RecordType,
)
from bizosaas.kit.text import NoControlCharacters, PlainText, SingleLine

Name = Annotated[SingleLine, StringConstraints(min_length=1, max_length=200)]
OptionalName = Annotated[SingleLine, StringConstraints(max_length=100)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")]
Tag = Annotated[SingleLine, StringConstraints(min_length=1, max_length=60)]
Source = Annotated[SingleLine, StringConstraints(min_length=1, max_length=100)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Region = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Phone = Annotated[SingleLine, StringConstraints(min_length=3, max_length=40)]
MONEY_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,12})?$"


def _normalise_email(value: str) -> str:
    """Validated and normalised (Unicode NFC, IDNA domain), then lower-cased as a whole: a CRM
    matches addresses case-insensitively, which is how every mail provider treats them."""
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValueError(str(error)) from error


Email = Annotated[
    str, StringConstraints(min_length=3, max_length=320), AfterValidator(_normalise_email)
]


def _plain_amount(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(MONEY_PATTERN, value):
        raise ValueError("write the amount as a plain decimal, e.g. 1200.50")
    return value


Money = Annotated[
    Decimal,
    BeforeValidator(_plain_amount),
    Field(ge=0, lt=Decimal(10**12), allow_inf_nan=False),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "exclusiveMaximum": 10**12},
                {"type": "string", "pattern": MONEY_PATTERN},
            ]
        }
    ),
]
"""A non-negative amount below 10^12, as a JSON number or a plain decimal string."""


def _iso_time(value: object) -> object:
    """Times are ISO 8601 text with a zone: pydantic would also read a bare number as Unix time,
    which the documented `date-time` format does not allow."""
    if not isinstance(value, str | datetime) or (
        isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", value)
    ):
        raise ValueError("give a time as ISO 8601 text with its zone, e.g. 2027-01-31T09:00:00Z")
    return value


Time = Annotated[AwareDatetime, BeforeValidator(_iso_time)]
"""An ISO 8601 time with its zone (a bare number is refused)."""

Tags = Annotated[list[Tag], Field(max_length=50)]
Emails = Annotated[list[Email], Field(max_length=20)]
Phones = Annotated[list[Phone], Field(max_length=20)]
CustomValues = Annotated[dict[Code, JsonValue], Field(max_length=100)]


class Address(BaseModel):
    line1: Annotated[SingleLine, StringConstraints(max_length=200)] | None = None
    line2: Annotated[SingleLine, StringConstraints(max_length=200)] | None = None
    city: Annotated[SingleLine, StringConstraints(max_length=100)] | None = None
    region: Annotated[SingleLine, StringConstraints(max_length=100)] | None = None
    postal_code: Annotated[SingleLine, StringConstraints(max_length=20)] | None = None
    country: Region | None = Field(default=None, description="ISO 3166-1 alpha-2 code.")


class RecordFields(BaseModel):
    """What every record takes: owner, source, tags and custom field values."""

    owner_id: uuid.UUID | None = Field(
        default=None, description="A member of the tenant; the creator when left out."
    )
    source: Source | None = None
    tags: Tags = []
    custom: CustomValues = Field(default_factory=dict, description="Custom field values by code.")


class RecordRead(BaseModel):
    id: uuid.UUID
    owner_id: uuid.UUID | None
    source: str | None
    tags: list[str]
    custom: dict[str, Any]
    created_at: datetime
    updated_at: datetime


# -- people and companies --------------------------------------------------------------------


class PhoneInput(BaseModel):
    phones: Phones = []
    phone_region: Region | None = Field(
        default=None,
        description="Where numbers written without a `+` country code are dialled (ISO 3166).",
    )


class PersonCreate(RecordFields, PhoneInput):
    first_name: OptionalName = ""
    last_name: OptionalName = ""
    emails: Emails = []
    address: Address | None = None
    lifecycle_stage: LifecycleStage | None = None
    company_ids: Annotated[list[uuid.UUID], Field(max_length=50)] = []


class PersonUpdate(BaseModel):
    first_name: OptionalName | None = None
    last_name: OptionalName | None = None
    emails: Emails | None = None
    phones: Phones | None = None
    phone_region: Region | None = None
    address: Address | None = None
    lifecycle_stage: LifecycleStage | None = None
    company_ids: Annotated[list[uuid.UUID], Field(max_length=50)] | None = None
    owner_id: uuid.UUID | None = None
    source: Source | None = None
    tags: Tags | None = None
    custom: CustomValues | None = Field(
        default=None, description="Values to set (null removes one); others are kept."
    )


class PersonRead(RecordRead):
    first_name: str
    last_name: str
    emails: list[str]
    phones: list[str]
    address: Address | None
    lifecycle_stage: LifecycleStage | None
    company_ids: list[uuid.UUID]


class DuplicateRead(BaseModel):
    person: PersonRead
    reasons: list[str] = Field(
        description="What matched: `email ...`, `phone ...`, a similar name."
    )


class PersonMerge(BaseModel):
    other_id: uuid.UUID = Field(description="The person folded into this one, then deleted.")


class CompanyCreate(RecordFields, PhoneInput):
    name: Name
    domain: Annotated[str, StringConstraints(max_length=253, pattern=r"^[a-z0-9.-]+$")] | None = (
        None
    )
    emails: Emails = []
    address: Address | None = None
    lifecycle_stage: LifecycleStage | None = None


class CompanyUpdate(BaseModel):
    name: Name | None = None
    domain: Annotated[str, StringConstraints(max_length=253, pattern=r"^[a-z0-9.-]+$")] | None = (
        None
    )
    emails: Emails | None = None
    phones: Phones | None = None
    phone_region: Region | None = None
    address: Address | None = None
    lifecycle_stage: LifecycleStage | None = None
    owner_id: uuid.UUID | None = None
    source: Source | None = None
    tags: Tags | None = None
    custom: CustomValues | None = None


class CompanyRead(RecordRead):
    name: str
    domain: str | None
    emails: list[str]
    phones: list[str]
    address: Address | None
    lifecycle_stage: LifecycleStage | None


# -- leads and deals -------------------------------------------------------------------------


class LeadCreate(RecordFields):
    title: Name
    status: LeadStatus = LeadStatus.new
    person_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None


class LeadUpdate(BaseModel):
    title: Name | None = None
    status: LeadStatus | None = None
    person_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    source: Source | None = None
    tags: Tags | None = None
    custom: CustomValues | None = None


class LeadRead(RecordRead):
    title: str
    status: LeadStatus
    person_id: uuid.UUID | None
    company_id: uuid.UUID | None


class DealCreate(RecordFields):
    title: Name
    pipeline_id: uuid.UUID
    stage_id: uuid.UUID | None = Field(
        default=None, description="The pipeline's first stage if left out."
    )
    amount: Money = Decimal(0)
    currency: Currency
    expected_close_date: date | None = None
    person_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None


class DealUpdate(BaseModel):
    title: Name | None = None
    amount: Money | None = None
    currency: Currency | None = None
    expected_close_date: date | None = None
    person_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    owner_id: uuid.UUID | None = None
    source: Source | None = None
    tags: Tags | None = None
    custom: CustomValues | None = None


class DealMove(BaseModel):
    stage_id: uuid.UUID


class DealWon(BaseModel):
    won: Literal[True]


class DealLost(BaseModel):
    won: Literal[False]
    reason: Annotated[SingleLine, StringConstraints(min_length=1, max_length=500)] = Field(
        description="Why the deal was lost."
    )


DealClose = DealWon | DealLost
"""`{"won": true}`, or `{"won": false, "reason": "..."}`: a lost deal says why."""


class DealRead(RecordRead):
    title: str
    pipeline_id: uuid.UUID
    stage_id: uuid.UUID
    amount: Decimal
    currency: str
    expected_close_date: date | None
    status: DealStatus
    lost_reason: str | None
    closed_at: datetime | None
    person_id: uuid.UUID | None
    company_id: uuid.UUID | None


class StageChangeRead(BaseModel):
    from_stage_id: uuid.UUID | None
    to_stage_id: uuid.UUID
    status: DealStatus
    changed_by: uuid.UUID | None
    changed_at: datetime


# -- pipelines and the forecast --------------------------------------------------------------


class StageInput(BaseModel):
    id: uuid.UUID | None = Field(default=None, description="An existing stage to keep.")
    name: Name
    probability: Annotated[int, Field(ge=0, le=100)]


class PipelineCreate(BaseModel):
    name: Name
    stages: Annotated[list[StageInput], Field(min_length=1, max_length=50)]


class PipelineUpdate(BaseModel):
    name: Name | None = None
    stages: Annotated[list[StageInput], Field(min_length=1, max_length=50)] | None = Field(
        default=None,
        description="The stages in order: listed ids are kept, new ones added, others removed.",
    )


class StageRead(BaseModel):
    id: uuid.UUID
    name: str
    position: int
    probability: int


class PipelineRead(BaseModel):
    id: uuid.UUID
    name: str
    stages: list[StageRead]


class ForecastLine(BaseModel):
    stage_id: uuid.UUID
    stage: str
    probability: int
    currency: str
    deals: int
    amount: Decimal
    weighted_amount: Decimal = Field(description="The amount times the stage's probability.")


class Forecast(BaseModel):
    pipeline_id: uuid.UUID
    lines: list[ForecastLine]
    totals: dict[str, Decimal] = Field(description="Weighted amount per currency.")


# -- activities, notes, timeline -------------------------------------------------------------


class RecordRef(BaseModel):
    record_type: RecordType
    record_id: uuid.UUID


class ActivityCreate(RecordRef):
    kind: ActivityKind
    subject: Annotated[SingleLine, StringConstraints(min_length=1, max_length=300)]
    details: Annotated[PlainText, StringConstraints(max_length=10_000)] = ""
    due_at: Time | None = None
    assignee_id: uuid.UUID | None = Field(default=None, description="The creator if left out.")
    remind_at: Time | None = Field(
        default=None, description="When to mail the assignee a reminder."
    )


class ActivityUpdate(BaseModel):
    subject: Annotated[SingleLine, StringConstraints(min_length=1, max_length=300)] | None = None
    details: Annotated[PlainText, StringConstraints(max_length=10_000)] | None = None
    due_at: Time | None = None
    assignee_id: uuid.UUID | None = None
    remind_at: Time | None = None
    done: bool | None = None


class ActivityRead(RecordRef):
    id: uuid.UUID
    kind: ActivityKind
    subject: str
    details: str
    due_at: datetime | None
    assignee_id: uuid.UUID | None
    remind_at: datetime | None
    reminded_at: datetime | None
    done: bool
    done_at: datetime | None
    created_at: datetime


class NoteCreate(RecordRef):
    body_html: Annotated[PlainText, StringConstraints(min_length=1, max_length=50_000)]


class NoteRead(RecordRef):
    id: uuid.UUID
    body_html: str
    author_id: uuid.UUID | None
    created_at: datetime


class ExternalEventRead(BaseModel):
    event_id: uuid.UUID
    name: str = Field(description="The event's name, e.g. `commerce.order_placed`.")
    summary: str
    data: dict[str, Any]


class TimelineItem(BaseModel):
    kind: str = Field(description="`activity`, `note`, `stage_change` or `event`.")
    at: datetime
    activity: ActivityRead | None = None
    note: NoteRead | None = None
    stage_change: StageChangeRead | None = None
    event: ExternalEventRead | None = None


# -- custom fields, access, pages ------------------------------------------------------------


class CustomFieldCreate(BaseModel):
    record_type: RecordType
    code: Code
    label: Name
    kind: FieldKind
    choices: Annotated[list[Tag], Field(max_length=200)] = []
    currency: Currency | None = Field(default=None, description="Required for money fields.")
    required: bool = False


class CustomFieldUpdate(BaseModel):
    label: Name | None = None
    choices: Annotated[list[Tag], Field(max_length=200)] | None = None
    required: bool | None = None


class CustomFieldRead(BaseModel):
    id: uuid.UUID
    record_type: RecordType
    code: str
    label: str
    kind: FieldKind
    choices: list[str]
    currency: str | None
    required: bool


class AccessPolicyRead(BaseModel):
    rule: AccessRule


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class SearchHit(BaseModel):
    record_type: RecordType
    id: uuid.UUID
    title: str


class SearchResults(BaseModel):
    hits: list[SearchHit]


# -- saved views -----------------------------------------------------------------------------

Filter = Annotated[
    str,
    StringConstraints(
        max_length=300, pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?:(eq|gte|lte|has):"
    ),
    NoControlCharacters(),
]
"""`field:op:value`; the pattern is the published one, control characters are refused too."""
SortName = Annotated[
    str,
    StringConstraints(
        max_length=80,
        pattern=r"^-?(name|created|updated|amount|close_date|custom\.[a-z][a-z0-9_]*)$",
    ),
]
Column = Annotated[
    str, StringConstraints(max_length=80, pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")
]


class SavedViewCreate(BaseModel):
    record_type: RecordType
    name: Name
    q: Annotated[SingleLine, StringConstraints(max_length=200)] | None = None
    filters: Annotated[list[Filter], Field(max_length=30)] = []
    sort: SortName = "name"
    columns: Annotated[list[Column], Field(max_length=50)] = Field(
        default_factory=list, description="Fields to show, in order; every field when empty."
    )


class SavedViewUpdate(BaseModel):
    name: Name | None = None
    q: Annotated[SingleLine, StringConstraints(max_length=200)] | None = None
    filters: Annotated[list[Filter], Field(max_length=30)] | None = None
    sort: SortName | None = None
    columns: Annotated[list[Column], Field(max_length=50)] | None = None


class SavedViewRead(BaseModel):
    id: uuid.UUID
    record_type: RecordType
    name: str
    q: str | None
    filters: list[str]
    sort: str
    columns: list[str]


class ViewPage(BaseModel):
    columns: list[str]
    items: list[dict[str, Any]] = Field(description="Each record's `id` and the view's columns.")
    next_cursor: str | None
