"""Property tests: invariants that must hold for every history and every window."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helix.metrics import (
    Period,
    Sources,
    ledger,
    retention_for_periods,
    retention_window,
    total_mrr,
    window_ledger,
)
from helix.metrics.movements import monthly_movements, period_movements
from helix.metrics.periods import add_months, month_periods, month_start
from helix.warehouse import Warehouse

from .conftest import load_history
from .strategies import histories, windows

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@given(h=histories(), window=windows())
@PROPERTY
def test_window_identities(mwh: Warehouse, h: dict[str, Any], window: tuple[date, date]) -> None:
    load_history(mwh, h)
    start, end = window
    w = retention_window(mwh, start, end)
    # the money identities hold exactly on the cent values
    assert w.end_mrr == w.start_mrr - w.churned_mrr - w.contraction_mrr + w.expansion_mrr
    _, total_end = total_mrr(Sources.of(mwh), end)
    assert w.end_mrr + w.new_mrr == total_end
    assert sum(w.churn_by_kind.values()) == w.churned_mrr
    assert w.churn_by_type["downgrade"] == w.contraction_mrr
    assert sum(w.expansion_by_type.values()) == w.expansion_mrr
    assert sum(w.contraction_by_type.values()) == w.contraction_mrr
    for amount in (w.churned_mrr, w.contraction_mrr, w.expansion_mrr, w.new_mrr):
        assert amount >= 0
    assert 0 <= w.accounts_churned <= w.accounts_start
    if w.start_mrr == 0:
        assert w.grr is None and w.nrr is None
        return
    assert w.grr is not None and w.nrr is not None
    assert 0 <= w.grr <= 1
    # nrr == grr + expansion / start: exactly on the cents, and on the floats reported
    s = Fraction(w.start_mrr)
    exact_grr = (s - Fraction(w.churned_mrr) - Fraction(w.contraction_mrr)) / s
    exact_nrr = Fraction(w.end_mrr) / s
    assert exact_nrr == exact_grr + Fraction(w.expansion_mrr) / s
    assert math.isclose(w.nrr, w.grr + float(w.expansion_mrr / w.start_mrr), rel_tol=1e-12)
    assert w.nrr == float(exact_nrr) and w.grr == float(exact_grr)


def _split(rows: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """Cut some rows into consecutive pieces with the same terms."""
    out = []
    for row in rows:
        end = row["end_date"] or row["start_date"] + timedelta(days=900)
        span = (end - row["start_date"]).days
        if span > 1 and rng.random() < 0.5:
            cut = row["start_date"] + timedelta(days=rng.randint(1, span - 1))
            out.append({**row, "end_date": cut})
            out.append({**row, "subscription_id": row["subscription_id"] + "b", "start_date": cut})
        else:
            out.append(row)
    rng.shuffle(out)
    return out


@given(h=histories(), window=windows(), seed=st.integers(0, 10_000))
@settings(PROPERTY, max_examples=15)
def test_independent_of_row_order_and_of_how_rows_are_split(
    mwh: Warehouse, h: dict[str, Any], window: tuple[date, date], seed: int
) -> None:
    load_history(mwh, h)
    start, end = window
    before = (
        retention_window(mwh, start, end).to_dict(detail=True),
        window_ledger(mwh, start, end),
    )
    rng = random.Random(seed)
    payments = list(h["payments"])
    rng.shuffle(payments)
    load_history(
        mwh,
        {
            "subscriptions": _split(h["subscriptions"], rng),
            "payments": payments,
            "churn_reasons": list(reversed(h["churn_reasons"])),
        },
    )
    after = (retention_window(mwh, start, end).to_dict(detail=True), window_ledger(mwh, start, end))
    assert after == before


@given(h=histories(max_accounts=5), as_of=st.dates(date(2023, 3, 1), date(2025, 3, 1)))
@PROPERTY
def test_ledger_rolls_forward_and_equals_one_month_windows(
    mwh: Warehouse, h: dict[str, Any], as_of: date
) -> None:
    load_history(mwh, h)
    rows = ledger(mwh, as_of).order_by(["account_id", "month"]).to_pyarrow().to_pylist()
    by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_account[r["account_id"]].append(r)
        moved = r["new_mrr"] + r["reactivation_mrr"] + r["expansion_mrr"]
        moved -= r["contraction_mrr"] + r["churned_mrr"]
        assert r["start_mrr"] + moved == r["end_mrr"]
    for months in by_account.values():
        # an account's months are contiguous while it is active, and chain exactly
        for a, b in zip(months, months[1:], strict=False):
            if b["month"] == add_months(a["month"], 1):
                assert a["end_mrr"] == b["start_mrr"]
            else:
                assert a["active_end"] == 0 and b["active_start"] == 0
    if not rows:
        return
    first = min(r["month"] for r in rows)
    periods = []
    m = first
    while m < as_of:
        periods.append(Period(m, min(add_months(m, 1), as_of)))
        m = add_months(m, 1)
    windows_ = retention_for_periods(mwh, periods)
    totals: dict[date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in rows:
        for k in (
            "start_mrr",
            "end_mrr",
            "new_mrr",
            "reactivation_mrr",
            "expansion_mrr",
            "contraction_mrr",
            "churned_mrr",
        ):
            totals[r["month"]][k] += r[k]
    for p, w in zip(periods, windows_, strict=True):
        t = totals[month_start(p.start)]
        assert w.start_mrr == t["start_mrr"]
        assert w.churned_mrr == t["churned_mrr"]
        assert w.contraction_mrr == t["contraction_mrr"]
        assert w.expansion_mrr == t["expansion_mrr"]
        assert w.new_logo_mrr == t["new_mrr"] and w.reactivation_mrr == t["reactivation_mrr"]
        assert w.end_mrr + w.new_mrr == t["end_mrr"]
    # the ledger opens before the first activity, and the movements sum to the last end
    assert totals[first]["start_mrr"] == 0
    grand = sum(
        t["new_mrr"]
        + t["reactivation_mrr"]
        + t["expansion_mrr"]
        - t["contraction_mrr"]
        - t["churned_mrr"]
        for t in totals.values()
    )
    assert totals[first]["start_mrr"] + grand == totals[month_start(periods[-1].start)]["end_mrr"]


@given(
    h=histories(max_accounts=6),
    first=st.dates(date(2022, 11, 1), date(2024, 6, 1)),
    as_of=st.dates(date(2023, 1, 2), date(2025, 6, 1)),
)
@PROPERTY
def test_monthly_engine_equals_the_window_engine(
    mwh: Warehouse, h: dict[str, Any], first: date, as_of: date
) -> None:
    """The ledger's change-point engine gives exactly the rows of the general one."""
    load_history(mwh, h)
    periods = month_periods(first, as_of)
    if not periods:
        return
    src = Sources.of(mwh)
    key = ("account_id", "period_id")

    def rows(table: Any) -> list[dict[str, Any]]:
        out = table.to_pyarrow().to_pylist()
        for r in out:
            if r["movement"] not in ("new", "reactivation"):
                r["first_start"] = None  # only filled on activations by the monthly engine
        return sorted(out, key=lambda r: tuple(r[k] for k in key))

    assert rows(monthly_movements(src, periods)) == rows(period_movements(src, periods))


def test_monthly_engine_refuses_windows_that_are_not_consecutive_months(mwh: Warehouse) -> None:
    src = Sources.of(mwh)
    with pytest.raises(ValueError, match="consecutive"):
        monthly_movements(
            src,
            [
                Period(date(2024, 1, 1), date(2024, 2, 1)),
                Period(date(2024, 3, 1), date(2024, 4, 1)),
            ],
        )
    with pytest.raises(ValueError, match="cut short"):
        monthly_movements(
            src,
            [
                Period(date(2024, 1, 1), date(2024, 1, 15)),
                Period(date(2024, 1, 15), date(2024, 2, 1)),
            ],
        )
