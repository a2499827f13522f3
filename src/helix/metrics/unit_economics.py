"""Unit economics: CLTV three ways, LTV:CAC, ARR by segment and tier, cost-to-serve, CSM ratios.

The company-specific inputs (gross margin, CAC, CSM cost and headcount,
discount rate) are plain arguments in :class:`EconomicsInputs`; the CLI and
API read them from the organisation's settings and let each call override
them. A figure whose input is missing is ``None`` with a note saying which
setting to provide; nothing is guessed.

Formulas (annual figures; ``arpa`` = ARR / active accounts, ``m`` = gross margin,
``c`` = annual customer churn rate, ``d`` = discount rate)::

    simple CLTV      = arpa * lifespan_years * m
    churn-based CLTV = arpa * m / c
    discounted CLTV  = sum over years t >= 1 of arpa * m * (1 - c)^(t-1) / (1 + d)^t
                     = arpa * m / (d + c)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import ibis
import ibis.expr.types as ir

from helix.errors import UserError
from helix.metrics.movements import Sources, to_cents
from helix.metrics.mrr import mrr_at
from helix.metrics.periods import Period, add_months, cents, ratio
from helix.metrics.retention import RetentionWindow, retention_for_periods
from helix.warehouse import Warehouse

__all__ = [
    "EconomicsInputs",
    "UnitEconomics",
    "SETTING_KEYS",
    "ENTERPRISE_ARR",
    "MID_MARKET_ARR",
    "tier_of",
    "simple_cltv",
    "churn_cltv",
    "discounted_cltv",
    "unit_economics",
]

ENTERPRISE_ARR = 100_000
"""ARR above which an account is enterprise (BRIEF section 9; same as ``account_summary``)."""
MID_MARKET_ARR = 25_000
"""ARR from which an account is mid-market; below it, SMB."""

SETTING_KEYS: dict[str, str] = {
    "gross_margin": "economics.gross_margin",
    "cac": "economics.cac",
    "csm_cost": "economics.csm_cost",
    "csm_headcount": "economics.csm_headcount",
    "discount_rate": "economics.discount_rate",
}
"""Organisation setting key of each economics input (values are numbers)."""


def _decimal(name: str, value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        out = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation as exc:
        raise UserError(f"{name} must be a number, not {value!r}") from exc
    if not out.is_finite():
        raise UserError(f"{name} must be a finite number, not {value!r}")
    return out


@dataclass(frozen=True)
class EconomicsInputs:
    """Company inputs to unit economics; every field optional.

    ``gross_margin`` and ``discount_rate`` are fractions (0.75, 0.10); ``cac``
    is the fully loaded cost of acquiring one customer; ``csm_cost`` the
    annual fully loaded cost of one CSM; ``csm_headcount`` the number of CSMs;
    ``lifespan_years`` overrides the measured customer lifespan of simple CLTV.
    """

    gross_margin: Decimal | None = None
    cac: Decimal | None = None
    csm_cost: Decimal | None = None
    csm_headcount: int | None = None
    discount_rate: Decimal | None = None
    lifespan_years: Decimal | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "csm_headcount":
                if value is not None and (int(value) != value or value < 0):
                    raise UserError(f"csm_headcount must be a whole number >= 0, not {value!r}")
                if value is not None:
                    object.__setattr__(self, f.name, int(value))
                continue
            number = _decimal(f.name, value)
            object.__setattr__(self, f.name, number)
        gm, dr = self.gross_margin, self.discount_rate
        if gm is not None and not Decimal(0) < gm <= Decimal(1):
            raise UserError(
                f"gross_margin must be a fraction in (0, 1], not {gm}", hint="e.g. 0.75 for 75%"
            )
        if dr is not None and not Decimal(0) <= dr < Decimal(1):
            raise UserError(
                f"discount_rate must be a fraction in [0, 1), not {dr}", hint="e.g. 0.10 for 10%"
            )
        for name in ("cac", "csm_cost"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise UserError(f"{name} must be >= 0, not {v}")
        if self.lifespan_years is not None and self.lifespan_years <= 0:
            raise UserError(f"lifespan_years must be > 0, not {self.lifespan_years}")

    @classmethod
    def from_settings(cls, values: Mapping[str, Any]) -> EconomicsInputs:
        """Inputs from organisation settings ``{"economics.gross_margin": 0.75, ...}``."""
        return cls(**{f: values.get(key) for f, key in SETTING_KEYS.items()})

    def overridden(self, **overrides: Any) -> EconomicsInputs:
        """A copy with every non-None keyword replacing the stored value."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        """The inputs as a JSON-friendly mapping."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def simple_cltv(arpa: Decimal, lifespan_years: Decimal, gross_margin: Decimal) -> Decimal:
    """Annual revenue per customer x average lifespan (years) x gross margin, to the cent."""
    return cents(arpa * lifespan_years * gross_margin)


