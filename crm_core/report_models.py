"""The report language: ReportQuery (what is asked) and ReportResult (what is answered).

ReportQuery is also the schema of the `run_report` action, so its docstring and field
descriptions are what an LLM sees of it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, model_validator

from crm_core.analytics.catalogue import BASKET_METRICS, TIME_DIMENSIONS, Dimension, Metric
from crm_core.analytics.frame import ReportFilters
from crm_core.analytics.periods import Grain, Period, PeriodSpec

CUSTOMER_LIST_DEFAULT = 10


class Comparison(StrEnum):
    NONE = "none"
    PREVIOUS = "previous"  # the period just before, of the same length
    YEAR_AGO = "year_ago"  # the same period one year earlier


class SortOrder(StrEnum):
    DESC = "desc"
    ASC = "asc"


class ReportQuery(BaseModel):
    """A read-only question about the CRM's numbers, answered within the asker's scope.

    Pick one or more metrics, optionally split by up to two dimensions (at most one of
    them a time grain), narrowed by filters, over a period relative to today, optionally
    compared with the previous period or the same period last year. Customer lists
    (dimension "customer") and product pairs are ranked by the first metric and cut to
    top_n. Money is reported in one currency (the most common one unless given).
    """

    metrics: list[Metric] = Field(min_length=1, max_length=6)
    dimensions: list[Dimension] = Field(default_factory=list, max_length=2)
    filters: ReportFilters = Field(default_factory=ReportFilters)
    period: PeriodSpec = Field(default_factory=PeriodSpec)
    compare: Comparison = Comparison.NONE
    sort: SortOrder = SortOrder.DESC
    top_n: int | None = Field(default=None, ge=1, le=100)
    currency: str | None = Field(default=None, pattern="^[A-Z]{3}$")

    @model_validator(mode="after")
    def _coherent(self) -> ReportQuery:
        if len(set(self.metrics)) != len(self.metrics):
            raise ValueError("a metric is listed twice")
        dims = self.dimensions
        if len(set(dims)) != len(dims) or sum(d in TIME_DIMENSIONS for d in dims) > 1:
            raise ValueError("at most one time dimension, each dimension once")
        for alone in (Dimension.CUSTOMER, Dimension.PRODUCT_PAIR):
            if alone in dims and len(dims) > 1:
                raise ValueError(f"{alone} cannot be combined with another dimension")
        if Dimension.SEGMENT in dims and any(d not in TIME_DIMENSIONS for d in dims[1:]):
            raise ValueError("segment combines only with a time dimension")
        basket_query = any(m in BASKET_METRICS for m in self.metrics)
        if basket_query != (Dimension.PRODUCT_PAIR in dims):
            raise ValueError("support, confidence and lift go with product_pair, and only them")
        if basket_query and not all(m in BASKET_METRICS for m in self.metrics):
            raise ValueError("product_pair takes only support, confidence and lift")
        if Metric.LEAD_SCORE in self.metrics and (
            dims != [Dimension.CUSTOMER] or len(self.metrics) > 1
        ):
            raise ValueError("lead_score stands alone, with the customer dimension")
        if (Dimension.CUSTOMER in dims or basket_query) and self.top_n is None:
            self.top_n = CUSTOMER_LIST_DEFAULT
        return self

    @property
    def time_dimension(self) -> Dimension | None:
        return next((d for d in self.dimensions if d in TIME_DIMENSIONS), None)


class DimValue(BaseModel):
    id: str | int | None
    label: str


class Signal(BaseModel):
    """One reason behind a score: a message code, its points and what filled it in."""

    code: str
    points: int
    params: dict[str, Any] = Field(default_factory=dict)


class ReportRow(BaseModel):
    keys: list[DimValue]
    values: list[Decimal | None]
    previous: list[Decimal | None] | None = None
    signals: list[Signal] = Field(default_factory=list)


class PeriodInfo(BaseModel):
    first_day: date
    last_day: date
    to_date: bool  # still running: it ends now

    @classmethod
    def of(cls, period: Period) -> PeriodInfo:
        return cls(
            first_day=period.first_day, last_day=period.last_day, to_date=period.until is not None
        )


class CustomerFilterInfo(BaseModel):
    """The customers a report was narrowed to (filters.customer_ids), as people name them."""

    names: list[str]  # the first few, in id order
    count: int  # those in the asker's scope
    company: str | None = None  # the one company they all belong to, if they do


class ReportResult(BaseModel):
    query: ReportQuery
    period: PeriodInfo
    comparison: PeriodInfo | None = None
    grain: Grain | None = None
    scope: str  # own | team | all
    currency: str | None = None
    other_currencies: list[str] = Field(default_factory=list)
    rows: list[ReportRow]
    totals: list[Decimal | None]
    previous_totals: list[Decimal | None] | None = None
    groups: int  # groups found before top_n cut the list
    customer_filter: CustomerFilterInfo | None = None
