"""Retention windows grouped by segment/owner/product/cohort, series, and bad windows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from helix.errors import UserError
from helix.metrics import (
    WindowError,
    retention_by,
    retention_series,
    retention_window,
    series_periods,
)
from helix.metrics.retention import WINDOW_KEYS
from helix.warehouse import Warehouse

from .helpers import load, sub

D = date
Y0, Y1 = D(2024, 1, 1), D(2025, 1, 1)


@pytest.fixture
def company(wh: Warehouse) -> Warehouse:
    """Four accounts over 2024, by hand:

    a (smb, ana, core, acquired 2023-Q1): 100 -> churned in June
    b (smb, ana, core + addon, 2023-Q3):  300 core + 0 -> adds addon 50 in May: 350
    c (ent, bo, api largest, 2023-Q1):    api 500 + core 100 -> core dropped: 500
    d (ent, no owner, 2024-Q2 new):       0 -> 200 (new, never in NRR)
    """
    load(
        wh,
        [
            sub("a", D(2023, 2, 1), D(2024, 6, 1), 100),
            sub("b", D(2023, 8, 1), None, 300),
            sub("b", D(2024, 5, 1), None, 50, product="addon"),
            sub("c", D(2023, 1, 1), None, 500, product="api"),
            sub("c", D(2023, 1, 1), D(2024, 3, 1), 100),
            sub("d", D(2024, 4, 1), None, 200),
        ],
        accounts={
            "a": {"segment": "smb", "owner_email": "ana@x.io"},
            "b": {"segment": "smb", "owner_email": "ana@x.io"},
            "c": {"segment": "enterprise", "owner_email": "bo@x.io"},
            "d": {"segment": "enterprise"},
        },
    )
    return wh


def test_window_json_has_exactly_the_keys_of_the_issue(company: Warehouse) -> None:
    doc = retention_window(company, Y0, Y1).to_dict()
    assert tuple(doc) == WINDOW_KEYS
    assert set(doc["churn_by_type"]) == {"voluntary", "involuntary", "unknown", "downgrade"}
    assert set(doc["expansion_by_type"]) == {"seats", "tier", "cross_sell", "usage_price"}
    assert doc["start_mrr"] == Decimal("1000.00")  # 100 + 300 + 600
    assert doc["end_mrr"] == Decimal("850.00")  # 0 + 350 + 500
    assert doc["new_mrr"] == Decimal("200.00")
    assert doc["grr"] == pytest.approx(0.8)  # (1000 - 100 - 100) / 1000
    assert doc["nrr"] == pytest.approx(0.85)
    assert "detail" in retention_window(company, Y0, Y1).to_dict(detail=True)


def test_groups_partition_the_accounts_and_add_up(company: Warehouse) -> None:
    for by in ("segment", "owner", "product", "cohort"):
        g = retention_by(company, Y0, Y1, by)
        assert g.total == retention_window(company, Y0, Y1)
        for field in ("start_mrr", "end_mrr", "new_mrr", "churned_mrr", "expansion_mrr"):
            assert sum(getattr(w, field) for w in g.groups.values()) == getattr(g.total, field)
    seg = retention_by(company, Y0, Y1, "segment").groups
    assert (seg["smb"].start_mrr, seg["smb"].end_mrr) == (Decimal("400.00"), Decimal("350.00"))
    assert (seg["enterprise"].nrr, seg["enterprise"].new_mrr) == (pytest.approx(500 / 600), 200)
    owner = retention_by(company, Y0, Y1, "owner").groups
    assert set(owner) == {"ana@x.io", "bo@x.io", "(none)"}
    assert owner["(none)"].new_mrr == Decimal("200.00")
    product = retention_by(company, Y0, Y1, "product").groups
    assert set(product) == {"core", "api"}  # c's largest line is api; d is grouped at its end
    assert product["api"].contraction_mrr == Decimal("100.00")
    cohort = retention_by(company, Y0, Y1, "cohort").groups
    assert set(cohort) == {"2023-Q1", "2023-Q3", "2024-Q2"}
    assert cohort["2023-Q1"].accounts_start == 2 and cohort["2023-Q1"].accounts_churned == 1


def test_segment_filter_keeps_only_that_segment(company: Warehouse) -> None:
    w = retention_window(company, Y0, Y1, segment="enterprise")
    assert (w.accounts_start, w.start_mrr, w.new_mrr) == (1, Decimal("600.00"), Decimal("200.00"))
    assert retention_window(company, Y0, Y1, segment="nobody").accounts_start == 0


def test_series_monthly_quarterly_and_trailing_twelve_months(company: Warehouse) -> None:
    monthly = retention_series(company, "monthly", D(2024, 1, 15), D(2024, 6, 1))
    assert [label for label, _ in monthly.windows] == [
        "2024-01",
        "2024-02",
        "2024-03",
        "2024-04",
        "2024-05",
        "2024-06",
    ]
    by_month = dict(monthly.windows)
    assert by_month["2024-02"].contraction_mrr == Decimal("100.00")  # c drops core on 1 Mar
    assert by_month["2024-03"].new_mrr == Decimal("200.00")  # d in force on 1 Apr
    assert by_month["2024-04"].expansion_mrr == Decimal("50.00")
    assert by_month["2024-05"].churned_mrr == Decimal("100.00")
    quarterly = retention_series(company, "quarterly", D(2024, 2, 1), D(2024, 12, 31))
    assert [(w.start, w.end) for _, w in quarterly.windows][0] == (D(2024, 1, 1), D(2024, 4, 1))
    assert len(quarterly.windows) == 4
    t12 = retention_series(company, "t12m", D(2024, 12, 1), D(2024, 12, 1))
    ((label, w),) = t12.windows
    assert (label, w.start, w.end) == ("2024-12", Y0, Y1)
    assert w == retention_window(company, Y0, Y1)
    doc = t12.to_dict()
    assert doc["series"] == "t12m" and tuple(doc["windows"][0])[1:] == WINDOW_KEYS


def test_bad_windows_are_user_errors(company: Warehouse) -> None:
    with pytest.raises(WindowError) as err:
        retention_window(company, Y1, Y0)
    assert err.value.start == Y1 and err.value.end == Y0
    with pytest.raises(WindowError):
        retention_window(company, Y0, Y0)
    with pytest.raises(WindowError):
        series_periods("monthly", Y1, Y0)
    with pytest.raises(UserError):
        retention_by(company, Y0, Y1, "colour")  # type: ignore[arg-type]
