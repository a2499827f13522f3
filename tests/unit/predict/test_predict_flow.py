"""Prediction end to end on a generated company: training set, backtest from CLI and API."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from helix.api.app import create_app
from helix.cli.main import app
from helix.config import Settings
from helix.ingest.service import run_import
from helix.pipeline import run_pipeline
from helix.platform import Platform
from helix.predict import training_frame
from helix.predict.training import LABEL, feature_columns
from helix.store import Scope, create_key
from helix.testing.demo import generate_company

END = date(2025, 9, 1)
KEYS = {"auc", "pr_auc", "top_decile_lift", "brier", "ece", "baseline_auc", "health_score_auc",
        "n_train", "n_test", "horizon_days", "target"}  # fmt: skip


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("predict")
    generate_company(base / "co", accounts=600, months=20, seed=9, end=END)
    h = base / "home"
    with Platform(Settings.load(h)) as p:
        run_import(p, base / "co", actor="test")
        run_pipeline(p.warehouse, as_of=END, settings=p.settings)
    return h


def _json(home: Path, *args: str) -> Any:
    result = CliRunner().invoke(app, ["--home", str(home), *args, "--json"])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return json.loads(result.stdout)


def test_the_training_set_labels_only_dates_whose_horizon_has_passed(home: Path) -> None:
    with Platform(Settings.load(home)) as p:
        frame = training_frame(p.warehouse, 90)
        last = max(p.warehouse.table("account_signals").score_date.execute()).date()
    assert set(feature_columns()) <= set(frame.columns) and "segment" in frame.columns
    assert max(frame["score_date"]) + timedelta(days=90) <= last
    for col in LABEL.values():
        assert set(frame[col].unique()) <= {0, 1}
    assert not (frame["churned"] & frame["expanded"]).any()  # one fate per observation
    assert not frame.duplicated(["account_id", "score_date"]).any()


def test_backtest_is_time_split_and_reports_every_model(home: Path) -> None:
    doc = _json(home, "predict", "backtest", "--target", "churn", "--horizon-days", "90")
    assert KEYS <= set(doc) and doc["target"] == "churn" and doc["horizon_days"] == 90
    assert doc["n_train"] > doc["n_test"] > 0
    for o in doc["origins"]:  # nothing trained on could see the test date's outcomes
        assert date.fromisoformat(o["train_until"]) + timedelta(days=90) <= date.fromisoformat(o["test_date"])
        assert set(o["candidates"]) == {"lightgbm", "logistic"} and o["active"] in o["candidates"]
    assert set(doc["candidates"]) == {"lightgbm", "logistic"}
    assert doc["auc"] > 0.6 and doc["health_score_auc"] is not None
    assert sum(r["n"] for r in doc["reliability"]) == doc["n_test"]
    assert 0 <= doc["ece"] <= 0.1


def test_other_targets_and_a_bad_one(home: Path) -> None:
    doc = _json(home, "predict", "backtest", "--target", "expansion", "--horizon-days", "60")
    assert doc["target"] == "expansion" and doc["auc"] is not None
    bad = CliRunner().invoke(app, ["--home", str(home), "predict", "backtest", "--target", "upsell"])
    assert bad.exit_code == 1 and "must be one of" in str(bad.exception)


def test_api_route_is_authenticated_and_matches_the_cli(home: Path) -> None:
    with Platform(Settings.load(home)) as p, p.store.session() as s:
        _, key = create_key(s, name="reader", scope=Scope.READ, actor="test")
    http = TestClient(create_app(Settings.load(home)))
    assert http.get("/api/v1/predictions/backtest").status_code == 401
    got = http.get("/api/v1/predictions/backtest?target=contraction&horizon_days=60",
                   headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert got.status_code == 200 and KEYS <= set(got.json())
    cli = _json(home, "predict", "backtest", "--target", "contraction", "--horizon-days", "60")
    assert got.json()["auc"] == pytest.approx(cli["auc"])
