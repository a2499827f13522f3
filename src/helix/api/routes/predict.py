"""/api/v1/predictions: the same content as `helix predict ...`.

* ``GET /predictions/backtest``: the time-split backtest (``?target=churn&horizon_days=90``).
* ``GET /predictions``: the latest predictions, most likely first (``?target=&limit=``); a CSM
  sees the accounts of their book only.
* ``GET /accounts/{id}/predictions``: one account's predictions over time, with drivers.
* ``GET /predictions/models``: the registered model versions.
* ``GET /predictions/drift``: population stability of each feature since training.
* ``GET /predictions/survival/backtest``: the time-split backtest of the time-to-churn model.
* ``GET /predictions/timing``: the latest time-to-churn estimates, soonest first (a CSM: their
  book); ``GET /accounts/{id}/churn-timing``: one account's estimates over time.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from helix.api.deps import PlatformDep, ReadAccess, WarehouseDep
from helix.api.problems import Problem
from helix.predict.registry import list_models
from helix.predict.service import (
    account_predictions,
    churn_timing,
    run_backtest,
    run_drift,
    run_survival_backtest,
)

router = APIRouter(tags=["predictions"])


@router.get("/predictions/backtest", summary="Train on earlier dates, test on later ones")
def backtest_route(
    platform: PlatformDep,
    wh: WarehouseDep,
    who: ReadAccess,
    target: Annotated[Literal["churn", "expansion", "contraction"], Query()] = "churn",
    horizon_days: Annotated[int, Query(ge=7, le=730)] = 90,
) -> dict[str, Any]:
    return run_backtest(platform, target, horizon_days)


@router.get("/predictions", summary="The latest predictions, most likely first, with drivers")
def predictions_route(
    wh: WarehouseDep,
    who: ReadAccess,
    target: Annotated[Literal["churn", "expansion", "contraction"], Query()] = "churn",
    limit: Annotated[int, Query(ge=1, le=10000)] = 50,
) -> list[dict[str, Any]]:
    return account_predictions(wh, target=target, limit=limit, owner=who.book_owner)


@router.get("/accounts/{account_id}/predictions", summary="One account's prediction history")
def account_predictions_route(
    account_id: str,
    wh: WarehouseDep,
    who: ReadAccess,
    limit: Annotated[int, Query(ge=1, le=2000)] = 400,
) -> list[dict[str, Any]]:
    rows = account_predictions(wh, account_id=account_id, limit=limit, owner=who.book_owner)
    if not rows:
        raise Problem(404, "Not found", f"no predictions for account {account_id!r} in your book")
    return rows


@router.get("/predictions/models", summary="Registered model versions and their backtest figures")
def models_route(platform: PlatformDep, who: ReadAccess) -> list[dict[str, Any]]:
    return [m.to_dict() for m in list_models(platform.settings.home)]


@router.get("/predictions/drift", summary="How far today's data has moved from the training data")
def drift_route(platform: PlatformDep, wh: WarehouseDep, who: ReadAccess) -> dict[str, Any]:
    return run_drift(platform)


@router.get("/predictions/survival/backtest", summary="Backtest of the time-to-churn model")
def survival_backtest_route(
    platform: PlatformDep, wh: WarehouseDep, who: ReadAccess
) -> dict[str, Any]:
    return run_survival_backtest(platform)


@router.get("/predictions/timing", summary="Time to churn of each account, soonest first")
def timing_route(
    wh: WarehouseDep,
    who: ReadAccess,
    limit: Annotated[int, Query(ge=1, le=10000)] = 50,
) -> list[dict[str, Any]]:
    return churn_timing(wh, limit=limit, owner=who.book_owner)


@router.get("/accounts/{account_id}/churn-timing", summary="One account's time-to-churn history")
def account_timing_route(
    account_id: str,
    wh: WarehouseDep,
    who: ReadAccess,
    limit: Annotated[int, Query(ge=1, le=2000)] = 400,
) -> list[dict[str, Any]]:
    rows = churn_timing(wh, account_id=account_id, limit=limit, owner=who.book_owner)
    if not rows:
        raise Problem(
            404, "Not found", f"no time-to-churn estimate for {account_id!r} in your book"
        )
    return rows
