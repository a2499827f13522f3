"""Prediction on data Helix did not shape: only the three core tables, unfamiliar names.

The demo company is cut down to accounts, subscriptions and events, its event
types and segments renamed to words no code knows, its plans dropped; then
the whole chain must still work: import, `helix run`, backtest, train, daily
scores with drivers, time to churn and the renewal forecast.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from helix.config import Settings
from helix.ingest.service import run_import
from helix.pipeline import run_pipeline
from helix.platform import Platform
from helix.testing.demo import generate_company

from ...helpers import cli_json, once

pytestmark = pytest.mark.xdist_group("foreign_data")

END = date(2025, 6, 1)


def _rename(table: pa.Table, column: str, prefix: str) -> pa.Table:
    values = sorted(set(table[column].to_pylist()) - {None})
    mapping = {v: f"{prefix}{i:02d}" for i, v in enumerate(values)}
    renamed = pa.array([mapping.get(v) for v in table[column].to_pylist()], pa.string())
    return table.set_column(table.schema.get_field_index(column), column, renamed)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return once("foreign_data", lambda: _build(tmp_path_factory.mktemp("foreign")))


def _build(base: Path) -> Path:
    generate_company(base / "gen", accounts=300, months=20, seed=11, end=END)
    co = base / "co"
    co.mkdir()
    accounts = pq.read_table(base / "gen" / "accounts.parquet").select(
        ["account_id", "name", "segment"]
    )
    pq.write_table(_rename(accounts, "segment", "tier-"), co / "accounts.parquet")
    subs = pq.read_table(base / "gen" / "subscriptions.parquet")
    keep = [c for c in ("subscription_id", "account_id", "product", "start_date", "end_date", "mrr",
                        "quantity") if c in subs.column_names]  # fmt: skip
    pq.write_table(subs.select(keep), co / "subscriptions.parquet")  # no plans, no contract ends
    events = pq.read_table(base / "gen" / "events.parquet")
    events = events.select(["account_id", "event_type", "event_time", "user_id"])
    events = _rename(events, "event_type", "zq_")
    pq.write_table(events, co / "events.parquet")
    h = base / "home"
    with Platform(Settings.load(h)) as p:
        run_import(p, co, actor="test")
        run_pipeline(p.warehouse, as_of=END, settings=p.settings)
        assert not p.warehouse.has_table("tickets") or p.warehouse.count("tickets") == 0
        types = set(pc.unique(p.warehouse.table("events").event_type.to_pyarrow()).to_pylist())
    assert types and all(t.startswith("zq_") for t in types)
    return h


def test_backtest_train_and_daily_scores(home: Path) -> None:
    doc = cli_json(home, "predict", "backtest", "--target", "churn", "--horizon-days", "90")
    assert doc["n_test"] > 0 and doc["auc"] is not None and doc["auc"] > 0.5
    assert doc["baseline_auc"] is not None
    info = cli_json(home, "predict", "train", "--target", "churn", "--horizon-days", "90",
                    "--no-backtest")  # fmt: skip
    assert any(f.startswith("ev_t0_zq_") for f in info["features"])
    surv = cli_json(home, "predict", "survival", "train", "--no-backtest")
    assert surv["events"] > 0
    with Platform(Settings.load(home)) as p:
        run_pipeline(p.warehouse, as_of=END, settings=p.settings)
    rows = cli_json(home, "predict", "accounts", "--limit", "10")
    assert len(rows) == 10 and all(0 < r["probability"] < 1 for r in rows)
    assert all(r["drivers"] for r in rows)
    timing = cli_json(home, "predict", "survival", "accounts", "--limit", "3")
    assert len(timing) == 3
    doc = cli_json(home, "forecast", "renewals", "--from", "2025-06-01", "--to", "2025-12-31")
    assert doc["renewals"] > 0
    # no contract_end_date anywhere: every renewal is an anniversary
    assert {r["source"] for r in doc["items"]} == {"inferred"}
    assert all(r["model_probability"] is not None for r in doc["items"])
