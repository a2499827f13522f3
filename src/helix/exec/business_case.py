"""The business case for Customer Success: three years of retention, expansion and
efficiency value, with NPV, ROI and payback (seed 001, pillar 3 "Economic Optimization").

Inputs (:class:`CaseInputs`) come from the company's data where Helix has them and from
what-if values otherwise (:func:`inputs_from_data`); the model itself
(:func:`business_case`) is closed arithmetic in exact decimals::

    retention[t]  = ARR_target[t] - ARR_base[t]        (helix.metrics.scenarios.simulate_retention
                                                         on the starting ARR, no new logos:
                                                         ARR[t] = ARR[t-1] * GRR)
    expansion[t]  = expansion[t-1] * GRR_target + (share_target - share_base) * growth_arr
    efficiency[t] = cs_cost * efficiency_gain
    benefit[t]    = retention[t] + expansion[t] + efficiency[t]
    cost[0]       = investment_upfront;  cost[t >= 1] = investment_annual
    PV            = sum of x[t] / (1 + d)^t   (benefits and costs at each year's end)
    NPV           = PV(benefits) - PV(costs);  ROI = NPV / PV(costs)
    payback       = when the cumulative (undiscounted) benefit - cost turns >= 0,
                    interpolated linearly inside the year

The seed's worked example: $50M ARR and GRR from 90% to 95% keep $2.5M of ARR in the
first year; 10 more points of expansion share on $10M of yearly growth add $1M; 20%
efficiency on $5M of CS cost saves $1M.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from typing import Any

from helix.errors import UserError
from helix.metrics.periods import cents
from helix.metrics.scenarios import simulate_retention

__all__ = ["CaseInputs", "BusinessCase", "business_case", "inputs_from_data", "DEFAULTS"]

DEFAULTS: dict[str, Decimal] = {
    "grr_points": Decimal("0.05"),
    "expansion_points": Decimal("0.10"),
    "efficiency_gain": Decimal("0.20"),
    "discount_rate": Decimal("0.10"),
}
"""What-if defaults, the seed's conservative case: +5 points of GRR, +10 points of expansion
share, 20% of CS cost saved; 10% cost of capital when the company has not set one."""

_FRACTIONS = (
    "grr_base",
    "grr_target",
    "expansion_share_base",
    "expansion_share_target",
    "efficiency_gain",
    "discount_rate",
)
_MONEY = ("arr", "growth_arr", "cs_cost", "investment_upfront", "investment_annual")


def _dec(name: str, value: Any) -> Decimal:
    try:
        out = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except Exception:  # noqa: BLE001 - any unparsable input is the same user error
        raise UserError(f"{name} must be a number, not {value!r}") from None
    if not out.is_finite():
        raise UserError(f"{name} must be a finite number, not {value!r}")
    return out


@dataclass(frozen=True)
class CaseInputs:
    """Everything the business case needs; rates are fractions (0.95), money per year.

    ``sources`` says where each input came from: ``data`` (measured by Helix),
    ``settings`` (organisation settings), ``what-if`` (given by the caller) or
    ``default`` (:data:`DEFAULTS`).
    """

    arr: Decimal
    grr_base: Decimal
    grr_target: Decimal
    growth_arr: Decimal = Decimal(0)
    expansion_share_base: Decimal = Decimal(0)
    expansion_share_target: Decimal = Decimal(0)
    cs_cost: Decimal = Decimal(0)
    efficiency_gain: Decimal = Decimal(0)
    discount_rate: Decimal = DEFAULTS["discount_rate"]
    investment_upfront: Decimal = Decimal(0)
    investment_annual: Decimal = Decimal(0)
    years: int = 3
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name in _FRACTIONS or f.name in _MONEY:
                object.__setattr__(self, f.name, _dec(f.name, getattr(self, f.name)))
        for name in _MONEY:
            if getattr(self, name) < 0:
                raise UserError(f"{name} must be >= 0, not {getattr(self, name)}")
        for name in _FRACTIONS:
            v = getattr(self, name)
            if not Decimal(0) <= v <= Decimal(1):
                raise UserError(
                    f"{name} must be a fraction between 0 and 1, not {v}",
                    hint="rates are fractions: 0.95 for 95%",
                )
        if self.discount_rate >= 1:
            raise UserError("discount_rate must be below 1")
        if not 1 <= int(self.years) <= 10:
            raise UserError(f"years must be between 1 and 10, not {self.years}")

    def overridden(self, **what_if: Any) -> CaseInputs:
        """A copy with each non-None keyword replacing its input (source ``what-if``)."""
        given = {k: v for k, v in what_if.items() if v is not None}
        sources = {**self.sources, **{k: "what-if" for k in given}}
        return replace(self, **given, sources=sources)

    def to_dict(self) -> dict[str, Any]:
        """The inputs and where each came from."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "sources":
                continue
            v = getattr(self, f.name)
            out[f.name] = (
                float(cents(v)) if f.name in _MONEY else (float(v) if isinstance(v, Decimal) else v)
            )
        out["sources"] = dict(self.sources)
        return out


