"""Once-a-day jobs (care scan, team digests), claimed by inserting their row."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from crm_core.clock import utcnow
from crm_core.models.types import utc_column


class ScheduledRun(SQLModel, table=True):
    """One run of a daily job for one scope on one local date.

    Inserting the row claims the run: the unique key makes a second process's insert fail,
    so a digest goes out once per team per day however many `crmbot run` processes there are.
    """

    __tablename__ = "scheduled_run"
    __table_args__ = (UniqueConstraint("job", "scope", "run_date"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=30)  # care_scan | digest | summary
    scope: str = Field(max_length=50)  # "all" or a team id
    run_date: date
    status: str = Field(default="running", max_length=20)  # running | done | failed
    # Parts of a split message already accepted by the platform: a retry sends the rest.
    parts_sent: int = 0
    attempts: int = 1
    claimed_at: datetime = Field(default_factory=utcnow, sa_column=utc_column(nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=utc_column())
    next_attempt_at: datetime | None = Field(default=None, sa_column=utc_column())
    detail: str | None = Field(default=None, max_length=500)
