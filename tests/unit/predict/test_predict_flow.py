"""Prediction end to end on a generated company: training set, backtest from CLI and API."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from helix.api.app import create_app
from helix.cli.main import app
from helix.config import Settings
from helix.pipeline import run_pipeline
from helix.platform import Platform
from helix.predict import training_frame
from helix.predict.training import LABEL, feature_columns
from helix.store import Scope, create_key

from ...helpers import cli_json, demo_home, once

# one worker builds the module's demo company once (pytest --dist loadgroup)
pytestmark = pytest.mark.xdist_group("predict_flow")

END = date(2025, 9, 1)
KEYS = {"auc", "pr_auc", "top_decile_lift", "brier", "ece", "baseline_auc", "health_score_auc",
        "n_train", "n_test", "horizon_days", "target"}  # fmt: skip


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return once(
        "predict_flow",
        lambda: demo_home(
            tmp_path_factory.mktemp("predict"), accounts=600, months=20, seed=9, end=END
        ),
    )


_json = cli_json


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
        assert date.fromisoformat(o["train_until"]) + timedelta(days=90) <= date.fromisoformat(
            o["test_date"]
        )
        assert set(o["candidates"]) == {"lightgbm", "logistic"} and o["active"] in o["candidates"]
    assert set(doc["candidates"]) == {"lightgbm", "logistic"}
    assert doc["auc"] > 0.6 and doc["health_score_auc"] is not None
    assert sum(r["n"] for r in doc["reliability"]) == doc["n_test"]
    assert 0 <= doc["ece"] <= 0.1


def test_other_targets_and_a_bad_one(home: Path) -> None:
    doc = _json(home, "predict", "backtest", "--target", "expansion", "--horizon-days", "60")
    assert doc["target"] == "expansion" and doc["auc"] is not None
    bad = CliRunner().invoke(
        app, ["--home", str(home), "predict", "backtest", "--target", "upsell"]
    )
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


def test_train_registers_a_version_that_helix_run_scores_with(home: Path, tmp_path: Path) -> None:
    import shutil

    h = tmp_path / "home"
    shutil.copytree(home, h)
    info = _json(
        h, "predict", "train", "--target", "churn", "--horizon-days", "90", "--no-backtest"
    )
    assert info["active"] and info["candidate"] in {"lightgbm", "logistic"} and info["n_rows"] > 0
    models = _json(h, "predict", "models")
    assert [m["version"] for m in models if m["active"]] == [info["version"]]
    with Platform(Settings.load(h)) as p:
        report = run_pipeline(p.warehouse, as_of=END, settings=p.settings)
        ran = {s.name: s for s in report.stages}
        assert ran["predictions"].status == "ran"
        t = p.warehouse.table("predictions")
        n_pred = t.count().execute()
        n_sig = (
            p.warehouse.table("account_signals")
            .filter(lambda s: s.score_date == END)
            .count()
            .execute()
        )
    assert n_pred == n_sig > 0
    rows = _json(h, "predict", "accounts", "--limit", "5")
    assert len(rows) == 5 and rows == sorted(rows, key=lambda r: -r["probability"])
    for r in rows:
        assert 0 < r["probability"] < 1 and r["model_version"] == info["version"]
        assert 1 <= len(r["drivers"]) <= 3
        assert all(
            d["direction"] in {"raises", "lowers"} and d["description"] for d in r["drivers"]
        )
    # a second version becomes the active one; the first stays listed
    again = _json(h, "predict", "train", "--no-backtest")
    versions = {m["version"]: m["active"] for m in _json(h, "predict", "models")}
    assert versions == {info["version"]: False, again["version"]: True}
    with Platform(Settings.load(h)) as p, p.store.session() as s:
        _, key = create_key(s, name="reader", scope=Scope.READ, actor="test")
    http = TestClient(create_app(Settings.load(h)))
    auth = {"Authorization": f"Bearer {key}"}
    assert http.get("/api/v1/predictions").status_code == 401
    assert len(http.get("/api/v1/predictions/models", headers=auth).json()) == 2
    top = http.get("/api/v1/predictions?limit=3", headers=auth).json()
    assert [r["account_id"] for r in top] == [r["account_id"] for r in rows[:3]]
    one = http.get(f"/api/v1/accounts/{rows[0]['account_id']}/predictions", headers=auth)
    assert one.status_code == 200 and one.json()[0]["account_id"] == rows[0]["account_id"]
    assert http.get("/api/v1/accounts/nope/predictions", headers=auth).status_code == 404
    drift = _json(h, "predict", "drift")
    assert [m["version"] for m in drift["models"]] == [again["version"]]
    assert drift["models"][0]["verdict"] in {"stable", "watch", "retrain"}
    features = {f["feature"] for f in drift["models"][0]["features"]}
    assert set(feature_columns()) < features  # the signals, and the event-type features
    assert any(f.startswith("ev_t0_") for f in features)
    assert http.get("/api/v1/predictions/drift", headers=auth).json() == drift


def test_drivers_add_up_to_the_models_log_odds(home: Path) -> None:
    """Contributions are the model's own: with the base value they give its raw log-odds."""
    import numpy as np

    from helix.predict.drivers import contributions
    from helix.predict.models import _predict, select_and_fit

    with Platform(Settings.load(home)) as p:
        frame = training_frame(p.warehouse, 90)
    fitted = select_and_fit(frame, "churned", feature_columns(), 90)
    sample = frame.tail(50)
    for name in ("lightgbm", "logistic"):
        fitted.name, fitted.model = name, fitted.validation[name]["_model"]
        c = contributions(fitted, sample).sum(axis=1).to_numpy()
        p_raw = _predict(fitted.model, name, sample, fitted.numeric)
        logit = np.log(p_raw / (1 - p_raw))
        spread = np.corrcoef(c, logit)[0, 1]
        assert spread > 0.999  # equal up to the constant (base value / intercept)
        assert np.allclose(logit - c, (logit - c).mean(), atol=1e-6)


def test_top_drivers_name_each_rows_own_values(home: Path) -> None:
    """The drivers of a row are its largest contributions, with that row's values."""
    import json as _json_lib

    import numpy as np

    from helix.predict.drivers import contributions, top_drivers
    from helix.predict.models import select_and_fit

    with Platform(Settings.load(home)) as p:
        frame = training_frame(p.warehouse, 90)
    fitted = select_and_fit(frame, "churned", feature_columns(), 90)
    sample = frame.tail(40)
    drivers = [_json_lib.loads(d) for d in top_drivers(fitted, sample)]
    contrib = contributions(fitted, sample)
    for i, items in enumerate(drivers):
        row = contrib.iloc[i]
        biggest = row.abs().sort_values(ascending=False).index[: len(items)]
        assert [d["feature"] for d in items] == list(biggest)
        for d in items:
            value = sample.iloc[i][d["feature"]]
            if isinstance(value, str):
                assert d["value"] == value
            elif value is None or (isinstance(value, float) and np.isnan(value)):
                assert d["value"] is None
            else:
                assert d["value"] == round(float(value), 4)
            assert d["effect"] == round(float(row[d["feature"]]), 4)
