"""The library against an independent pandas implementation (reference.py), to the cent."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings

from helix.metrics import Period, retention_for_periods, retention_window, window_ledger
from helix.metrics.periods import add_months
from helix.metrics.retention import _ledger_months
from helix.pipeline import run_pipeline
from helix.warehouse import Warehouse, open_warehouse

from . import reference
from .conftest import load_history
from .strategies import histories, seeded_history, windows


def _frames(h: dict[str, list[dict[str, Any]]]) -> Any:
    return reference.frames(h["subscriptions"], h["churn_reasons"], h["payments"])


def _assert_same(lib: Any, ref: dict[str, Any]) -> None:
    """Every figure of a library window equals the reference's, to the cent."""
    assert lib.accounts_start == ref["accounts_start"]
    assert lib.accounts_churned == ref["accounts_churned"]
    for key in (
        "start_mrr",
        "churned_mrr",
        "contraction_mrr",
        "expansion_mrr",
        "end_mrr",
        "new_mrr",
        "new_logo_mrr",
        "reactivation_mrr",
    ):
        assert getattr(lib, key) == ref[key], key
    assert lib.churn_by_type == ref["churn_by_type"]
    assert lib.expansion_by_type == ref["expansion_by_type"]
    assert lib.contraction_by_type == ref["contraction_by_type"]


@given(h=histories(max_accounts=8), window=windows())
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_random_histories_match_pandas(
    mwh: Warehouse, h: dict[str, Any], window: tuple[date, date]
) -> None:
    load_history(mwh, h)
    start, end = window
    ref = reference.window_metrics(*_frames(h), start, end)
    _assert_same(retention_window(mwh, start, end), ref)
    accounts = {
        r["account_id"]: (r["movement"], r["movement_type"], r["start_mrr"], r["end_mrr"])
        for r in window_ledger(mwh, start, end)
    }
    assert accounts == ref["accounts"]


def test_a_larger_seeded_history_matches_pandas_month_by_month_and_yearly(mwh: Warehouse) -> None:
    h = seeded_history(20240601, 400)
    load_history(mwh, h)
    frames = _frames(h)
    months = [
        Period(add_months(date(2023, 1, 1), k), add_months(date(2023, 1, 1), k + 1))
        for k in range(26)
    ]
    yearly = [
        Period(date(2023, 1, 1), date(2024, 1, 1)),
        Period(date(2023, 7, 15), date(2024, 7, 15)),
        Period(date(2024, 1, 1), date(2025, 1, 1)),
    ]
    periods = months + yearly
    for p, lib in zip(periods, retention_for_periods(mwh, periods), strict=True):
        _assert_same(lib, reference.window_metrics(*frames, p.start, p.end))


def test_the_demo_company_matches_pandas(tmp_path: Any) -> None:
    """A generated company, imported through the contract, month by month and over a year."""
    from helix.ingest import import_files
    from helix.testing.demo import generate_company

    end = date(2025, 3, 1)
    generate_company(tmp_path / "co", accounts=250, months=14, seed=11, end=end)
    wh = open_warehouse(f"duckdb://{tmp_path / 'wh.duckdb'}")
    try:
        import_files(wh, tmp_path / "co", imports_dir=tmp_path / "reports")

        def rows(table: str, cols: list[str]) -> list[dict[str, Any]]:
            return wh.table(table).select(*cols).to_pyarrow().to_pylist()

        frames = reference.frames(
            rows("subscriptions", ["subscription_id", "account_id", "product", "plan",
                                   "start_date", "end_date", "mrr", "quantity"]),
            rows("churn_reasons", ["account_id", "churned_on", "churn_type"]),
            rows("payments", ["account_id", "due_date", "status"]),
        )  # fmt: skip
        first = add_months(end, -13)
        periods = [Period(add_months(first, k), add_months(first, k + 1)) for k in range(13)]
        periods.append(Period(add_months(end, -12), end))
        results = retention_for_periods(wh, periods)
        assert sum(r.churned_mrr for r in results[:-1]) > 0  # the company does churn
        for p, lib in zip(periods, results, strict=True):
            _assert_same(lib, reference.window_metrics(*frames, p.start, p.end))

        # once `helix run` has stored the ledger, monthly windows are read from it
        run_pipeline(wh, as_of=end, only=["mrr_movements"])
        months = periods[:-1]
        assert _ledger_months(wh, months, None) is not None
        for p, lib in zip(months, retention_for_periods(wh, months), strict=True):
            _assert_same(lib, reference.window_metrics(*frames, p.start, p.end))
        segment = rows("accounts", ["segment"])[0]["segment"]
        assert [
            w.to_dict(detail=True) for w in retention_for_periods(wh, months, segment=segment)
        ] == [
            w.to_dict(detail=True)
            for w in retention_for_periods(wh, months, segment=segment, use_ledger=False)
        ]
        # a month the ledger cannot hold yet, and a changed input, are computed afresh
        assert _ledger_months(wh, [Period(end, add_months(end, 1))], None) is None
        wh.record_change("subscriptions", note="test")
        assert _ledger_months(wh, months, None) is None
    finally:
        wh.close()
