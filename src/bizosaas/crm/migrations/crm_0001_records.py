"""CRM: people, companies, leads, deals and pipelines, activities, notes, custom fields,
saved views and the record-level access rule, under tenant row-level security.

The module's first revision opens the `crm` branch. Besides the tables it sets up full-text
search over people, companies, leads and deals: on PostgreSQL a GIN index over
`to_tsvector('simple', search_text)` of each; on SQLite an FTS5 table per record type kept in
step by triggers (search.py queries both). `crm_reminders` is the cross-tenant reminder queue
(ids and times only) and is not under row-level security, like the outbox.

Revision ID: crm_0001
Revises:
Create Date: 2026-12-03 16:20:00
"""

# ruff: noqa: S608 - the DDL names only the constant tables listed below

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from bizosaas.kit.db import UTCDateTime
from bizosaas.kit.tenancy import drop_rls_statements, rls_policy_statements

revision: str = "crm_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("crm",)
depends_on: str | Sequence[str] | None = "0002_identity"

SEARCHED_TABLES = ("crm_people", "crm_companies", "crm_leads", "crm_deals")
TENANT_TABLES = (
    *SEARCHED_TABLES,
    "crm_employments",
    "crm_pipelines",
    "crm_stages",
    "crm_stage_changes",
    "crm_activities",
    "crm_notes",
    "crm_custom_fields",
    "crm_access_policies",
    "crm_saved_views",
    "crm_external_events",
)


def _search_index(table: str) -> str:
    return (
        f"CREATE INDEX ix_{table}_search ON {table} USING gin (to_tsvector('simple', search_text))"
    )


def _sqlite_search(table: str) -> list[str]:
    """The FTS5 table of `table` (one of SEARCHED_TABLES, never input) and its triggers."""
    fts = f"{table}_search"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5("
        "record_id UNINDEXED, search_text, tokenize = 'unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts} (record_id, search_text) VALUES (new.id, new.search_text); END",
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF search_text ON {table} BEGIN "
        f"DELETE FROM {fts} WHERE record_id = old.id; "
        f"INSERT INTO {fts} (record_id, search_text) VALUES (new.id, new.search_text); END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
        f"DELETE FROM {fts} WHERE record_id = old.id; END",
    ]


def _id() -> sa.Column[Any]:
    return sa.Column("id", sa.Uuid(), primary_key=True)


def _tenant() -> sa.Column[Any]:
    return sa.Column("tenant_id", sa.Uuid(), nullable=False, index=True)


