"""Churn forensics answer the same on DuckDB and PostgreSQL: the hand-built company (whose
figures are known) and a generated one (ledger, signals and health computed on each)."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from helix.ingest import import_files
from helix.pipeline import run_pipeline
from helix.predict.forensics import account_forensics, forensics_summary, painful_churns
from helix.testing.demo import generate_company
from helix.warehouse import Warehouse, open_warehouse

from ..unit.predict import forensics_world as world

pytestmark = pytest.mark.postgres

END = date(2025, 4, 1)


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON-like documents differ (floats within 1e-9)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))}"]
        return [d for k in a for d in _diff(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _diff(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, float | int):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) else [f"{path}: {a} vs {b}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def _docs(wh: Warehouse, accounts: list[str]) -> dict[str, Any]:
    churns = painful_churns(
        wh, start=date(2020, 1, 1), end=date(2030, 1, 1), limit=100, detail=False
    )
    return {
        "summary": forensics_summary(wh, start=date(2020, 1, 1), end=date(2030, 1, 1)),
        "churns": churns,
        "accounts": {a: account_forensics(wh, a) for a in accounts},
    }


def test_the_hand_built_company_is_the_same_on_both(postgres_url: str, tmp_path: Path) -> None:
    docs = []
    for url in (f"duckdb://{tmp_path / 'wh.duckdb'}", postgres_url):
        wh = open_warehouse(url)
        try:
            world.build_world(wh)
            docs.append(_docs(wh, sorted(world.EXPECTED_PATTERN)))
        finally:
            wh.close()
    duck, pg = docs
    assert duck["summary"]["churns"] == 8  # every churn, RE's first included
    for account, pattern in world.EXPECTED_PATTERN.items():
        assert pg["accounts"][account]["pattern"]["name"] == pattern
    assert not _diff(duck, pg)


def _generated(url: str, company: Path, reports: Path) -> dict[str, Any]:
    wh = open_warehouse(url)
    try:
        import_files(wh, company, imports_dir=reports)
        run_pipeline(wh, as_of=END, only=["mrr_movements", "signals", "health"])
        top = painful_churns(wh, start=date(2024, 1, 1), end=END, limit=4, detail=False)
        return _docs(wh, [c["account_id"] for c in top["churns"]])
    finally:
        wh.close()


@pytest.mark.slow  # about 40 s: the hand-built company covers the same code in `make test`
def test_a_generated_company_is_the_same_on_both(postgres_url: str, tmp_path: Path) -> None:
    company = tmp_path / "co"
    generate_company(company, accounts=80, months=14, seed=3, end=END)
    duck = _generated(f"duckdb://{tmp_path / 'wh.duckdb'}", company, tmp_path / "r1")
    pg = _generated(postgres_url, company, tmp_path / "r2")
    assert duck["summary"]["churns"] > 5 and len(duck["accounts"]) == 4
    assert any(w["lead_days"] for a in duck["accounts"].values() for w in a["warnings"])
    assert not _diff(duck, pg), _diff(duck, pg)[:10]
