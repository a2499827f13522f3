"""/api/v1/predictions: the same content as `helix predict ...`.

* ``GET /predictions/backtest``: the time-split backtest (``?target=churn&horizon_days=90``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from helix.api.deps import PlatformDep, ReadAccess, WarehouseDep
from helix.predict import run_backtest

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
