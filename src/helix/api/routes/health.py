"""/api/v1: customer health, the same content as `helix health ...`.

* ``GET /accounts/{id}/health``: the explained score (``?date=``) plus the stored daily history
  and colour-change events; a CSM sees only the accounts they own.
* ``GET /health/backtest``: the backtest of the active model (``?horizon_days=90``).
* ``GET /health/backtest/chart``: the same as a chart (``?format=svg`` or ``png``).
* ``GET /health/model``: the active model definition and version.
* ``GET /health/signals``: the signal registry with data availability.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from helix.api.deps import PlatformDep, ReadAccess, WarehouseDep
from helix.api.problems import Problem
from helix.health.charts import backtest_chart_bytes
from helix.health.service import (
    account_health,
    explain_account,
    model_info,
    run_backtest,
    signal_registry,
)

router = APIRouter(tags=["health"])


def _check_book(wh: Any, account_id: str, owner: str | None) -> None:
    if owner is None:
        return
    t = wh.table("account_summary")
    rows = t.filter(t.account_id == account_id).select("owner_email").to_pyarrow().to_pylist()
    if not rows or (rows[0]["owner_email"] or "").lower() != owner.lower():
        raise Problem(404, "Not found", f"no account {account_id!r} in your book")


@router.get("/accounts/{account_id}/health", summary="One account's health, explained, with its history")
def account_health_route(
    account_id: str,
    platform: PlatformDep,
    wh: WarehouseDep,
    who: ReadAccess,
    on: Annotated[date | None, Query(alias="date", description="explain the score of this date")] = None,
    history_days: Annotated[int, Query(ge=1, le=2000)] = 400,
) -> dict[str, Any]:
    _check_book(wh, account_id, who.book_owner)
    explained = explain_account(platform, account_id, on)
    stored = account_health(wh, account_id, days=history_days)
    return {**explained, "history": stored["history"], "events": stored["events"]}


@router.get("/health/backtest", summary="How the score ranked the accounts that later churned")
def backtest_route(
    platform: PlatformDep,
    wh: WarehouseDep,
    who: ReadAccess,
    horizon_days: Annotated[int, Query(ge=7, le=730)] = 90,
) -> dict[str, Any]:
    return run_backtest(platform, horizon_days).to_dict()


@router.get(
    "/health/backtest/chart",
    summary="The backtest as a chart: churn by colour and by score band",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}, "image/png": {}}}},
)
def backtest_chart_route(
    platform: PlatformDep,
    wh: WarehouseDep,
    who: ReadAccess,
    horizon_days: Annotated[int, Query(ge=7, le=730)] = 90,
    fmt: Annotated[Literal["svg", "png"], Query(alias="format")] = "svg",
) -> Response:
    doc = run_backtest(platform, horizon_days).to_dict()
    media = "image/svg+xml" if fmt == "svg" else "image/png"
    return Response(backtest_chart_bytes(doc, fmt), media_type=media)


@router.get("/health/model", summary="The active health model and its version")
def model_route(platform: PlatformDep, who: ReadAccess) -> dict[str, Any]:
    return model_info(platform)


@router.get("/health/signals", summary="The signal registry")
def signals_route(wh: WarehouseDep, who: ReadAccess) -> list[dict[str, Any]]:
    return signal_registry(wh)
