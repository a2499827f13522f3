"""/api/v1/metrics: retention economics, the same numbers as `helix metrics` and `helix simulate`.

Money is a JSON number rounded to the cent; rates are fractions. Aggregate
figures are open to every reader; an account's ledger follows the caller's
book (a CSM sees only the accounts they own). Definitions: docs/metrics.md.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from helix.api.deps import PlatformDep, ReadAccess, WarehouseDep
from helix.api.problems import Problem
from helix.metrics import (
    EconomicsInputs,
    benchmark,
    cltv_sensitivity,
    cohort_table,
    retention_by,
    retention_series,
    retention_window,
    simulate_retention,
    unit_economics,
)
from helix.metrics.mrr import account_ledger, ledger, rollforward
from helix.metrics.periods import add_months, month_start
from helix.metrics.unit_economics import SETTING_KEYS

router = APIRouter(prefix="/metrics", tags=["metrics"])

Money = Annotated[float, Field(description="amount of money, rounded to the cent")]
Rate = Annotated[float | None, Field(description="a fraction (0.93 = 93%); null when undefined")]


def _today() -> date:
    return datetime.now(UTC).date()


# -- response models ----------------------------------------------------------------


class ChurnByType(BaseModel):
    """Churned MRR by kind; ``downgrade`` is the contraction MRR."""

    voluntary: Money
    involuntary: Money
    unknown: Money
    downgrade: Money


class ExpansionByType(BaseModel):
    """Expansion MRR by driver."""

    seats: Money
    tier: Money
    cross_sell: Money
    usage_price: Money


class ContractionByType(BaseModel):
    """Contraction MRR by driver."""

    seats: Money
    tier: Money
    product_dropped: Money
    usage_price: Money


class RetentionDetail(BaseModel):
    """Splits and counts behind a window (``detail=true``)."""

    new_logo_mrr: Money
    reactivation_mrr: Money
    contraction_by_type: ContractionByType
    accounts_expanded: int
    accounts_contracted: int
    accounts_new: int
    accounts_reactivated: int


class RetentionWindowOut(BaseModel):
    """Retention over [start, end) of the accounts with MRR > 0 at start."""

    start: date
    end: date
    accounts_start: int
    accounts_churned: int
    logo_retention: Rate
    logo_churn_rate: Rate
    start_mrr: Money
    churned_mrr: Money
    contraction_mrr: Money
    expansion_mrr: Money
    end_mrr: Money = Field(description="MRR at end of the accounts active at start")
    new_mrr: Money = Field(description="MRR at end of accounts not active at start (not in NRR)")
    grr: Rate
    nrr: Rate
    churn_by_type: ChurnByType
    expansion_by_type: ExpansionByType
    detail: RetentionDetail | None = None


class GroupedRetentionOut(BaseModel):
    """A window in total and per group."""

    by: str
    total: RetentionWindowOut
    groups: dict[str, RetentionWindowOut]


class SeriesWindowOut(RetentionWindowOut):
    """One window of a series, labelled by its period."""

    period: str


class RetentionSeriesOut(BaseModel):
    """Monthly, quarterly or trailing-twelve-month windows."""

    model_config = ConfigDict(populate_by_name=True)

    series: str
    from_: date | None = Field(alias="from")
    to: date | None
    windows: list[SeriesWindowOut]


class LedgerMonthOut(BaseModel):
    """One month of the MRR ledger (one account, or all accounts summed)."""

    month: date
    start_mrr: Money
    new_mrr: Money
    reactivation_mrr: Money
    expansion_mrr: Money
    contraction_mrr: Money
    churned_mrr: Money
    end_mrr: Money
    movement: str | None = None
    movement_type: str | None = None
    churn_date: date | None = None
    period_end: date | None = None
    accounts_start: int | None = None
    accounts_end: int | None = None


class LedgerOut(BaseModel):
    """Month-by-month ledger."""

    as_of: date
    account_id: str | None = None
    months: list[LedgerMonthOut]


class CohortRowOut(BaseModel):
    """One acquisition cohort; ``values[k]`` is the measure k months after its baseline."""

    cohort: str
    period_start: date
    baseline: date
    acquired: int
    accounts: int
    start_mrr: Money
    values: list[float | None]


class CohortTableOut(BaseModel):
    """The cohort grid of one measure."""

    by: str
    measure: str
    as_of: date
    columns: list[int]
    rows: list[CohortRowOut]


class InputsOut(BaseModel):
    """The economics inputs used (settings, then overrides)."""

    gross_margin: float | None
    cac: float | None
    csm_cost: float | None
    csm_headcount: int | None
    discount_rate: float | None
    lifespan_years: float | None


class CltvOut(BaseModel):
    """CLTV by method (null when an input is missing or the value is unbounded)."""

    simple: Money | None
    churn_based: Money | None
    discounted: Money | None


class LtvCacOut(BaseModel):
    """LTV:CAC by CLTV method."""

    simple: float | None
    churn_based: float | None
    discounted: float | None


class GroupRatioOut(BaseModel):
    """Accounts, ARR and CSMs (distinct account owners) of one segment or tier."""

    accounts: int
    arr: Money
    csms: int
    accounts_per_csm: float | None
    arr_per_csm: Money | None


class OverallRatioOut(BaseModel):
    """Ratios against the CSM headcount setting."""

    csm_headcount: int | None
    accounts_per_csm: float | None
    arr_per_csm: Money | None


class CsmRatiosOut(BaseModel):
    """CSM coverage overall, by segment label and by ARR tier."""

    overall: OverallRatioOut
    by_segment: dict[str, GroupRatioOut]
    by_tier: dict[str, GroupRatioOut]


class WindowRangeOut(BaseModel):
    """A [start, end) range."""

    start: date
    end: date


class UnitEconomicsOut(BaseModel):
    """CLTV three ways, LTV:CAC, ARR by segment and tier, cost-to-serve, CSM ratios."""

    as_of: date
    window: WindowRangeOut
    inputs: InputsOut
    accounts: int
    mrr: Money
    arr: Money
    arpa: Money | None
    annual_churn_rate: Rate
    lifespan_years: float | None
    lifespan_source: str
    cltv: CltvOut
    ltv_cac: LtvCacOut
    cost_to_serve: Rate
    arr_by_segment: dict[str, Money]
    arr_by_tier: dict[str, Money]
    csm_ratios: CsmRatiosOut
    grr: Rate
    nrr: Rate
    notes: list[str]


class PlacementOut(BaseModel):
    """Where one metric sits on a published band or quartile scale."""

    metric: str
    kind: Literal["band", "quartile"]
    value: float | None
    level: str | None
    range: str | None
    levels: dict[str, str]
    source: str
    note: str | None


class BenchmarkOut(BaseModel):
    """Every placement for a window."""

    as_of: date
    window: WindowRangeOut
    segment: str | None
    placements: list[PlacementOut]


class ScenarioYearOut(BaseModel):
    """ARR of both companies at the end of one year (year 0 = today)."""

    year: int
    arr_a: Money
    arr_b: Money
    difference: Money


class RetentionScenarioOut(BaseModel):
    """Two companies equal but for gross retention."""

    start_arr: Money
    new_arr_per_year: Money
    grr_a: float
    grr_b: float
    years: int
    timing: str
    table: list[ScenarioYearOut]
    difference: Money


class CltvRowOut(BaseModel):
    """CLTV at one retention level."""

    points: float
    retention: float
    churn_rate: float
    lifespan_years: float
    cltv: Money
    cltv_change: float | None
    discounted_cltv: Money | None = None
    arr_kept_first_year: Money | None = None


class CltvSensitivityOut(BaseModel):
    """What N points of retention are worth."""

    arpa: Money
    gross_margin: float
    retention: float
    discount_rate: float | None
    arr: Money | None
    rows: list[CltvRowOut]


# -- routes -------------------------------------------------------------------------

StartQ = Annotated[date | None, Query(description="window start (default: 12 months before end)")]
EndQ = Annotated[
    date | None, Query(description="window end, exclusive (default: this month's 1st)")
]
SegmentQ = Annotated[str | None, Query(max_length=200, description="only this segment label")]
AsOfQ = Annotated[date | None, Query(description="measure as of this date (default today, UTC)")]
MonthsQ = Annotated[int, Query(ge=1, le=120, description="months of history for churn")]


def _window(start: date | None, end: date | None) -> tuple[date, date]:
    e = end or month_start(_today())
    return start or add_months(e, -12), e


@router.get("/retention", summary="NRR, GRR, logo retention and composition over a window")
def retention(
    wh: WarehouseDep,
    who: ReadAccess,
    start: StartQ = None,
    end: EndQ = None,
    segment: SegmentQ = None,
    detail: bool = False,
) -> RetentionWindowOut:
    s, e = _window(start, end)
    return RetentionWindowOut.model_validate(
        retention_window(wh, s, e, segment=segment).to_dict(detail)
    )


@router.get("/retention/groups", summary="A retention window per segment, owner, product or cohort")
def retention_groups(
    wh: WarehouseDep,
    who: ReadAccess,
    by: Annotated[Literal["segment", "owner", "product", "cohort"], Query()] = "segment",
    start: StartQ = None,
    end: EndQ = None,
    segment: SegmentQ = None,
    detail: bool = False,
) -> GroupedRetentionOut:
    s, e = _window(start, end)
    return GroupedRetentionOut.model_validate(
        retention_by(wh, s, e, by, segment=segment).to_dict(detail)
    )


@router.get("/retention/series", summary="Monthly, quarterly or trailing-12-month retention")
def retention_series_route(
    wh: WarehouseDep,
    who: ReadAccess,
    frequency: Annotated[Literal["monthly", "quarterly", "t12m"], Query()] = "monthly",
    first: Annotated[date | None, Query(alias="from", description="first period")] = None,
    last: Annotated[date | None, Query(alias="to", description="last period (its start)")] = None,
    segment: SegmentQ = None,
) -> RetentionSeriesOut:
    to_day = last or add_months(month_start(_today()), -1)
    from_day = first or add_months(to_day, -11)
    doc = retention_series(wh, frequency, from_day, to_day, segment=segment).to_dict()
    return RetentionSeriesOut.model_validate(doc)


@router.get("/ledger", summary="Monthly MRR roll-forward of all accounts")
def ledger_rollforward(wh: WarehouseDep, who: ReadAccess, as_of: AsOfQ = None) -> LedgerOut:
    day = as_of or _today()
    months = rollforward(ledger(wh, day)).to_pyarrow().to_pylist()
    return LedgerOut.model_validate({"as_of": day, "months": months})


@router.get("/ledger/{account_id}", summary="One account's month-by-month MRR movements")
def ledger_account(
    account_id: str, wh: WarehouseDep, who: ReadAccess, as_of: AsOfQ = None
) -> LedgerOut:
    accounts = wh.table("accounts")
    found = accounts.filter(accounts.account_id == account_id).select("owner_email")
    rows = found.to_pyarrow().to_pylist()
    owner = (rows[0]["owner_email"] or "") if rows else ""
    if not rows or (who.book_owner and owner.lower() != who.book_owner.lower()):
        raise Problem(404, "Not found", f"no account {account_id!r} in your book")
    day = as_of or _today()
    months = account_ledger(wh, account_id, day)
    return LedgerOut.model_validate({"as_of": day, "account_id": account_id, "months": months})


@router.get("/cohorts", summary="Retention by acquisition cohort")
def cohorts(
    wh: WarehouseDep,
    who: ReadAccess,
    by: Annotated[Literal["month", "quarter"], Query()] = "quarter",
    measure: Annotated[Literal["logo", "grr", "nrr"], Query()] = "grr",
    as_of: AsOfQ = None,
    since: Annotated[date | None, Query(description="only cohorts acquired from this date")] = None,
    segment: SegmentQ = None,
) -> CohortTableOut:
    table = cohort_table(
        wh, as_of or _today(), by=by, measure=measure, segment=segment, since=since
    )
    return CohortTableOut.model_validate(table.to_dict())


def _inputs(platform: Any, overrides: dict[str, Any]) -> EconomicsInputs:
    from helix.store.settings import get_setting

    with platform.store.session() as session:
        stored = {key: get_setting(session, key) for key in SETTING_KEYS.values()}
    return EconomicsInputs.from_settings(stored).overridden(**overrides)


@router.get("/unit-economics", summary="CLTV, LTV:CAC, ARR by segment, cost-to-serve, CSM ratios")
def unit_economics_route(
    wh: WarehouseDep,
    who: ReadAccess,
    platform: PlatformDep,
    as_of: AsOfQ = None,
    months: MonthsQ = 12,
    segment: SegmentQ = None,
    gross_margin: Annotated[float | None, Query(gt=0, le=1)] = None,
    cac: Annotated[float | None, Query(ge=0)] = None,
    csm_cost: Annotated[float | None, Query(ge=0)] = None,
    csm_headcount: Annotated[int | None, Query(ge=0)] = None,
    discount_rate: Annotated[float | None, Query(ge=0, lt=1)] = None,
    lifespan_years: Annotated[float | None, Query(gt=0)] = None,
) -> UnitEconomicsOut:
    inputs = _inputs(
        platform,
        {
            "gross_margin": gross_margin,
            "cac": cac,
            "csm_cost": csm_cost,
            "csm_headcount": csm_headcount,
            "discount_rate": discount_rate,
            "lifespan_years": lifespan_years,
        },
    )
    result = unit_economics(wh, as_of or _today(), inputs, months=months, segment=segment)
    return UnitEconomicsOut.model_validate(result.to_dict())


@router.get("/benchmark", summary="Metrics placed in the published bands and quartiles")
def benchmark_route(
    wh: WarehouseDep,
    who: ReadAccess,
    platform: PlatformDep,
    as_of: AsOfQ = None,
    months: MonthsQ = 12,
    segment: SegmentQ = None,
    ttv_days: Annotated[float | None, Query(ge=0, description="median time-to-value")] = None,
) -> BenchmarkOut:
    inputs = _inputs(platform, {})
    doc = benchmark(
        wh, as_of or _today(), inputs, months=months, segment=segment, time_to_value_days=ttv_days
    )
    return BenchmarkOut.model_validate(doc)


@router.get("/simulate/retention", summary="Two companies equal but for gross retention")
def simulate_retention_route(
    who: ReadAccess,
    start_arr: Annotated[float, Query(ge=0)],
    new_arr_per_year: Annotated[float, Query(ge=0)],
    grr_a: Annotated[float, Query(ge=0, le=1)],
    grr_b: Annotated[float, Query(ge=0, le=1)],
    years: Annotated[int, Query(ge=1, le=50)] = 5,
    timing: Annotated[Literal["end", "start"], Query()] = "end",
) -> RetentionScenarioOut:
    result = simulate_retention(start_arr, new_arr_per_year, grr_a, grr_b, years, timing)
    return RetentionScenarioOut.model_validate(result.to_dict())


@router.get("/simulate/cltv", summary="CLTV sensitivity: what N points of retention are worth")
def simulate_cltv_route(
    who: ReadAccess,
    arpa: Annotated[float, Query(ge=0, description="annual revenue per customer")],
    gross_margin: Annotated[float, Query(gt=0, le=1)],
    retention: Annotated[float, Query(ge=0, lt=1)],
    points: Annotated[list[float] | None, Query(description="points to add (repeatable)")] = None,
    discount_rate: Annotated[float | None, Query(ge=0, lt=1)] = None,
    arr: Annotated[float | None, Query(ge=0)] = None,
) -> CltvSensitivityOut:
    result = cltv_sensitivity(
        arpa,
        gross_margin,
        retention,
        points or [1, 2, 3, 4, 5],
        discount_rate=discount_rate,
        arr=arr,
    )
    return CltvSensitivityOut.model_validate(result.to_dict())


__all__ = ["router"]
