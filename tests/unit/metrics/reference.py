"""An independent, deliberately plain pandas implementation of the window metrics.

It shares no code with :mod:`helix.metrics`: it re-reads the rules from
``docs/metrics.md`` and applies them account by account with pandas filters
and Python loops over exact ``Decimal`` values. The cross-check tests assert
that the library (Ibis, in the warehouse) and this file agree to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

CENT = Decimal("0.01")
ZERO = Decimal("0")
PRECEDENCE = {"cross_sell": 0, "product_dropped": 0, "tier": 1, "seats": 2, "usage_price": 3}


def q(x: Decimal) -> Decimal:
    """Round to the cent, half up."""
    return Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def frames(
    subs: list[dict[str, Any]], reasons: list[dict[str, Any]], payments: list[dict[str, Any]]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Plain DataFrames (object columns holding dates and Decimals) from row dicts."""
    s = pd.DataFrame(
        subs,
        columns=[
            "subscription_id",
            "account_id",
            "product",
            "plan",
            "start_date",
            "end_date",
            "mrr",
            "quantity",
        ],
    ).astype(object)
    r = pd.DataFrame(reasons, columns=["account_id", "churned_on", "churn_type"]).astype(object)
    p = pd.DataFrame(payments, columns=["account_id", "due_date", "status"]).astype(object)
    return s, r, p


@dataclass
class ProductState:
    mrr: Decimal
    qty: Decimal | None  # sum of quantities when every row has one
    plans: tuple[str | None, str | None]  # (min, max) of non-null plans


def state_at(subs: pd.DataFrame, t: date) -> dict[str, dict[str, ProductState]]:
    """account -> product -> state, from the rows in force at instant t with mrr > 0."""
    live = subs[
        subs["mrr"].map(lambda m: m > 0)
        & subs["start_date"].map(lambda d: d <= t)
        & subs["end_date"].map(lambda d: d is None or pd.isna(d) or d > t)
    ]
    out: dict[str, dict[str, ProductState]] = {}
    for (account, product), g in live.groupby(["account_id", "product"], sort=True):
        mrr = sum(g["mrr"], ZERO)
        quantities = list(g["quantity"])
        known = all(v is not None and not pd.isna(v) for v in quantities)
        qty = sum(quantities, ZERO) if known else None
        plans = [p for p in g["plan"] if p is not None and not pd.isna(p)]
        rng = (min(plans), max(plans)) if plans else (None, None)
        out.setdefault(account, {})[product] = ProductState(mrr, qty, rng)
    return out


def component(a: ProductState | None, b: ProductState | None) -> tuple[str, Decimal]:
    """Type and signed change of one product line between two instants."""
    a0 = a.mrr if a else ZERO
    a1 = b.mrr if b else ZERO
    delta = a1 - a0
    if a0 == 0 and a1 > 0:
        return "cross_sell", delta
    if a0 > 0 and a1 == 0:
        return "product_dropped", delta
    if a0 == a1:
        return "none", delta
    assert a is not None and b is not None
    if a.plans != b.plans:
        return "tier", delta
    if (
        a.qty is not None
        and b.qty is not None
        and a.qty > 0
        and b.qty > 0
        and a.qty != b.qty
        and a0 * b.qty == a1 * a.qty
    ):
        return "seats", delta
    return "usage_price", delta


def driver(s0: dict[str, ProductState], s1: dict[str, ProductState]) -> str:
    """The product-line change that moves most in the direction of the net change."""
    comps = [(p, *component(s0.get(p), s1.get(p))) for p in sorted(set(s0) | set(s1))]
    net = sum((c[2] for c in comps), ZERO)
    sign = 1 if net > 0 else -1

    def key(c: tuple[str, str, Decimal]) -> tuple[Decimal, int, str]:
        return (-(c[2] * sign), PRECEDENCE.get(c[1], 9), c[0])

    return sorted(comps, key=key)[0][1]


