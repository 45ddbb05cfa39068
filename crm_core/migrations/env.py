"""Alembic environment: migrations run on a connection handed over by crm_core.migrate."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import crm_core.models  # noqa: F401  (registers the tables on the metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `crmbot init` (crm_core.migrate.upgrade)")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
