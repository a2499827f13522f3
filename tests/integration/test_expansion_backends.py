"""The expansion leads are the same on DuckDB and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from helix.ingest import import_files
from helix.pipeline import run_pipeline
from helix.predict.expansion import detect_leads, update_leads
from helix.predict.expansion_config import ExpansionConfig, UsageLimit
from helix.testing.demo import generate_company
from helix.warehouse import Warehouse, open_warehouse
from helix.warehouse.schema import EXPANSION_LEADS, PREDICTIONS

from ..helpers import same_value
from ..unit.predict.expansion_company import (
    DAY,
    EXPECTED_WITH_LIMITS,
    LIMITS,
    add_predictions,
    write_company,
)

pytestmark = pytest.mark.postgres

END = date(2025, 4, 1)
DEMO_LIMITS = ExpansionConfig(
    # an illustrative allowance: the demo's events are a sample of its metered use
    usage_limits=(
        UsageLimit("API Credits", "api_call", units_per_quantity=200.0, measure="value"),
    ),
    min_new_event_types=1,
    prediction_threshold=0.3,
)


def _demo_predictions(wh: Warehouse) -> None:
    """Deterministic stand-in probabilities for every account scored on END."""
    t = wh.table("account_signals")
    ids = sorted(t.filter(t.score_date == END).account_id.to_pyarrow().to_pylist())
    wh.append(
        PREDICTIONS.name,
        pa.Table.from_pylist(
            [
                {
                    "account_id": a,
                    "score_date": END,
                    "target": "expansion",
                    "horizon_days": 60,
                    "probability": (i * 37 % 100) / 100,
                    "model_version": "v",
                    "candidate": "logistic",
                    "drivers": "[]",
                    "computed_at": None,
                }  # fmt: skip
                for i, a in enumerate(ids)
            ],
            schema=PREDICTIONS.ibis_schema().to_pyarrow(),
        ),
    )


def _leads(
    url: str, company: Path, reports: Path, day: date, cfg: ExpansionConfig,
    prepare: Callable[[Warehouse], None],
) -> list[dict[str, Any]]:  # fmt: skip
    wh = open_warehouse(url)
    try:
        import_files(wh, company, imports_dir=reports)
        run_pipeline(wh, as_of=day, only=["signals", "mrr_movements"])
        prepare(wh)
        update_leads(wh, day, cfg)
        rows = wh.table(EXPANSION_LEADS.name).to_pyarrow().to_pylist()
        assert detect_leads(wh, day, cfg)[0].num_rows == len(rows)
    finally:
        wh.close()
    for r in rows:
        r.pop("computed_at")
        r["detail"] = json.loads(r["detail"])
    return sorted(rows, key=lambda r: (r["account_id"], r["signal"]))


def _assert_same(duck: list[dict[str, Any]], pg: list[dict[str, Any]]) -> None:
    assert len(duck) == len(pg) > 0
    for a, b in zip(duck, pg, strict=True):
        diff = {k for k in a if not same_value(a[k], b[k])}
        assert not diff, f"{a['account_id']} {a['signal']}: {sorted(diff)}"


def test_hand_built_company_leads_match(postgres_url: str, tmp_path: Path) -> None:
    company = write_company(tmp_path / "co")
    duck = _leads(
        f"duckdb://{tmp_path / 'wh.duckdb'}", company, tmp_path / "r1", DAY, LIMITS, add_predictions
    )
    pg = _leads(postgres_url, company, tmp_path / "r2", DAY, LIMITS, add_predictions)
    assert {
        (r["account_id"], r["signal"]): r["suggested_motion"] for r in pg
    } == EXPECTED_WITH_LIMITS
    _assert_same(duck, pg)


def test_demo_company_leads_match(postgres_url: str, tmp_path: Path) -> None:
    company = tmp_path / "co"
    generate_company(company, accounts=80, months=10, seed=3, end=END)
    duck = _leads(f"duckdb://{tmp_path / 'wh.duckdb'}", company, tmp_path / "r1", END, DEMO_LIMITS,
                  _demo_predictions)  # fmt: skip
    pg = _leads(postgres_url, company, tmp_path / "r2", END, DEMO_LIMITS, _demo_predictions)
    assert {r["signal"] for r in duck} == {
        "seats_near_limit", "usage_near_limit", "adoption_spreading", "predicted_expansion"
    }  # fmt: skip
    _assert_same(duck, pg)