def _timestamps() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def _owned_record() -> list[sa.Column[Any]]:
    return [
        _id(),
        _tenant(),
        sa.Column("owner_id", sa.Uuid(), nullable=True, index=True),
        sa.Column("source", sa.String(100), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        *_timestamps(),
    ]


def upgrade() -> None:
    op.create_table(
        "crm_companies",
        *_owned_record(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("domain", sa.String(253), nullable=True),
        sa.Column("emails", sa.JSON(), nullable=False),
        sa.Column("phones", sa.JSON(), nullable=False),
        sa.Column("address", sa.JSON(), nullable=True),
        sa.Column("lifecycle_stage", sa.String(20), nullable=True),
        sa.Index("ix_crm_companies_tenant_name", "tenant_id", "name", "id"),
    )
    op.create_table(
        "crm_people",
        *_owned_record(),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("sort_name", sa.String(201), nullable=False),
        sa.Column("emails", sa.JSON(), nullable=False),
        sa.Column("primary_email", sa.String(320), nullable=True),
        sa.Column("phones", sa.JSON(), nullable=False),
        sa.Column("address", sa.JSON(), nullable=True),
        sa.Column("lifecycle_stage", sa.String(20), nullable=True),
        sa.Index("ix_crm_people_tenant_name", "tenant_id", "sort_name", "id"),
        sa.Index("ix_crm_people_tenant_email", "tenant_id", "primary_email"),
    )
    op.create_table(
        "crm_employments",
        _tenant(),
        sa.Column(
            "person_id",
            sa.Uuid(),
            sa.ForeignKey("crm_people.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "company_id",
            sa.Uuid(),
            sa.ForeignKey("crm_companies.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
        sa.Column("job_title", sa.String(200), nullable=True),
    )
    op.create_table(
        "crm_leads",
        *_owned_record(),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column(
            "person_id",
            sa.Uuid(),
            sa.ForeignKey("crm_people.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
        sa.Column(
            "company_id",
            sa.Uuid(),
            sa.ForeignKey("crm_companies.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
        sa.Index("ix_crm_leads_tenant_name", "tenant_id", "title", "id"),
    )
    op.create_table(
        "crm_pipelines",
        _id(),
        _tenant(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("tenant_id", "name"),
    )
    op.create_table(
        "crm_stages",
        _id(),
        _tenant(),
        sa.Column(
            "pipeline_id",
            sa.Uuid(),
            sa.ForeignKey("crm_pipelines.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.CheckConstraint("probability >= 0 AND probability <= 100", name="probability_range"),
    )
    op.create_table(
        "crm_deals",
        *_owned_record(),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("pipeline_id", sa.Uuid(), sa.ForeignKey("crm_pipelines.id"), nullable=False),
        sa.Column(
            "stage_id", sa.Uuid(), sa.ForeignKey("crm_stages.id"), nullable=False, index=True
        ),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("expected_close_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("lost_reason", sa.String(500), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column(
            "person_id",
            sa.Uuid(),
            sa.ForeignKey("crm_people.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
        sa.Column(
            "company_id",
            sa.Uuid(),
            sa.ForeignKey("crm_companies.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
        sa.Index("ix_crm_deals_tenant_name", "tenant_id", "title", "id"),
        sa.Index("ix_crm_deals_pipeline_stage", "pipeline_id", "stage_id", "status"),
        sa.CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
    )
    op.create_table(
        "crm_stage_changes",
        _id(),
        _tenant(),
        sa.Column(
            "deal_id",
            sa.Uuid(),
            sa.ForeignKey("crm_deals.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("from_stage_id", sa.Uuid(), nullable=True),
        sa.Column("to_stage_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("changed_by", sa.Uuid(), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Index("ix_crm_stage_changes_deal", "deal_id", "changed_at"),
    )
    op.create_table(
        "crm_activities",
        _id(),
        _tenant(),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("record_type", sa.String(10), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("remind_at", UTCDateTime(), nullable=True),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        *_timestamps(),
        sa.Index("ix_crm_activities_record", "record_type", "record_id"),
        sa.Index("ix_crm_activities_assignee_due", "assignee_id", "due_at"),
    )
    op.create_table(
        "crm_notes",
        _id(),
        _tenant(),
        sa.Column("record_type", sa.String(10), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        *_timestamps(),
        sa.Index("ix_crm_notes_record", "record_type", "record_id"),
    )
    op.create_table(
        "crm_custom_fields",
        _id(),
        _tenant(),
        sa.Column("record_type", sa.String(10), nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("tenant_id", "record_type", "code"),
    )
    op.create_table(
        "crm_access_policies",
        _id(),
        _tenant(),
        sa.Column("rule", sa.String(10), nullable=False),
        sa.UniqueConstraint("tenant_id"),
    )
    op.create_table(
        "crm_saved_views",
        _id(),
        _tenant(),
        sa.Column("user_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("record_type", sa.String(10), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("text", sa.String(200), nullable=True),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("sort", sa.String(80), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("tenant_id", "user_id", "record_type", "name"),
    )
    op.create_table(
        "crm_external_events",
        _id(),
        _tenant(),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("record_type", sa.String(10), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("summary", sa.String(300), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("tenant_id", "event_id"),
        sa.Index("ix_crm_external_events_record", "record_type", "record_id"),
    )
    op.create_table(
        "crm_reminders",
        sa.Column("activity_id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("remind_at", UTCDateTime(), nullable=False),
        sa.Index("ix_crm_reminders_due", "remind_at"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in TENANT_TABLES:
            for statement in rls_policy_statements(table):
                op.execute(statement)
        for table in SEARCHED_TABLES:
            op.execute(_search_index(table))
    else:
        for table in SEARCHED_TABLES:
            for statement in _sqlite_search(table):
                op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in SEARCHED_TABLES:
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_search")
        for table in TENANT_TABLES:
            for statement in drop_rls_statements(table):
                op.execute(statement)
    else:
        for table in SEARCHED_TABLES:
            op.execute(f"DROP TABLE IF EXISTS {table}_search")
    for table in (
        "crm_reminders",
        "crm_external_events",
        "crm_saved_views",
        "crm_access_policies",
        "crm_custom_fields",
        "crm_notes",
        "crm_activities",
        "crm_stage_changes",
        "crm_deals",
        "crm_stages",
        "crm_pipelines",
        "crm_leads",
        "crm_employments",
        "crm_people",
        "crm_companies",
    ):
        op.drop_table(table)