def churn_cltv(arpa: Decimal, gross_margin: Decimal, churn_rate: Decimal) -> Decimal | None:
    """Annual revenue per customer x gross margin / annual churn rate (None when churn is 0)."""
    if churn_rate <= 0:
        return None
    return cents(arpa * gross_margin / churn_rate)


def discounted_cltv(
    arpa: Decimal, gross_margin: Decimal, churn_rate: Decimal, discount_rate: Decimal
) -> Decimal | None:
    """Present value of a customer's margin: ``arpa * m / (d + c)`` (None when d + c is 0).

    Year t (t = 1, 2, ...) brings ``arpa * m`` from customers still there at its
    start (a share ``(1 - c)^(t-1)``), received at its end and discounted by
    ``(1 + d)^t``; the geometric sum is ``arpa * m / (d + c)``.
    """
    if discount_rate + churn_rate <= 0:
        return None
    return cents(arpa * gross_margin / (discount_rate + churn_rate))


def tier_of(arr: ir.NumericValue) -> ir.StringValue:
    """The ARR tier of an amount: ``enterprise`` (> 100K), ``mid_market`` (>= 25K) or ``smb``."""
    return ibis.cases(
        (arr > ENTERPRISE_ARR, "enterprise"),
        (arr >= MID_MARKET_ARR, "mid_market"),
        else_="smb",
    )


