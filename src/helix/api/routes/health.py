"""/api/v1: customer health, the same content as `helix health ...`.

* ``GET /accounts/{id}/health``: the explained score (``?date=``) plus the stored daily history
  and colour-change events; a CSM sees only the accounts they own.
* ``GET /health/backtest``: the backtest of the active model (``?horizon_days=90``).
* ``GET /health/backtest/chart``: the same as a chart (``?format=svg`` or ``png``).
* ``GET /health/model``: the active model definition and version.
* ``GET /health/signals``: the signal registry with data availability.
* ``GET /health/proposal``: the stored weight proposal of `helix health fit`, with its date.
* ``POST /health/proposal``: fit weights again and store the proposal (leaders, admins).
* ``POST /health/proposal/accept``: make the stored proposal the active model, as
  ``helix health fit --accept`` does (leaders, admins; 409 when the model changed since).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from helix.api.deps import PlatformDep, Principal, ReadAccess, WarehouseDep, WriteAccess
from helix.api.problems import Problem
from helix.health.charts import backtest_chart_bytes
from helix.health.service import (
    account_health,
    explain_account,
    model_info,
    run_backtest,
    signal_registry,
)
from helix.store import Role, Scope

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


def can_manage_health(who: Principal) -> bool:
    """Leaders and admins (and admin-scoped API keys) may refit and accept weights."""
    if who.kind == "key":
        return who.scope == Scope.ADMIN
    return who.role in (Role.ADMIN, Role.LEADER)


def _manager(who: Principal) -> Principal:
    if not can_manage_health(who):
        raise Problem(403, "Forbidden", "only leaders and admins may change the health model")
    return who


class ProposalIn(BaseModel):
    """What to fit the proposed weights on."""

    horizon_days: int = Field(90, ge=7, le=730)
    target: Literal["churn", "churn_or_contraction"] = "churn"


@router.get("/health/proposal", summary="The stored weight proposal of `helix health fit`")
def proposal_route(platform: PlatformDep, who: ReadAccess) -> dict[str, Any]:
    from helix.health.proposal import get_proposal

    doc = get_proposal(platform)
    if doc is None:
        raise Problem(404, "Not found", "no weight proposal has been computed yet")
    return doc


@router.post("/health/proposal", status_code=201, summary="Fit weights and store the proposal")
def propose_route(
    platform: PlatformDep, wh: WarehouseDep, who: WriteAccess, body: ProposalIn | None = None
) -> dict[str, Any]:
    from helix.health.proposal import propose

    _manager(who)
    body = body or ProposalIn()
    return propose(platform, body.horizon_days, target=body.target, actor=f"api:{who.name}")


@router.post("/health/proposal/accept", summary="Make the stored proposal the active model")
def accept_route(platform: PlatformDep, wh: WarehouseDep, who: WriteAccess) -> dict[str, Any]:
    from helix.health.proposal import StaleProposal, accept_proposal

    _manager(who)
    try:
        return accept_proposal(platform, actor=f"api:{who.name}")
    except StaleProposal as exc:
        raise Problem(409, "Conflict", exc.for_people()) from exc
