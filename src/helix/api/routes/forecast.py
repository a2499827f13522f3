"""/api/v1/forecast: the same content as `helix forecast ...`.

* ``GET /forecast/renewals?from=&to=``: every renewal of the period with bucket,
  calibrated probability and expected ARR, and the weighted total with its
  interval; a CSM sees the renewals of their book only.
* ``GET /forecast/accuracy?from=&to=&lead_days=``: stored past forecasts against
  what renewed (leaders, admins and API keys; not limited to a book, as it
  calibrates the whole company's buckets).
* ``POST /forecast/overrides``: put one renewal in a bucket, with a reason (write
  access; a CSM only for accounts of their book).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from helix.api.deps import PlatformDep, ReadAccess, WarehouseDep, WriteAccess
from helix.api.problems import Problem
from helix.predict.service import forecast_accuracy, forecast_renewals, record_override

router = APIRouter(tags=["forecast"])


@router.get("/forecast/renewals", summary="Renewals of a period by bucket, with expected ARR")
def renewals_route(
    platform: PlatformDep,
    wh: WarehouseDep,
    who: ReadAccess,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to")],
    as_of: Annotated[date | None, Query()] = None,
) -> dict[str, Any]:
    return forecast_renewals(platform, start, end, as_of=as_of, owner=who.book_owner)


@router.get("/forecast/accuracy", summary="Past forecasts against what actually renewed")
def accuracy_route(
    platform: PlatformDep,
    wh: WarehouseDep,
    who: ReadAccess,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    lead_days: Annotated[int | None, Query(ge=0, le=365)] = None,
) -> dict[str, Any]:
    if who.book_owner is not None:
        raise Problem(403, "Forbidden", "forecast accuracy covers every book: leaders and admins")
    return forecast_accuracy(platform, start=start, end=end, lead_days=lead_days)


class OverrideIn(BaseModel):
    """One renewal put in a bucket by a person."""

    account_id: str = Field(min_length=1, max_length=255)
    renewal_date: date
    bucket: Literal["committed", "likely", "at_risk", "critical"]
    reason: str = Field(min_length=1, max_length=2000)


@router.post(
    "/forecast/overrides", status_code=201, summary="Set a renewal's bucket, with a reason"
)
def override_route(
    body: OverrideIn, platform: PlatformDep, wh: WarehouseDep, who: WriteAccess
) -> dict[str, Any]:
    if who.book_owner is not None:
        acc = wh.table("account_summary") if wh.has_table("account_summary") else None
        owner = None
        if acc is not None:
            rows = acc.filter(acc.account_id == body.account_id).select("owner_email")
            found = rows.to_pyarrow().to_pylist()
            owner = found[0]["owner_email"] if found else None
        if (owner or "").lower() != who.book_owner.lower():
            raise Problem(403, "Forbidden", f"account {body.account_id!r} is not in your book")
    return record_override(
        platform, body.account_id, body.renewal_date, body.bucket, body.reason, f"api:{who.name}"
    )
