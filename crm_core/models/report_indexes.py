"""Indexes the reports need on tables defined elsewhere: period scans by time, and the
stored tier and churn risk used as filters.

The time indexes carry every column a report reads from the row (covering indexes), so a
year of orders is read from the index alone instead of one random table page per order:
on SQLite that is the difference between seconds and a few hundred milliseconds."""

from __future__ import annotations

from sqlalchemy import Index, Table

from crm_core.models.customer import Customer
from crm_core.models.feedback import Feedback
from crm_core.models.interaction import Interaction
from crm_core.models.order import Order, OrderItem


def _table(model: type) -> Table:
    return model.__table__  # type: ignore[attr-defined,no-any-return]


# An Index built from a table's columns attaches itself to that table.
REPORT_INDEXES = (
    Index(
        "ix_order_when",
        *(
            _table(Order).c[name]
            for name in (
                "ordered_at",
                "customer_id",
                "amount",
                "currency",
                "payment_status",
                "deleted_at",
            )
        ),
    ),
    Index(
        "ix_interaction_when",
        *(_table(Interaction).c[n] for n in ("occurred_at", "customer_id", "deleted_at")),
    ),
    Index(
        "ix_feedback_when",
        *(
            _table(Feedback).c[n]
            for n in ("created_at", "customer_id", "kind", "score", "deleted_at")
        ),
    ),
    # A customer's order history from the index alone: churn-risk lists, lifetime value,
    # the yearly churn behind predicted CLV and the daily tier recomputation read it.
    Index(
        "ix_order_customer_history",
        *(
            _table(Order).c[name]
            for name in (
                "customer_id",
                "ordered_at",
                "amount",
                "currency",
                "payment_status",
                "deleted_at",
            )
        ),
    ),
    # Products bought together: each order's products read from the index alone.
    Index("ix_order_item_basket", _table(OrderItem).c.order_id, _table(OrderItem).c.product_id),
    # The customers a manager or admin may see, from the index alone: every report joins
    # its rows to these ids (and splits by rep or tier) instead of scanning the wide
    # customer table. Partial, like the scope itself (never deleted customers).
    Index(
        "ix_customer_scope",
        *(_table(Customer).c[n] for n in ("team_id", "id", "owner_id", "tier")),
        postgresql_where=_table(Customer).c.deleted_at.is_(None),
        sqlite_where=_table(Customer).c.deleted_at.is_(None),
    ),
    Index("ix_customer_tier", _table(Customer).c.tier),
    Index("ix_customer_risk", _table(Customer).c.risk),
)
