"""/api/v1: the executive layer: scorecards, evidence, benchmarks, business case, roadmap.

The same documents as `helix assess ...` and `helix report business-case|roadmap|benchmark
--json` (docs/executive.md). Every signed-in role and every read key reads; taking a
scorecard, backtesting for evidence, recording a roadmap checkpoint and marking a gate
are for leaders and admins (and admin-scoped keys).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from helix.api.deps import PlatformDep, Principal, ReadAccess, WarehouseDep, current_principal
from helix.api.problems import Problem
from helix.store import Role, Scope

router = APIRouter(tags=["executive"])

Kind = Literal["maturity", "imperatives", "pillars"]
AsOf = Annotated[date | None, Query(description="as of this date (default: the last run)")]


def can_lead(who: Principal) -> bool:
    """Leaders and admins (and admin-scoped API keys) take scorecards and mark gates."""
    if who.kind == "key":
        return who.scope == Scope.ADMIN
    return who.role in (Role.ADMIN, Role.LEADER)


def require_leader(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not can_lead(principal):
        raise Problem(403, "Forbidden", "only leaders and admins may do this")
    return principal


LeaderAccess = Annotated[Principal, Depends(require_leader)]


def _actor(who: Principal) -> str:
    return f"api:{who.name}"


class ScorecardIn(BaseModel):
    """Scores 1-10 for every item of the scorecard, and optional notes."""

    model_config = ConfigDict(extra="forbid")
    scores: dict[str, int] = Field(description="item key -> score 1..10")
    notes: dict[str, Annotated[str, Field(max_length=2000)]] = Field(default_factory=dict)


class MarkIn(BaseModel):
    """Whether a manual roadmap gate is met, with a note."""

    model_config = ConfigDict(extra="forbid")
    done: bool
    note: Annotated[str, Field(max_length=2000)] = ""


@router.get("/assessments/evidence", summary="What Helix's data proposes per maturity dimension")
def evidence_route(platform: PlatformDep, wh: WarehouseDep, who: ReadAccess,
                   as_of: AsOf = None) -> dict[str, Any]:
    from helix.exec.service import maturity_evidence

    return maturity_evidence(platform, as_of)


@router.post("/assessments/evidence/backtest",
             summary="Backtest the health score, store the figures, return the evidence")
def evidence_backtest_route(platform: PlatformDep, wh: WarehouseDep,
                            who: LeaderAccess) -> dict[str, Any]:
    from helix.exec.service import maturity_evidence

    return maturity_evidence(platform, backtest=True, actor=_actor(who))


@router.get("/assessments/{kind}/questions", summary="The questionnaire of a scorecard")
def questions_route(kind: Kind, who: ReadAccess) -> dict[str, Any]:
    from helix.exec.service import questionnaire

    return questionnaire(kind)


@router.get("/assessments/{kind}", summary="Every stored scorecard of a kind, with progress")
def history_route(kind: Kind, platform: PlatformDep, who: ReadAccess) -> dict[str, Any]:
    from helix.exec.service import assessment_history

    return assessment_history(platform, kind)


@router.post("/assessments/{kind}", status_code=201, summary="Take and store a scorecard")
def take_route(kind: Kind, body: ScorecardIn, platform: PlatformDep, wh: WarehouseDep,
               who: LeaderAccess) -> dict[str, Any]:
    from helix.exec.service import take_assessment

    return take_assessment(platform, kind, dict(body.scores), notes=dict(body.notes),
                           actor=_actor(who))


@router.get("/benchmarks", summary="Quartiles and bands with the gap to the next in dollars")
def benchmarks_route(
    platform: PlatformDep, wh: WarehouseDep, who: ReadAccess, as_of: AsOf = None,
    months: Annotated[int, Query(ge=1, le=120)] = 12,
    segment: Annotated[str | None, Query(max_length=200)] = None,
    ttv_days: Annotated[float | None, Query(ge=0)] = None,
) -> dict[str, Any]:
    from helix.exec.service import benchmark_doc

    return benchmark_doc(platform, as_of, months=months, segment=segment, ttv_days=ttv_days)


Frac = Annotated[float | None, Query(ge=0, le=1)]
Money = Annotated[float | None, Query(ge=0)]


@router.get("/business-case", summary="Three-year NPV, ROI and payback (what-if inputs)")
def business_case_route(
    platform: PlatformDep, wh: WarehouseDep, who: ReadAccess, as_of: AsOf = None,
    arr: Money = None, grr: Frac = None, grr_target: Frac = None, growth_arr: Money = None,
    expansion_share: Frac = None, expansion_share_target: Frac = None, cs_cost: Money = None,
    efficiency: Frac = None, discount_rate: Annotated[float | None, Query(ge=0, lt=1)] = None,
    investment: Money = None, annual_cost: Money = None,
    years: Annotated[int | None, Query(ge=1, le=10)] = None,
    months: Annotated[int, Query(ge=1, le=120, description="history window, annualised")] = 12,
) -> dict[str, Any]:
    from helix.exec.service import business_case_doc

    return business_case_doc(platform, as_of, months=months, what_if={
        "arr": arr, "grr_base": grr, "grr_target": grr_target, "growth_arr": growth_arr,
        "expansion_share_base": expansion_share, "expansion_share_target": expansion_share_target,
        "cs_cost": cs_cost, "efficiency_gain": efficiency, "discount_rate": discount_rate,
        "investment_upfront": investment, "investment_annual": annual_cost, "years": years})


@router.get("/roadmap", summary="Phases, live phase gates, quick wins and progress")
def roadmap_route(platform: PlatformDep, wh: WarehouseDep, who: ReadAccess,
                  as_of: AsOf = None) -> dict[str, Any]:
    from helix.exec.service import roadmap_doc

    return roadmap_doc(platform, as_of)


@router.post("/roadmap/checkpoints", status_code=201,
             summary="Store the gate results now as a progress checkpoint")
def checkpoint_route(platform: PlatformDep, wh: WarehouseDep,
                     who: LeaderAccess) -> dict[str, Any]:
    from helix.exec.service import record_checkpoint

    return record_checkpoint(platform, actor=_actor(who))


@router.put("/roadmap/gates/{key}", summary="Record a manual gate as met or not")
def mark_route(key: str, body: MarkIn, platform: PlatformDep,
               who: LeaderAccess) -> dict[str, Any]:
    from helix.exec.service import mark_gate

    return mark_gate(platform, key, body.done, note=body.note, actor=_actor(who))
