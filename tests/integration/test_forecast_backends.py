"""Renewals, their outcomes, the forecast's evidence and the stint ends of the survival model
are the same on DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from helix.ingest import import_files
from helix.pipeline import run_pipeline
from helix.predict.forecast import ForecastRules, bucketed
from helix.predict.renewals import outcomes
from helix.predict.survival import stint_ends
from helix.testing.demo import generate_company
from helix.warehouse import open_warehouse

from ..helpers import assert_same_rows

pytestmark = pytest.mark.postgres

END = date(2025, 4, 1)
DATES = [date(2024, 7, 1), date(2024, 10, 1), END]


def _forecast(url: str, company: Path, reports: Path) -> tuple[list[dict], ...]:
    wh = open_warehouse(url)
    try:
        import_files(wh, company, imports_dir=reports)
        run_pipeline(wh, as_of=END, only=["signals", "health"])
        frame = bucketed(wh, DATES, rules=ForecastRules(), horizon_days=300)
        fixed = bucketed(
            wh, [END], rules=ForecastRules(), start=date(2025, 3, 1), end=date(2025, 9, 30)
        )
        done = outcomes(wh, frame)
        key = ["forecast_date", "account_id"]
        return (
            frame.sort_values(key).to_dict("records"),
            fixed.sort_values(key).to_dict("records"),
            done.sort_values(["account_id", "renewal_date"]).to_dict("records"),
            stint_ends(wh).sort_values(["account_id", "ended_on"]).to_dict("records"),
        )
    finally:
        wh.close()


def test_forecast_frames_match(postgres_url: str, tmp_path: Path) -> None:
    company = tmp_path / "co"
    generate_company(company, accounts=80, months=14, seed=3, end=END)
    duck = _forecast(f"duckdb://{tmp_path / 'wh.duckdb'}", company, tmp_path / "r1")
    pg = _forecast(postgres_url, company, tmp_path / "r2")
    assert_same_rows(duck, pg)
