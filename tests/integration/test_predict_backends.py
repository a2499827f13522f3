"""The prediction training set is the same on DuckDB and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from helix.ingest import import_files
from helix.pipeline import run_pipeline
from helix.predict import training_frame
from helix.predict.training import scoring_frame
from helix.testing.demo import generate_company
from helix.warehouse import open_warehouse

from ..helpers import assert_same_rows

pytestmark = pytest.mark.postgres

END = date(2025, 4, 1)


def _frames(
    url: str, company: Path, reports: Path
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    wh = open_warehouse(url)
    try:
        import_files(wh, company, imports_dir=reports)
        run_pipeline(wh, as_of=END, only=["signals"])
        train = training_frame(wh, 60).to_dict("records")
        score = scoring_frame(wh, END).to_dict("records")
        return train, score
    finally:
        wh.close()


def test_training_and_scoring_frames_match(postgres_url: str, tmp_path: Path) -> None:
    company = tmp_path / "co"
    generate_company(company, accounts=80, months=10, seed=3, end=END)
    duck = _frames(f"duckdb://{tmp_path / 'wh.duckdb'}", company, tmp_path / "r1")
    pg = _frames(postgres_url, company, tmp_path / "r2")
    assert_same_rows(duck, pg)
