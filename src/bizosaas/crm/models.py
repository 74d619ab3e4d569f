"""CRM tables: people, companies (and who works where), leads, deals in pipelines of stages,
the stage history, activities with their reminders, notes, custom field definitions, and the
tenant's record-level access rule.

Every row is tenant-owned (`TenantOwned`: ORM filter everywhere, row-level security on
PostgreSQL), except `crm_reminders`, the due-reminder queue the sweeper reads across tenants
(ids and times only, see service/reminders.py). A deal's amount is an integer count of its
currency's minor unit, exact on every backend and summable in SQL; the API speaks Decimal.
Custom field values live in each record's `custom` JSON object, keyed by field code; their
definitions (`crm_custom_fields`) say how to validate, filter and sort them. Relationships are
not declared: every load is an explicit query in the repository.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from bizosaas.kit.db import Base, IdMixin, TimestampMixin, utcnow
from bizosaas.kit.tenancy import TenantOwned


class RecordType(StrEnum):
    person = "person"
    company = "company"
    lead = "lead"
    deal = "deal"


class LifecycleStage(StrEnum):
    subscriber = "subscriber"
    lead = "lead"
    qualified = "qualified"
    opportunity = "opportunity"
    customer = "customer"
    evangelist = "evangelist"
    other = "other"


class LeadStatus(StrEnum):
    new = "new"
    contacted = "contacted"
    qualified = "qualified"
    disqualified = "disqualified"


class DealStatus(StrEnum):
    open = "open"
    won = "won"
    lost = "lost"


class FieldKind(StrEnum):
    text = "text"
    number = "number"
    date = "date"
    choice = "choice"
    multi_choice = "multi_choice"
    boolean = "boolean"
    money = "money"


class ActivityKind(StrEnum):
    task = "task"
    call = "call"
    meeting = "meeting"


class AccessRule(StrEnum):
    """Which records a member who is not a tenant admin sees."""

    everyone = "everyone"
    """Every record of the tenant."""
    team = "team"
    """Records they own, and records owned by members holding one of their roles."""
    owner = "owner"
    """Only the records they own."""


class OwnedRecord(IdMixin, TenantOwned, TimestampMixin):
    """What people, companies, leads and deals share: an owner (a member of the tenant), where
    the record came from, tags, custom field values and the text full-text search indexes."""

    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True, default=None)
    source: Mapped[str | None] = mapped_column(String(100), default=None)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    search_text: Mapped[str] = mapped_column(Text, default="")


class Company(OwnedRecord, Base):
    __tablename__ = "crm_companies"
    __table_args__ = (Index("ix_crm_companies_tenant_name", "tenant_id", "name", "id"),)

    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str | None] = mapped_column(String(253), default=None)
    emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    phones: Mapped[list[str]] = mapped_column(JSON, default=list)
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    lifecycle_stage: Mapped[str | None] = mapped_column(String(20), default=None)


class Person(OwnedRecord, Base):
    __tablename__ = "crm_people"
    __table_args__ = (
        Index("ix_crm_people_tenant_name", "tenant_id", "sort_name", "id"),
        Index("ix_crm_people_tenant_email", "tenant_id", "primary_email"),
    )

    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    sort_name: Mapped[str] = mapped_column(String(201), default="")
    """`last first`, lower case: what listings sort by `name`."""
    emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Normalised (lower-case domain, validated); the first is the primary address."""
    primary_email: Mapped[str | None] = mapped_column(String(320), default=None)
    phones: Mapped[list[str]] = mapped_column(JSON, default=list)
    """E.164 (`+442083661177`), parsed and validated by `phonenumbers`."""
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    lifecycle_stage: Mapped[str | None] = mapped_column(String(20), default=None)


class Employment(TenantOwned, Base):
    """A person works at (or belongs to) a company; a person may belong to several."""

    __tablename__ = "crm_employments"

    person_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("crm_people.id", ondelete="CASCADE"), primary_key=True
    )
    company_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("crm_companies.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    job_title: Mapped[str | None] = mapped_column(String(200), default=None)


class Lead(OwnedRecord, Base):
    __tablename__ = "crm_leads"
    __table_args__ = (Index("ix_crm_leads_tenant_name", "tenant_id", "title", "id"),)

    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=LeadStatus.new)
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("crm_people.id", ondelete="SET NULL"), index=True, default=None
    )
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("crm_companies.id", ondelete="SET NULL"), index=True, default=None
    )


class Pipeline(IdMixin, TenantOwned, TimestampMixin, Base):
    __tablename__ = "crm_pipelines"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)


