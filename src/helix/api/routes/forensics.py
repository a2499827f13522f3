"""/api/v1/forensics: the same content as `helix forensics ...` (docs/forensics.md).

* ``GET /forensics/accounts/{id}``: one churn reconstructed (``?churn_date=`` picks one
  of several; default the latest).
* ``GET /forensics/churns``: the most painful churns of a period, most MRR lost first
  (``?from=&to=&limit=&detail=``; default the last 91 days, 5 churns, with forensics).
* ``GET /forensics/summary``: patterns across the churns of a period (``?from=&to=``;
  default the last 365 days).

A CSM sees the accounts of their own book only.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from helix.api.deps import ReadAccess, WarehouseDep
from helix.predict.forensics import account_forensics, forensics_summary, painful_churns

router = APIRouter(prefix="/forensics", tags=["forensics"])

FromQ = Annotated[date | None, Query(alias="from", description="first day (YYYY-MM-DD)")]
ToQ = Annotated[date | None, Query(alias="to", description="day after the period (half-open)")]


@router.get("/accounts/{account_id}", summary="One churn of one account, reconstructed")
def account_route(
    account_id: str,
    wh: WarehouseDep,
    who: ReadAccess,
    churn_date: Annotated[
        date | None, Query(description="which churn (default: the latest)")
    ] = None,
) -> dict[str, Any]:
    return account_forensics(wh, account_id, churn_date=churn_date, owner=who.book_owner)


@router.get("/churns", summary="The most painful churns of a period, each reconstructed")
def churns_route(
    wh: WarehouseDep,
    who: ReadAccess,
    start: FromQ = None,
    end: ToQ = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 5,
    detail: Annotated[bool, Query(description="include each churn's forensics")] = True,
) -> dict[str, Any]:
    return painful_churns(
        wh, start=start, end=end, limit=limit, owner=who.book_owner, detail=detail
    )


@router.get("/summary", summary="Patterns across the churns of a period")
def summary_route(
    wh: WarehouseDep, who: ReadAccess, start: FromQ = None, end: ToQ = None
) -> dict[str, Any]:
    return forensics_summary(wh, start=start, end=end, owner=who.book_owner)
