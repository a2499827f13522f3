"""Small demo companies shared by the generator's tests (generated once per session)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from helix.testing.demo import DemoSummary, generate_company

END = date(2025, 6, 1)
"""A fixed end date: the tests never depend on today."""


@pytest.fixture(scope="session")
def company(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSummary]:
    """600 accounts, 24 months, Parquet: the company the calibration tests look at."""
    out = tmp_path_factory.mktemp("demo") / "company"
    summary = generate_company(out, accounts=600, months=24, seed=11, end=END, event_scale=0.5)
    return out, summary


@pytest.fixture(scope="session")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """150 accounts, 12 months, as CSV."""
    out = tmp_path_factory.mktemp("demo_csv") / "company"
    generate_company(out, accounts=150, months=12, seed=3, end=END, fmt="csv")
    return out


@pytest.fixture(scope="session")
def small_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same 150 accounts as Parquet."""
    out = tmp_path_factory.mktemp("demo_pq") / "company"
    generate_company(out, accounts=150, months=12, seed=3, end=END, fmt="parquet")
    return out