@dataclass(frozen=True)
class BusinessCase:
    """The computed case: a row per year (0 = the investment) and the totals."""

    inputs: CaseInputs
    rows: list[dict[str, Decimal]]
    pv_benefits: Decimal
    pv_costs: Decimal
    payback_years: Decimal | None
    notes: list[str]

    @property
    def npv(self) -> Decimal:
        """PV of the benefits less PV of the costs."""
        return self.pv_benefits - self.pv_costs

    @property
    def roi(self) -> Decimal | None:
        """NPV over the PV of the costs (None without any cost)."""
        return self.npv / self.pv_costs if self.pv_costs else None

    @property
    def first_year_arr_kept(self) -> Decimal:
        """ARR kept in year 1 by the better GRR: ``(target - base) * ARR``."""
        return self.rows[1]["retention"]

    def to_dict(self) -> dict[str, Any]:
        """JSON form: inputs, the yearly table (money to the cent), NPV, ROI, payback."""
        table = [
            {
                k: (
                    float(cents(v))
                    if k not in ("year", "discount_factor")
                    else (int(v) if k == "year" else float(round(v, 6)))
                )
                for k, v in r.items()
            }
            for r in self.rows
        ]
        total = {
            k: float(cents(sum((r[k] for r in self.rows), Decimal(0))))
            for k in ("retention", "expansion", "efficiency", "benefit", "cost", "net")
        }
        return {
            "inputs": self.inputs.to_dict(),
            "years": self.inputs.years,
            "table": table,
            "totals": total,
            "first_year_arr_kept": float(cents(self.first_year_arr_kept)),
            "pv_benefits": float(cents(self.pv_benefits)),
            "pv_costs": float(cents(self.pv_costs)),
            "npv": float(cents(self.npv)),
            "roi": float(round(self.roi, 6)) if self.roi is not None else None,
            "payback_years": float(round(self.payback_years, 4))
            if self.payback_years is not None
            else None,
            "payback_months": float(round(self.payback_years * 12, 1))
            if self.payback_years is not None
            else None,
            "notes": self.notes,
        }


def business_case(inputs: CaseInputs) -> BusinessCase:
    """The three-year (``inputs.years``) case of ``inputs`` (see the module docstring)."""
    years = int(inputs.years)
    sim = simulate_retention(inputs.arr, 0, inputs.grr_base, inputs.grr_target, years)
    increment = (inputs.expansion_share_target - inputs.expansion_share_base) * inputs.growth_arr
    saving = inputs.cs_cost * inputs.efficiency_gain
    one = Decimal(1)
    rows: list[dict[str, Decimal]] = []
    expansion = Decimal(0)
    cumulative = -inputs.investment_upfront
    rows.append({
        "year": Decimal(0), "retention": Decimal(0), "expansion": Decimal(0),
        "efficiency": Decimal(0), "benefit": Decimal(0), "cost": inputs.investment_upfront,
        "net": -inputs.investment_upfront, "discount_factor": one,
        "pv_net": -inputs.investment_upfront, "cumulative_net": cumulative,
    })  # fmt: skip
    pv_b = Decimal(0)
    pv_c = inputs.investment_upfront
    payback: Decimal | None = None
    for t in range(1, years + 1):
        retention = sim.arr_b[t] - sim.arr_a[t]
        expansion = expansion * inputs.grr_target + increment
        benefit = retention + expansion + saving
        cost = inputs.investment_annual
        net = benefit - cost
        factor = one / (one + inputs.discount_rate) ** t
        pv_b += benefit * factor
        pv_c += cost * factor
        before = cumulative
        cumulative += net
        if payback is None and cumulative >= 0 and net > 0:
            payback = Decimal(t - 1) + (-before) / net
        rows.append({
            "year": Decimal(t), "retention": retention, "expansion": expansion,
            "efficiency": saving, "benefit": benefit, "cost": cost, "net": net,
            "discount_factor": factor, "pv_net": net * factor, "cumulative_net": cumulative,
        })  # fmt: skip
    notes: list[str] = []
    if pv_c == 0:
        payback = None
        notes.append("no investment given: ROI and payback need --investment or --annual-cost")
    elif payback is None:
        notes.append(f"the investment does not pay back within {years} years")
    if inputs.sources.get("cs_cost") == "missing":
        notes.append(
            "no CS cost known: set economics.csm_cost and economics.csm_headcount "
            "(or give --cs-cost) for the efficiency value"
        )
    if inputs.grr_target < inputs.grr_base:
        notes.append("the target GRR is below the current one: retention value is negative")
    return BusinessCase(inputs, rows, pv_b, pv_c, payback, notes)