def churn_type(
    subs: pd.DataFrame, reasons: pd.DataFrame, payments: pd.DataFrame, account: str, end: date
) -> tuple[date, str]:
    """Churn date and kind of an account that is active at the start and not at ``end``."""
    mine = subs[(subs["account_id"] == account) & subs["mrr"].map(lambda m: m > 0)]
    mine = mine[mine["start_date"].map(lambda d: d < end)]
    churn_day = max(mine["end_date"])
    recs = reasons[reasons["account_id"] == account]
    close = [
        (abs((r.churned_on - churn_day).days), r.churned_on, r.churn_type)
        for r in recs.itertuples()
        if abs((r.churned_on - churn_day).days) <= 90
    ]
    if close:
        close.sort(key=lambda x: (x[0], -x[1].toordinal(), x[2]))
        kind = close[0][2]
        return churn_day, kind if kind in ("voluntary", "involuntary") else "unknown"
    pays = payments[payments["account_id"] == account]
    lo = churn_day - timedelta(days=90)
    window = [p for p in pays.itertuples() if lo <= p.due_date <= churn_day]
    failed = [p.due_date for p in window if p.status == "failed"]
    paid = [p.due_date for p in window if p.status == "paid"]
    if failed and (not paid or max(paid) < max(failed)):
        return churn_day, "involuntary"
    return churn_day, "unknown"


def window_metrics(
    subs: pd.DataFrame, reasons: pd.DataFrame, payments: pd.DataFrame, start: date, end: date
) -> dict[str, Any]:
    """Every figure of a retention window, plus each account's movement."""
    s0 = state_at(subs, start)
    s1 = state_at(subs, end)
    positive = subs[subs["mrr"].map(lambda m: m > 0)]
    first = {a: min(g["start_date"]) for a, g in positive.groupby("account_id")}
    out: dict[str, Any] = {
        "accounts_start": 0,
        "accounts_churned": 0,
        "start_mrr": ZERO,
        "churned_mrr": ZERO,
        "contraction_mrr": ZERO,
        "expansion_mrr": ZERO,
        "end_mrr": ZERO,
        "new_mrr": ZERO,
        "churn_by_type": {"voluntary": ZERO, "involuntary": ZERO, "unknown": ZERO},
        "expansion_by_type": {"seats": ZERO, "tier": ZERO, "cross_sell": ZERO, "usage_price": ZERO},
        "contraction_by_type": {
            "seats": ZERO,
            "tier": ZERO,
            "product_dropped": ZERO,
            "usage_price": ZERO,
        },
        "new_logo_mrr": ZERO,
        "reactivation_mrr": ZERO,
        "accounts": {},
    }
    for account in sorted(set(s0) | set(s1)):
        m0 = sum((p.mrr for p in s0.get(account, {}).values()), ZERO)
        m1 = sum((p.mrr for p in s1.get(account, {}).values()), ZERO)
        c0, c1 = q(m0), q(m1)
        kind, typ = "none", None
        if m0 > 0:
            out["accounts_start"] += 1
            out["start_mrr"] += c0
            out["end_mrr"] += c1
            if m1 == 0:
                kind = "churn"
                _, typ = churn_type(subs, reasons, payments, account, end)
                out["accounts_churned"] += 1
                out["churned_mrr"] += c0
                out["churn_by_type"][typ] += c0
            elif c1 > c0:
                kind, typ = "expansion", driver(s0[account], s1[account])
                out["expansion_mrr"] += c1 - c0
                out["expansion_by_type"][typ] += c1 - c0
            elif c1 < c0:
                kind, typ = "contraction", driver(s0[account], s1[account])
                out["contraction_mrr"] += c0 - c1
                out["contraction_by_type"][typ] += c0 - c1
        elif m1 > 0:
            kind = "reactivation" if first[account] < start else "new"
            out["new_mrr"] += c1
            out["reactivation_mrr" if kind == "reactivation" else "new_logo_mrr"] += c1
        out["accounts"][account] = (kind, typ, c0, c1)
    out["churn_by_type"]["downgrade"] = out["contraction_mrr"]
    return out
