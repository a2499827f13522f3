"""Cohort grids worked out by hand, and the board chart."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from helix.errors import UserError
from helix.metrics import cohort_table, retention_window
from helix.metrics.charts import cohort_chart
from helix.warehouse import Warehouse

from .helpers import load, sub

D = date


@pytest.fixture
def cohorts(wh: Warehouse) -> Warehouse:
    """January 2024 cohort: a (100), b (100, churns 15 Mar), c (200 -> 300 on 10 Apr),
    e (starts 5 Jan, stops 20 Jan: no baseline). February cohort: f (50)."""
    load(
        wh,
        [
            sub("a", D(2024, 1, 3), None, 100),
            sub("b", D(2024, 1, 10), D(2024, 3, 15), 100),
            sub("c", D(2024, 1, 31), D(2024, 4, 10), 200),
            sub("c", D(2024, 4, 10), None, 300),
            sub("e", D(2024, 1, 5), D(2024, 1, 20), 999),
            sub("f", D(2024, 2, 1), None, 50),
        ],
    )
    return wh


def test_monthly_cohorts_by_hand(cohorts: Warehouse) -> None:
    # January cohort baseline = 1 Feb: a 100, b 100, c 200 (400); columns at 1 Feb .. 1 Jun
    #   1 Mar: all there; 1 Apr: b gone (300); 1 May: c at 300 (400 of MRR, 300 kept)
    logo = cohort_table(cohorts, D(2024, 6, 1), by="month", measure="logo")
    jan, feb = logo.rows
    assert (jan.cohort, jan.baseline, jan.acquired, jan.accounts) == (
        "2024-01",
        D(2024, 2, 1),
        4,
        3,
    )
    assert jan.start_mrr == Decimal("400.00")
    assert jan.values == [
        1.0,
        1.0,
        pytest.approx(2 / 3),
        pytest.approx(2 / 3),
        pytest.approx(2 / 3),
    ]
    assert (feb.cohort, feb.accounts, feb.values) == ("2024-02", 1, [1.0, 1.0, 1.0, 1.0])
    grr = cohort_table(cohorts, D(2024, 6, 1), by="month", measure="grr").rows[0]
    assert grr.values == [1.0, 1.0, 0.75, 0.75, 0.75]
    nrr = cohort_table(cohorts, D(2024, 6, 1), by="month", measure="nrr").rows[0]
    assert nrr.values == [1.0, 1.0, 0.75, 1.0, 1.0]
    assert logo.columns == [0, 1, 2, 3, 4]


def test_cohort_cell_equals_the_window_of_its_members(cohorts: Warehouse) -> None:
    grr = cohort_table(cohorts, D(2024, 6, 1), by="month", measure="grr").rows[0]
    w = retention_window(cohorts, D(2024, 2, 1), D(2024, 5, 1))  # f joins on 1 Feb: new there
    # the window's cohort is a, b, c and f; the January cohort is a, b, c
    assert w.start_mrr - Decimal("50") == grr.start_mrr
    assert grr.values[3] == float(
        (w.start_mrr - 50 - w.churned_mrr - w.contraction_mrr) / (w.start_mrr - 50)
    )


def test_quarter_cohorts_wait_for_the_quarter_to_end(cohorts: Warehouse) -> None:
    assert cohort_table(cohorts, D(2024, 3, 31), by="quarter").rows == []
    (q1,) = cohort_table(cohorts, D(2024, 6, 1), by="quarter", measure="logo").rows
    # baseline 1 Apr: a, c and f active (b left on 15 Mar): 3 of 5 acquired
    assert (q1.cohort, q1.acquired, q1.accounts, q1.values) == ("2024-Q1", 5, 3, [1.0, 1.0, 1.0])


def test_bad_arguments(cohorts: Warehouse) -> None:
    with pytest.raises(UserError):
        cohort_table(cohorts, D(2024, 6, 1), by="week")  # type: ignore[arg-type]
    with pytest.raises(UserError):
        cohort_table(cohorts, D(2024, 6, 1), measure="arr")  # type: ignore[arg-type]


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_chart_is_written(cohorts: Warehouse, tmp_path: Path, suffix: str, magic: bytes) -> None:
    table = cohort_table(cohorts, D(2024, 6, 1), by="month", measure="grr")
    path = cohort_chart(table, tmp_path / f"cohorts{suffix}")
    assert path.read_bytes().startswith(magic)
    with pytest.raises(UserError):
        cohort_chart(table, tmp_path / "cohorts.pdf")