def inputs_from_data(
    *,
    arr: Decimal | None,
    grr: float | None,
    expansion_mrr: Decimal | None,
    new_mrr: Decimal | None,
    csm_cost: Decimal | None,
    csm_headcount: int | None,
    discount_rate: Decimal | None,
    what_if: dict[str, Any] | None = None,
) -> CaseInputs:
    """Inputs measured by Helix (trailing-year ARR, GRR, expansion and new MRR, CS cost
    from the economics settings), each replaced by its what-if value when one is given.

    Targets default to the seed's conservative case (:data:`DEFAULTS`): GRR + 5 points
    (at most 99%), expansion share + 10 points (at most 100%), 20% efficiency.
    """
    given = {k: v for k, v in (what_if or {}).items() if v is not None}
    sources: dict[str, str] = {}

    def pick(name: str, measured: Any, source: str = "data") -> Any:
        if name in given:
            sources[name] = "what-if"
            return given[name]
        if measured is None:
            raise UserError(
                f"Helix cannot measure {name.replace('_', ' ')} from the data",
                hint=f"give it as a what-if input ({name.replace('_', '-')})",
            )
        sources[name] = source
        return measured

    arr_v = _dec("arr", pick("arr", arr))
    grr_v = _dec("grr_base", pick("grr_base", grr))
    exp = Decimal(expansion_mrr or 0) * 12
    new = Decimal(new_mrr or 0) * 12
    measured_growth = exp + new if (expansion_mrr is not None or new_mrr is not None) else None
    growth = _dec("growth_arr", pick("growth_arr", measured_growth))
    share_measured = (
        (exp / (exp + new))
        if (exp + new) > 0
        else (Decimal(0) if measured_growth is not None else None)
    )
    share = _dec("expansion_share_base", pick("expansion_share_base", share_measured))
    cs_measured = (
        Decimal(csm_cost) * csm_headcount
        if csm_cost is not None and csm_headcount is not None
        else None
    )
    if cs_measured is None and "cs_cost" not in given:
        cs_cost, sources["cs_cost"] = Decimal(0), "missing"
    else:
        cs_cost = _dec("cs_cost", pick("cs_cost", cs_measured, "settings"))

    def target(name: str, base: Decimal, points: Decimal, cap: Decimal) -> Decimal:
        if name in given:
            sources[name] = "what-if"
            return _dec(name, given[name])
        sources[name] = "default"
        return min(base + points, cap)

    grr_t = target("grr_target", grr_v, DEFAULTS["grr_points"], Decimal("0.99"))
    share_t = target("expansion_share_target", share, DEFAULTS["expansion_points"], Decimal(1))
    rest: dict[str, Any] = {}
    for name, default in (
        ("efficiency_gain", DEFAULTS["efficiency_gain"]),
        ("investment_upfront", Decimal(0)),
        ("investment_annual", Decimal(0)),
        ("years", 3),
    ):
        rest[name] = given.get(name, default)
        sources[name] = "what-if" if name in given else "default"
    if "discount_rate" in given:
        rest["discount_rate"], sources["discount_rate"] = given["discount_rate"], "what-if"
    elif discount_rate is not None:
        rest["discount_rate"], sources["discount_rate"] = discount_rate, "settings"
    else:
        rest["discount_rate"], sources["discount_rate"] = DEFAULTS["discount_rate"], "default"
    return CaseInputs(
        arr=arr_v,
        grr_base=grr_v,
        grr_target=grr_t,
        growth_arr=growth,
        expansion_share_base=share,
        expansion_share_target=share_t,
        cs_cost=cs_cost,
        sources=sources,
        **rest,
    )
