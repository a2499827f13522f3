"""Benchmarking with the gap to the next quartile in dollars (seed 003 quartiles, seed 002 bands).

Extends :mod:`helix.metrics.benchmarks` (which places each metric on its scale) with:

* **CSM:customer ratios by segment and by tier** (tiers are what the quartile tables
  speak of: enterprise and mid-market; SMB has no quartile, only the tech-touch model of
  500+ accounts per CSM);
* **time-to-value measured** from the onboarding signals (median of
  ``time_to_value_days`` of the accounts that reached their first value moment, among
  those that became customers in the window; all of them if none did);
* **the gap to the next level**, in the metric's unit and in dollars a year:

  - NRR, GRR: ``(next bound - value) x starting ARR`` (the ARR the better rate keeps);
  - expansion share ``s = E / (E + N)``: with new-logo growth ``N`` fixed, reaching ``s*``
    needs expansion ``E* = s* N / (1 - s*)``; the gap is ``(E* - E) x 12`` of ARR;
  - cost-to-serve: ``(value - next bound) x ARR`` of CS cost to save;
  - accounts per CSM (lower is better): CSMs to add ``ceil(accounts / next bound) - CSMs``,
    in dollars at the CSM cost setting (a cost, not a gain);
  - time-to-value: days to cut; no dollar figure (Helix does not know what a day is worth).

  A value in the top quartile has no next level; a "> x" bound is reached at x.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Any

from helix.metrics.benchmarks import SCALES, Placement, place
from helix.metrics.periods import add_months, cents
from helix.metrics.unit_economics import EconomicsInputs, UnitEconomics, unit_economics
from helix.warehouse import Warehouse

__all__ = [
    "next_level",
    "gap_row",
    "measured_time_to_value",
    "benchmark_gaps",
    "benchmark_report",
]

SMB_TECH_TOUCH = 500
"""Accounts per CSM of the tech-touch model (BRIEF section 9: 500+ per CSM)."""


def next_level(metric: str, kind: str, value: float) -> tuple[str, float] | None:
    """The next better level of ``value`` on the scale and the bound that reaches it."""
    scale = SCALES[(metric, kind)]
    i = scale.level_of(value)
    if i == 0:
        return None
    return scale.levels[i - 1], float(scale.bounds[i - 1])


def gap_row(
    p: Placement,
    *,
    dollars: Decimal | None,
    unit_gap: float | None,
    basis: str,
    next_: tuple[str, float] | None,
) -> dict[str, Any]:
    """One placement with its next level and the gap (in the metric's unit and dollars)."""
    row = p.to_dict()
    row["next_level"] = next_[0] if next_ else None
    row["next_bound"] = next_[1] if next_ else None
    row["gap"] = None if unit_gap is None else round(unit_gap, 6)
    row["gap_dollars"] = float(cents(dollars)) if dollars is not None else None
    row["gap_basis"] = basis
    return row


def measured_time_to_value(wh: Warehouse, as_of: date, months: int = 12) -> dict[str, Any]:
    """Median days to the first value moment (from ``account_signals`` on the latest
    scoring date up to ``as_of``), with how many accounts it is measured on."""
    if not wh.has_table("account_signals"):
        return {"median_days": None, "accounts": 0, "note": "no signals computed yet"}
    s = wh.table("account_signals")
    last = s.filter(s.score_date <= as_of).score_date.max().to_pyarrow().as_py()
    if last is None:
        return {"median_days": None, "accounts": 0, "note": "no signals before the as-of date"}
    rows = s.filter(s.score_date == last, s.time_to_value_days.notnull())
    scope = "all accounts that reached value"
    if wh.has_table("account_summary"):
        summ = wh.table("account_summary").select("account_id", "customer_since")
        recent = rows.join(summ, "account_id").filter(
            lambda t: t.customer_since >= add_months(as_of, -months)
        )
        if recent.count().to_pyarrow().as_py():
            rows = recent
            scope = f"accounts that became customers in the {months} months to {as_of}"
    values = sorted(v for v in rows.time_to_value_days.to_pyarrow().to_pylist() if v is not None)
    if not values:
        return {"median_days": None, "accounts": 0, "note": "no account reached value yet"}
    mid = len(values) // 2
    median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    return {
        "median_days": float(median),
        "accounts": len(values),
        "scope": scope,
        "signals_date": last.isoformat() if hasattr(last, "isoformat") else str(last),
    }


def _ratio_gap(
    metric: str, row: dict[str, Any] | None, csm_cost: Decimal | None, label: str
) -> dict[str, Any]:
    if not row:
        return gap_row(
            place(metric, "quartile", None, f"no active {label} accounts"),
            dollars=None,
            unit_gap=None,
            basis="",
            next_=None,
        )
    value = row["accounts_per_csm"]
    if value is None:
        return gap_row(
            place(metric, "quartile", None, f"no owner on the {label} accounts"),
            dollars=None,
            unit_gap=None,
            basis="",
            next_=None,
        )
    p = place(metric, "quartile", value)
    nxt = next_level(metric, "quartile", value)
    if nxt is None:
        return gap_row(p, dollars=None, unit_gap=None, basis="top quartile", next_=None)
    needed = math.ceil(row["accounts"] / nxt[1]) - row["csms"]
    if needed <= 0 and value >= nxt[1]:  # a strict "< x" bound needs one more CSM
        needed = 1
    dollars = csm_cost * needed if csm_cost is not None else None
    basis = f"{needed} more CSM(s) for {row['accounts']} accounts to reach {nxt[1]:g} per CSM" + (
        "" if csm_cost is not None else "; set economics.csm_cost for dollars"
    )
    return gap_row(p, dollars=dollars, unit_gap=value - nxt[1], basis=basis, next_=nxt)


def benchmark_gaps(econ: UnitEconomics, *, ttv: dict[str, Any]) -> dict[str, Any]:
    """Every placement of the company with its gap to the next level (module docstring)."""
    w = econ.retention
    start_arr = w.start_mrr * 12
    rows: list[dict[str, Any]] = []
    note = None if w.start_mrr else "no MRR at the window start"
    for metric in ("nrr", "grr"):
        value = getattr(w, metric)
        for kind in ("quartile", "band"):
            p = place(metric, kind, value, note)
            nxt = next_level(metric, kind, value) if value is not None else None
            if value is None or nxt is None:
                rows.append(
                    gap_row(
                        p,
                        dollars=None,
                        unit_gap=None,
                        basis="top level" if value is not None else "",
                        next_=nxt,
                    )
                )
                continue
            gap = Decimal(repr(nxt[1])) - Decimal(repr(value))
            rows.append(
                gap_row(
                    p,
                    dollars=gap * start_arr,
                    unit_gap=float(gap),
                    next_=nxt,
                    basis=f"{float(gap) * 100:.2f} points x starting ARR "
                    f"{float(cents(start_arr)):,.2f}",
                )
            )
    exp, new = w.expansion_mrr, w.new_mrr
    share = float(exp / (exp + new)) if (exp + new) else None
    p = place("expansion_share", "quartile", share, None if share is not None else "no growth")
    nxt = next_level("expansion_share", "quartile", share) if share is not None else None
    if share is None or nxt is None:
        rows.append(
            gap_row(
                p,
                dollars=None,
                unit_gap=None,
                basis="top quartile" if share is not None else "",
                next_=nxt,
            )
        )
    else:
        target = Decimal(repr(nxt[1]))
        needed = target * new / (1 - target) - exp
        rows.append(
            gap_row(
                p,
                dollars=needed * 12,
                unit_gap=nxt[1] - share,
                next_=nxt,
                basis=f"expansion MRR {float(exp):,.2f} -> "
                f"{float(exp + needed):,.2f} with new-logo MRR "
                f"{float(new):,.2f} unchanged, x 12",
            )
        )
    tiers = econ.csm_ratios.get("by_tier", {})
    csm_cost = econ.inputs.csm_cost
    rows.append(
        _ratio_gap("accounts_per_csm_enterprise", tiers.get("enterprise"), csm_cost, "enterprise")
    )
    rows.append(
        _ratio_gap("accounts_per_csm_mid_market", tiers.get("mid_market"), csm_cost, "mid-market")
    )
    cts = econ.cost_to_serve
    if cts is None:
        rows.append(
            gap_row(
                place(
                    "cost_to_serve", "quartile", None, "needs the CSM cost and headcount settings"
                ),
                dollars=None,
                unit_gap=None,
                basis="",
                next_=None,
            )
        )
    else:
        p = place("cost_to_serve", "quartile", cts)
        nxt = next_level("cost_to_serve", "quartile", cts)
        if nxt is None:
            rows.append(gap_row(p, dollars=None, unit_gap=None, basis="top quartile", next_=None))
        else:
            gap = Decimal(repr(cts)) - Decimal(repr(nxt[1]))
            rows.append(
                gap_row(
                    p,
                    dollars=gap * econ.arr,
                    unit_gap=float(gap),
                    next_=nxt,
                    basis=f"{float(gap) * 100:.2f} points of ARR "
                    f"{float(econ.arr):,.2f} of CS cost to save",
                )
            )
    days = ttv.get("median_days")
    p = place(
        "time_to_value_days",
        "quartile",
        days,
        None if days is not None else ttv.get("note", "not measured"),
    )
    nxt = next_level("time_to_value_days", "quartile", days) if days is not None else None
    rows.append(
        gap_row(
            p,
            dollars=None,
            unit_gap=(days - nxt[1]) if nxt and days else None,
            next_=nxt,
            basis=(
                f"{days - nxt[1]:.1f} days to cut; no dollar value"
                if nxt and days is not None
                else ("top quartile" if days is not None else "")
            ),
        )
    )
    smb = tiers.get("smb")
    smb_row = None
    if smb:
        smb_row = {
            "accounts": smb["accounts"],
            "csms": smb["csms"],
            "accounts_per_csm": smb["accounts_per_csm"],
            "tech_touch_model": SMB_TECH_TOUCH,
            "note": "no quartile for SMB; the tech-touch model is 500+ accounts per CSM",
        }
    return {
        "as_of": econ.as_of.isoformat(),
        "window": {"start": econ.window_start.isoformat(), "end": econ.as_of.isoformat()},
        "arr": econ.arr,
        "starting_arr": cents(start_arr),
        "placements": rows,
        "csm_ratios": {
            "by_segment": econ.csm_ratios.get("by_segment", {}),
            "by_tier": tiers,
            "smb": smb_row,
        },
        "cost_to_serve": cts,
        "time_to_value": ttv,
        "notes": list(econ.notes),
    }


def benchmark_report(
    wh: Warehouse,
    as_of: date,
    inputs: EconomicsInputs,
    *,
    months: int = 12,
    segment: str | None = None,
    ttv_days: float | None = None,
) -> dict[str, Any]:
    """The benchmark document of ``helix report benchmark`` (the API and the page too)."""
    econ = unit_economics(wh, as_of, inputs, months=months, segment=segment)
    ttv = (
        {"median_days": ttv_days, "accounts": None, "scope": "given"}
        if ttv_days is not None
        else measured_time_to_value(wh, as_of, months)
    )
    doc = benchmark_gaps(econ, ttv=ttv)
    doc["segment"] = segment
    return doc