class Stage(IdMixin, TenantOwned, Base):
    """A step of a pipeline, in order; `probability` (0 to 100) weighs the forecast."""

    __tablename__ = "crm_stages"
    __table_args__ = (
        CheckConstraint("probability >= 0 AND probability <= 100", name="probability_range"),
    )

    pipeline_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("crm_pipelines.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    probability: Mapped[int] = mapped_column(default=0)


class Deal(OwnedRecord, Base):
    __tablename__ = "crm_deals"
    __table_args__ = (
        Index("ix_crm_deals_tenant_name", "tenant_id", "title", "id"),
        Index("ix_crm_deals_pipeline_stage", "pipeline_id", "stage_id", "status"),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
    )

    title: Mapped[str] = mapped_column(String(200))
    pipeline_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("crm_pipelines.id"))
    stage_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("crm_stages.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    """The amount in the currency's minor unit (cents for EUR, yen for JPY)."""
    currency: Mapped[str] = mapped_column(String(3))
    expected_close_date: Mapped[date | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(10), default=DealStatus.open)
    lost_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    person_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("crm_people.id", ondelete="SET NULL"), index=True, default=None
    )
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("crm_companies.id", ondelete="SET NULL"), index=True, default=None
    )


class StageChange(IdMixin, TenantOwned, Base):
    """A deal's move between stages (or its winning or losing): the stage history."""

    __tablename__ = "crm_stage_changes"
    __table_args__ = (Index("ix_crm_stage_changes_deal", "deal_id", "changed_at"),)

    deal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("crm_deals.id", ondelete="CASCADE"))
    from_stage_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    to_stage_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(10), default=DealStatus.open)
    changed_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Activity(IdMixin, TenantOwned, TimestampMixin, Base):
    """A task, call or meeting about one record, with a due time, an assignee and an optional
    reminder (mailed to the assignee at `remind_at`)."""

    __tablename__ = "crm_activities"
    __table_args__ = (
        Index("ix_crm_activities_record", "record_type", "record_id"),
        Index("ix_crm_activities_assignee_due", "assignee_id", "due_at"),
    )

    kind: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(Text, default="")
    record_type: Mapped[str] = mapped_column(String(10))
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    remind_at: Mapped[datetime | None] = mapped_column(default=None)
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)


class Note(IdMixin, TenantOwned, TimestampMixin, Base):
    __tablename__ = "crm_notes"
    __table_args__ = (Index("ix_crm_notes_record", "record_type", "record_id"),)

    record_type: Mapped[str] = mapped_column(String(10))
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    body_html: Mapped[str] = mapped_column(Text)
    author_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)


class CustomField(IdMixin, TenantOwned, TimestampMixin, Base):
    """A field a tenant adds to one record type (`industry` on companies)."""

    __tablename__ = "crm_custom_fields"
    __table_args__ = (UniqueConstraint("tenant_id", "record_type", "code"),)

    record_type: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    currency: Mapped[str | None] = mapped_column(String(3), default=None)
    """A money field's currency (its values are amounts in it)."""
    required: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)


class AccessPolicy(IdMixin, TenantOwned, Base):
    """The tenant's record-level rule (one row; none means `everyone`)."""

    __tablename__ = "crm_access_policies"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    rule: Mapped[str] = mapped_column(String(10), default=AccessRule.everyone)


class Reminder(Base):
    """A reminder waiting for its time: the queue the sweeper reads across tenants. Platform
    infrastructure like the outbox (no row-level security): it holds ids and a time, nothing a
    tenant wrote; the sweeper reads the activity itself within the tenant's scope."""

    __tablename__ = "crm_reminders"
    __table_args__ = (Index("ix_crm_reminders_due", "remind_at"),)

    activity_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    remind_at: Mapped[datetime] = mapped_column()


class SavedView(IdMixin, TenantOwned, TimestampMixin, Base):
    """A member's saved list of one record type: words, filters, sort and columns."""

    __tablename__ = "crm_saved_views"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", "record_type", "name"),)

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    record_type: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    text: Mapped[str | None] = mapped_column(String(200), default=None)
    filters: Mapped[list[str]] = mapped_column(JSON, default=list)
    sort: Mapped[str] = mapped_column(String(80), default="name")
    columns: Mapped[list[str]] = mapped_column(JSON, default=list)


class ExternalEvent(IdMixin, TenantOwned, Base):
    """Another domain's event on a record's timeline (an order placed ...), once per event id:
    the unique key makes a redelivered event a no-op."""

    __tablename__ = "crm_external_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event_id"),
        Index("ix_crm_external_events_record", "record_type", "record_id"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    name: Mapped[str] = mapped_column(String(120))
    record_type: Mapped[str] = mapped_column(String(10))
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    summary: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column()
