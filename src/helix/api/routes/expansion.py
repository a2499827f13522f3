"""/api/v1/expansion: the same content as `helix expansion ...`.

* ``GET /expansion/leads``: the latest CS-qualified leads, strongest first
  (``?motion=&signal=&date=&limit=``); a CSM sees the accounts of their book only.
* ``GET /accounts/{id}/expansion``: one account's leads over time, newest first (``[]``
  when it has none; 404 when the account is not in the caller's book).
* ``GET /expansion/config``: the thresholds the detection uses.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from helix.api.deps import PlatformDep, ReadAccess, WarehouseDep
from helix.api.problems import Problem
from helix.predict.expansion import account_visible, list_leads
from helix.predict.expansion_service import config_info

router = APIRouter(tags=["expansion"])

Motion = Literal["seats", "tier", "cross_sell", "usage"]
Signal = Literal[
    "seats_near_limit", "usage_near_limit", "adoption_spreading", "predicted_expansion"
]


@router.get("/expansion/leads", summary="CS-qualified expansion leads, strongest first")
def leads_route(
    wh: WarehouseDep,
    who: ReadAccess,
    motion: Annotated[Motion | None, Query()] = None,
    signal: Annotated[Signal | None, Query()] = None,
    on: Annotated[
        date | None, Query(alias="date", description="detection date (default latest)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 50,
) -> list[dict[str, Any]]:
    return list_leads(wh, on=on, motion=motion, signal=signal, owner=who.book_owner, limit=limit)


@router.get("/accounts/{account_id}/expansion", summary="One account's expansion leads over time")
def account_expansion_route(
    account_id: str,
    wh: WarehouseDep,
    who: ReadAccess,
    limit: Annotated[int, Query(ge=1, le=2000)] = 400,
) -> list[dict[str, Any]]:
    if not account_visible(wh, account_id, who.book_owner):
        raise Problem(404, "Not found", f"no account {account_id!r} in your book")
    return list_leads(wh, account_id=account_id, limit=limit)


@router.get("/expansion/config", summary="The thresholds of the expansion signals")
def config_route(platform: PlatformDep, who: ReadAccess) -> dict[str, Any]:
    return config_info(platform)