@dataclass(frozen=True)
class UnitEconomics:
    """Unit economics as of a date (see the module docstring for the formulas)."""

    as_of: date
    window_start: date
    inputs: EconomicsInputs
    accounts: int
    mrr: Decimal
    arr: Decimal
    arpa: Decimal | None
    churn_rate: float | None
    lifespan_years: float | None
    lifespan_source: str
    cltv: dict[str, Decimal | None]
    ltv_cac: dict[str, float | None]
    cost_to_serve: float | None
    arr_by_segment: dict[str, Decimal]
    arr_by_tier: dict[str, Decimal]
    csm_ratios: dict[str, Any]
    retention: RetentionWindow
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``helix metrics unit-economics``."""
        return {
            "as_of": self.as_of.isoformat(),
            "window": {"start": self.window_start.isoformat(), "end": self.as_of.isoformat()},
            "inputs": self.inputs.to_dict(),
            "accounts": self.accounts,
            "mrr": self.mrr,
            "arr": self.arr,
            "arpa": self.arpa,
            "annual_churn_rate": self.churn_rate,
            "lifespan_years": self.lifespan_years,
            "lifespan_source": self.lifespan_source,
            "cltv": self.cltv,
            "ltv_cac": self.ltv_cac,
            "cost_to_serve": self.cost_to_serve,
            "arr_by_segment": self.arr_by_segment,
            "arr_by_tier": self.arr_by_tier,
            "csm_ratios": self.csm_ratios,
            "grr": self.retention.grr,
            "nrr": self.retention.nrr,
            "notes": self.notes,
        }


def _ratio_rows(active: ir.Table, key: str) -> dict[str, dict[str, Any]]:
    grouped = active.group_by(key).aggregate(
        accounts=active.count(),
        csms=active.owner_email.nunique(),
        arr=active.arr.sum(),
    )
    out: dict[str, dict[str, Any]] = {}
    for r in sorted(grouped.to_pyarrow().to_pylist(), key=lambda r: str(r[key])):
        arr = cents(r["arr"])
        csms = int(r["csms"] or 0)
        out[str(r[key])] = {
            "accounts": int(r["accounts"]),
            "arr": arr,
            "csms": csms,
            "accounts_per_csm": ratio(int(r["accounts"]), csms),
            "arr_per_csm": cents(arr / csms) if csms else None,
        }
    return out


def _active_accounts(src: Sources, as_of: date) -> ir.Table:
    """Active accounts at ``as_of`` with cents MRR, ARR, segment, owner and tier."""
    m = mrr_at(src, as_of)
    m = m.mutate(mrr=to_cents(m.mrr))
    m = m.mutate(arr=m.mrr * 12)
    if src.accounts is not None:
        acc = src.accounts.select(
            a_account=src.accounts.account_id,
            segment=src.accounts.segment,
            owner_email=src.accounts.owner_email,
        )
        m = m.left_join(acc, m.account_id == acc.a_account).drop("a_account")
    else:
        m = m.mutate(segment=ibis.null().cast("string"), owner_email=ibis.null().cast("string"))
    return m.mutate(segment=ibis.coalesce(m.segment, ibis.literal("(none)")), tier=tier_of(m.arr))


def unit_economics(
    wh: Warehouse,
    as_of: date,
    inputs: EconomicsInputs,
    *,
    months: int = 12,
    segment: str | None = None,
) -> UnitEconomics:
    """Unit economics as of ``as_of``, churn measured over the ``months`` before it.

    ``churn_rate`` is the logo churn of the accounts active at
    ``as_of - months`` over ``[as_of - months, as_of)``, annualised when
    ``months != 12`` (``1 - (1 - churn)^(12/months)``). The lifespan of simple
    CLTV is ``inputs.lifespan_years`` when given, else measured as exposure
    over events: account-months active at the start of each month of the
    window divided by the churns among them, in years.
    """
    if months < 1:
        raise UserError(f"months must be >= 1, not {months}")
    notes: list[str] = []
    src = Sources.of(wh, segment=segment)
    start = add_months(as_of, -months)
    monthly = [
        Period(add_months(as_of, -months + k), add_months(as_of, -months + k + 1))
        for k in range(months)
    ]
    window, *_ = retention_for_periods(wh, [Period(start, as_of)], segment=segment)
    per_month = retention_for_periods(wh, monthly, segment=segment)
    active = _active_accounts(src, as_of)
    totals = active.aggregate(n=active.count(), mrr=active.mrr.sum()).to_pyarrow().to_pylist()[0]
    accounts = int(totals["n"] or 0)
    mrr = cents(totals["mrr"])
    arr = mrr * 12
    arpa_exact = arr / accounts if accounts else None

    churn: Decimal | None = None
    if window.accounts_start:
        churn = Decimal(window.accounts_churned) / Decimal(window.accounts_start)
        if months != 12:
            churn = 1 - (1 - churn) ** (Decimal(12) / Decimal(months))
    else:
        notes.append(f"no active accounts at {start.isoformat()}: churn rate unknown")

    lifespan: Decimal | None = inputs.lifespan_years
    source = "input"
    if lifespan is None:
        source = "measured"
        exposure = sum(w.accounts_start for w in per_month)
        events = sum(w.accounts_churned for w in per_month)
        if events:
            lifespan = Decimal(exposure) / Decimal(events) / Decimal(12)
        else:
            notes.append("no churn in the window: the measured lifespan is unbounded")

    cltv: dict[str, Decimal | None] = {"simple": None, "churn_based": None, "discounted": None}
    gm = inputs.gross_margin
    if gm is None:
        notes.append(f"set {SETTING_KEYS['gross_margin']} (or --gross-margin) for CLTV")
    elif arpa_exact is None:
        notes.append("no active accounts: CLTV undefined")
    else:
        if lifespan is not None:
            cltv["simple"] = simple_cltv(arpa_exact, lifespan, gm)
        if churn is not None:
            cltv["churn_based"] = churn_cltv(arpa_exact, gm, churn)
            if churn == 0:
                notes.append("no churn in the window: churn-based CLTV is unbounded")
        if inputs.discount_rate is None:
            key = SETTING_KEYS["discount_rate"]
            notes.append(f"set {key} (or --discount-rate) for discounted CLTV")
        elif churn is not None:
            cltv["discounted"] = discounted_cltv(arpa_exact, gm, churn, inputs.discount_rate)

    ltv_cac: dict[str, float | None] = {k: None for k in cltv}
    if inputs.cac is None:
        notes.append(f"set {SETTING_KEYS['cac']} (or --cac) for LTV:CAC")
    elif inputs.cac > 0:
        ltv_cac = {k: (ratio(v, inputs.cac) if v is not None else None) for k, v in cltv.items()}

    cost_to_serve = None
    if inputs.csm_cost is None or inputs.csm_headcount is None:
        notes.append(
            f"set {SETTING_KEYS['csm_cost']} and {SETTING_KEYS['csm_headcount']} for cost-to-serve"
        )
    else:
        cost_to_serve = ratio(inputs.csm_cost * inputs.csm_headcount, arr)

    by_segment = _ratio_rows(active, "segment")
    by_tier = _ratio_rows(active, "tier")
    overall: dict[str, Any] = {"csm_headcount": inputs.csm_headcount}
    if inputs.csm_headcount:
        overall["accounts_per_csm"] = ratio(accounts, inputs.csm_headcount)
        overall["arr_per_csm"] = cents(arr / inputs.csm_headcount)
    else:
        overall["accounts_per_csm"] = None
        overall["arr_per_csm"] = None

    return UnitEconomics(
        as_of=as_of,
        window_start=start,
        inputs=inputs,
        accounts=accounts,
        mrr=mrr,
        arr=cents(arr),
        arpa=cents(arpa_exact) if arpa_exact is not None else None,
        churn_rate=float(churn) if churn is not None else None,
        lifespan_years=float(lifespan) if lifespan is not None else None,
        lifespan_source=source,
        cltv=cltv,
        ltv_cac=ltv_cac,
        cost_to_serve=cost_to_serve,
        arr_by_segment={k: v["arr"] for k, v in by_segment.items()},
        arr_by_tier={k: v["arr"] for k, v in by_tier.items()},
        csm_ratios={"overall": overall, "by_segment": by_segment, "by_tier": by_tier},
        retention=window,
        notes=notes,
    )
