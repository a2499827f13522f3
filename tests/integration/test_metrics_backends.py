"""The metrics on every warehouse backend: DuckDB and PostgreSQL give identical results.

Each backend is checked against the independent pandas reference, and a
PostgreSQL-marked test runs the whole surface on both and compares it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from helix.metrics import (
    EconomicsInputs,
    Period,
    benchmark,
    cohort_table,
    ledger,
    retention_by,
    retention_for_periods,
    retention_series,
    retention_window,
    unit_economics,
    window_ledger,
)
from helix.metrics.loading import load_rows
from helix.metrics.stage import STAGE
from helix.pipeline import run_pipeline
from helix.warehouse import Warehouse, open_warehouse
from helix.warehouse.schema import MRR_MOVEMENTS

from ..unit.metrics import reference
from ..unit.metrics.strategies import seeded_history

D = date
HISTORY = seeded_history(424242, 120)
SEGMENTS = ("smb", "mid_market", "enterprise", None)
ACCOUNTS = [
    {
        "account_id": f"acc{i:04d}",
        "name": f"Account {i}",
        "segment": SEGMENTS[i % 4],
        "owner_email": f"csm{i % 5}@v.io" if i % 6 else None,
    }
    for i in range(120)
]
WINDOWS = [
    Period(D(2024, 1, 1), D(2025, 1, 1)),
    Period(D(2023, 3, 15), D(2024, 2, 29)),
    Period(D(2024, 6, 1), D(2024, 7, 1)),
    Period(D(2022, 1, 1), D(2023, 1, 1)),  # before any data
]
INPUTS = EconomicsInputs(
    gross_margin=0.75, cac=900, csm_cost=90000, csm_headcount=2, discount_rate=0.1
)


def _load(wh: Warehouse) -> None:
    load_rows(wh, "accounts", ACCOUNTS)
    for table, rows in HISTORY.items():
        load_rows(wh, table, rows)


def _open(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Warehouse:
    if kind == "duckdb":
        return open_warehouse(f"duckdb://{tmp_path / 'wh.duckdb'}")
    return open_warehouse(request.getfixturevalue("postgres_url"))


@pytest.fixture(
    params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    """A warehouse of each backend, loaded with the same random company."""
    wh = _open(request.param, tmp_path, request)
    _load(wh)
    yield wh
    wh.close()


def test_windows_match_the_pandas_reference(backend: Warehouse) -> None:
    frames = reference.frames(
        HISTORY["subscriptions"], HISTORY["churn_reasons"], HISTORY["payments"]
    )
    for p, lib in zip(WINDOWS, retention_for_periods(backend, WINDOWS), strict=True):
        ref = reference.window_metrics(*frames, p.start, p.end)
        assert lib.start_mrr == ref["start_mrr"]
        assert lib.end_mrr == ref["end_mrr"]
        assert lib.new_mrr == ref["new_mrr"]
        assert lib.churn_by_type == ref["churn_by_type"]
        assert lib.expansion_by_type == ref["expansion_by_type"]
        assert lib.contraction_by_type == ref["contraction_by_type"]
        rows = window_ledger(backend, p.start, p.end)
        assert {
            r["account_id"]: (r["movement"], r["movement_type"], r["start_mrr"], r["end_mrr"])
            for r in rows
        } == ref["accounts"]


def test_stage_full_and_incremental(backend: Warehouse) -> None:
    run_pipeline(backend, as_of=D(2024, 3, 10), only=[STAGE.name])
    report = run_pipeline(backend, as_of=D(2024, 11, 20), only=[STAGE.name])
    assert report.stages[0].notes == ["months from 2024-03-01 recomputed"]
    stored = backend.table(MRR_MOVEMENTS.name).to_pyarrow().to_pylist()
    fresh = ledger(backend, D(2024, 11, 20)).to_pyarrow().to_pylist()

    def key(r: dict[str, Any]) -> tuple[str, date]:
        return (r["account_id"], r["month"])

    assert sorted(stored, key=key) == sorted(fresh, key=key)


def _surface(wh: Warehouse) -> dict[str, Any]:
    """Every metric the library offers, as plain data."""
    out: dict[str, Any] = {}
    for p in WINDOWS:
        out[f"window {p.start}"] = retention_window(wh, p.start, p.end).to_dict(detail=True)
        out[f"ledger {p.start}"] = window_ledger(wh, p.start, p.end)
    for by in ("segment", "owner", "product", "cohort"):
        out[f"by {by}"] = retention_by(wh, D(2024, 1, 1), D(2025, 1, 1), by).to_dict(True)
    for freq in ("monthly", "quarterly", "t12m"):
        out[freq] = retention_series(wh, freq, D(2023, 1, 1), D(2025, 2, 1)).to_dict(True)
    led = ledger(wh, D(2025, 2, 17)).to_pyarrow().to_pylist()
    out["ledger"] = sorted(led, key=lambda r: (r["account_id"], r["month"]))
    for by in ("month", "quarter"):
        for measure in ("logo", "grr", "nrr"):
            t = cohort_table(wh, D(2025, 2, 1), by=by, measure=measure)  # type: ignore[arg-type]
            out[f"cohorts {by} {measure}"] = t.to_dict()
    out["unit economics"] = unit_economics(wh, D(2025, 1, 1), INPUTS).to_dict()
    out["benchmark"] = benchmark(wh, D(2025, 1, 1), INPUTS)
    out["segment filter"] = retention_window(
        wh, D(2024, 1, 1), D(2025, 1, 1), segment="smb"
    ).to_dict()
    return out


@pytest.mark.postgres
def test_duckdb_and_postgres_agree_on_everything(tmp_path: Path, postgres_url: str) -> None:
    with open_warehouse(f"duckdb://{tmp_path / 'wh.duckdb'}") as duck:
        _load(duck)
        expected = _surface(duck)
    with open_warehouse(postgres_url) as pg:
        _load(pg)
        got = _surface(pg)
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == expected[key], key
