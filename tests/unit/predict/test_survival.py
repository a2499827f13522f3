"""Time to churn: stint ends, durations and censoring, the model, and the flow to `helix run`."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from helix.api.app import create_app
from helix.config import Settings
from helix.metrics.loading import load_rows
from helix.pipeline import run_pipeline
from helix.platform import Platform
from helix.predict.survival import MAX_DAYS, fit_survival, stint_ends, with_durations
from helix.store import Scope, create_key
from helix.warehouse import open_warehouse

from ...helpers import cli_json, demo_home, once

# one worker builds the module's demo company once (pytest --dist loadgroup)
pytestmark = pytest.mark.xdist_group("survival_flow")

END = date(2025, 6, 1)


def _sub(i: int, account: str, start: date, end: date | None, mrr: str = "10") -> dict[str, Any]:
    return {
        "subscription_id": f"s{i}",
        "account_id": account,
        "product": "core" if i % 2 else "addon",
        "plan": None,
        "start_date": start,
        "end_date": end,
        "mrr": Decimal(mrr),
        "quantity": None,
        "contract_end_date": None,
    }


def test_stint_ends_are_days_the_mrr_falls_to_zero() -> None:
    wh = open_warehouse("duckdb://")
    try:
        load_rows(
            wh,
            "subscriptions",
            [
                # a price change (contiguous rows) is not an end; the last row's end is
                _sub(1, "a", date(2024, 1, 1), date(2024, 5, 1)),
                _sub(2, "a", date(2024, 5, 1), date(2024, 9, 1), "12"),
                # two overlapping lines: only the later end empties the account
                _sub(3, "b", date(2024, 1, 1), date(2024, 6, 1)),
                _sub(4, "b", date(2024, 2, 1), date(2024, 8, 1)),
                # churn, return, still active; a free row does not keep it alive
                _sub(5, "c", date(2024, 1, 1), date(2024, 3, 1)),
                _sub(6, "c", date(2024, 3, 1), date(2024, 6, 1), "0"),
                _sub(7, "c", date(2024, 7, 1), None),
            ],
        )
        got = sorted(map(tuple, stint_ends(wh)[["account_id", "ended_on"]].to_numpy().tolist()))
    finally:
        wh.close()
    assert got == [("a", date(2024, 9, 1)), ("b", date(2024, 8, 1)), ("c", date(2024, 3, 1))]


def test_durations_censor_at_the_last_day_and_at_a_year() -> None:
    frame = pd.DataFrame(
        {
            "account_id": ["a", "a", "b", "c", "d"],
            "score_date": [
                date(2024, 1, 1),
                date(2024, 9, 1),
                date(2024, 1, 1),
                date(2024, 1, 1),
                date(2022, 1, 1),
            ],  # fmt: skip
        }
    )
    ends = pd.DataFrame(
        {
            "account_id": ["a", "a", "b", "d"],
            "ended_on": [date(2023, 6, 1), date(2024, 3, 1), date(2025, 7, 1), date(2024, 1, 1)],
        }
    )
    out = with_durations(frame, ends, date(2025, 1, 1))
    got = {(r.account_id, r.score_date): (r.duration, r.event) for r in out.itertuples()}
    assert got[("a", date(2024, 1, 1))] == (60, 1)  # the 2023 end is before: ignored
    assert got[("a", date(2024, 9, 1))] == (122, 0)  # censored at the last day of data
    assert got[("b", date(2024, 1, 1))] == (MAX_DAYS, 0)  # its end is after the data: unknown
    assert got[("c", date(2024, 1, 1))] == (MAX_DAYS, 0)  # a year at most
    assert got[("d", date(2022, 1, 1))] == (MAX_DAYS, 0)  # churned after two years: beyond
    assert out.attrs["last_day"] == date(2025, 1, 1)


def test_the_model_ranks_a_risky_feature_first() -> None:
    """Synthetic: a feature that shortens time to churn gets a positive hazard."""
    from helix.predict.training import feature_columns

    rng = np.random.default_rng(3)
    n = 600
    risk = rng.normal(size=n)
    t = rng.exponential(400 / np.exp(risk))
    frame = pd.DataFrame({c: rng.normal(size=n) for c in feature_columns()})
    name = feature_columns()[0]
    frame[name] = risk
    frame["account_id"] = [f"a{i}" for i in range(n)]
    frame["score_date"] = date(2024, 1, 1)
    frame["duration"] = np.minimum(t, MAX_DAYS).clip(min=1)
    frame["event"] = (t <= MAX_DAYS).astype(int)
    model = fit_survival(frame, penalizer=0.01)
    assert model.fitter.params_[name] > 0.5
    assert model.concordance_train > 0.65
    timing = model.timing(frame.iloc[:50])
    assert (timing["p_churn_90"] <= timing["p_churn_180"]).all()
    assert (timing["p_churn_180"] <= timing["p_churn_365"]).all()
    soon = timing["months_to_churn"].dropna()
    assert soon.between(1, 12).all()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return once(
        "survival_flow",
        lambda: demo_home(
            tmp_path_factory.mktemp("survival"), accounts=300, months=20, seed=4, end=END
        ),
    )


def test_backtest_train_score_and_serve(home: Path) -> None:
    doc = cli_json(home, "predict", "survival", "backtest")
    assert doc["n_train"] > 0 and doc["n_test"] > 0 and doc["events_test"] > 0
    cut = date.fromisoformat(doc["cutoff"])
    assert cut + timedelta(days=90) <= END  # the test rows' 90 days are observed
    assert 0.5 < doc["concordance"] <= 1 and doc["health_score_concordance"] is not None
    assert 0 <= doc["ece_90"] <= 0.1
    meta = cli_json(home, "predict", "survival", "train", "--no-backtest")
    assert meta["active"] and meta["events"] > 0 and meta["features"]
    with Platform(Settings.load(home)) as p:
        report = run_pipeline(p.warehouse, as_of=END, settings=p.settings)
        assert {s.name: s.status for s in report.stages}["predictions"] == "ran"
        n = p.warehouse.table("churn_timing").count().execute()
    assert n > 0
    rows = cli_json(home, "predict", "survival", "accounts", "--limit", "5")
    assert len(rows) == 5
    assert rows == sorted(rows, key=lambda r: -r["p_churn_180"])
    for r in rows:
        assert r["p_churn_90"] <= r["p_churn_180"] <= r["p_churn_365"]
        m = r["months_to_churn"]
        assert r["summary"] == (
            f"likely to churn within ~{m} month{'s' if m != 1 else ''}"
            if m is not None
            else "not expected to churn within 12 months"
        )
    with Platform(Settings.load(home)) as p, p.store.session() as s:
        _, key = create_key(s, name="reader", scope=Scope.READ, actor="test")
    http = TestClient(create_app(Settings.load(home)))
    assert http.get("/api/v1/predictions/timing").status_code == 401
    auth = {"Authorization": f"Bearer {key}"}
    got = http.get("/api/v1/predictions/timing?limit=5", headers=auth)
    assert got.status_code == 200 and got.json() == rows
    one = http.get(f"/api/v1/accounts/{rows[0]['account_id']}/churn-timing", headers=auth)
    assert one.status_code == 200 and one.json()[0]["account_id"] == rows[0]["account_id"]
    assert http.get("/api/v1/accounts/nobody/churn-timing", headers=auth).status_code == 404
