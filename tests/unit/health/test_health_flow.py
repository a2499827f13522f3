"""Health end to end on a generated company: run, backtest, fit, accept, explain, events, API."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from helix.api.app import create_app
from helix.cli.main import app
from helix.config import Settings
from helix.pipeline import run_pipeline
from helix.platform import Platform
from helix.store import Scope, create_key

from ...helpers import cli_json, demo_home, once

# one worker builds the module's demo company once (pytest --dist loadgroup)
pytestmark = pytest.mark.xdist_group("health_flow")

END = date(2025, 6, 1)
BACKTEST_KEYS = {
    "auc",
    "churn_rate_by_color",
    "top_decile_lift",
    "baseline_auc",
    "n_observations",
    "horizon_days",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with 400 accounts over 18 months, imported and run (shared, read-mostly)."""
    return once(
        "health_flow",
        lambda: demo_home(
            tmp_path_factory.mktemp("health"), accounts=400, months=18, seed=5, end=END
        ),
    )


@pytest.fixture
def home(built: Path, tmp_path: Path) -> Path:
    """A private copy, for tests that change the model."""
    dst = tmp_path / "home"
    shutil.copytree(built, dst)
    return dst


_json = cli_json


def test_history_is_stored_with_the_model_version(built: Path) -> None:
    with Platform(Settings.load(built)) as p:
        t = p.warehouse.table("health_scores")
        rows = t.aggregate(
            n=t.count(),
            days=t.score_date.nunique(),
            last=t.score_date.max(),
            versions=t.model_version.nunique(),
            lo=t.score.min(),
            hi=t.score.max(),
        )
        r = rows.to_pyarrow().to_pylist()[0]
    assert r["n"] > 1000 and r["days"] >= 18 and r["last"] == END
    assert r["versions"] == 1 and 0 <= r["lo"] <= r["hi"] <= 100


def test_backtest_shows_the_score_ranks_churn(built: Path) -> None:
    doc = _json(built, "health", "backtest", "--horizon-days", "90")
    assert BACKTEST_KEYS <= set(doc)
    assert doc["horizon_days"] == 90 and doc["n_observations"] > 1000
    rates = doc["churn_rate_by_color"]
    assert set(rates) <= {"green", "yellow", "red"}
    # the generator makes churn follow the signals, so the score must see it
    assert doc["auc"] > 0.55 and rates["red"] > rates["green"]
    assert 0 <= doc["baseline_auc"] <= 1 and doc["top_decile_lift"] > 1
    bands = doc["calibration"]
    assert sum(b["n"] for b in bands) == doc["n_observations"]

    def rate(rows: list[dict[str, Any]]) -> float:
        return sum(b["churn_rate"] * b["n"] for b in rows) / sum(b["n"] for b in rows)

    # scores below 50 churn more than scores of 70 and above
    assert rate([b for b in bands if b["high"] <= 50]) > rate([b for b in bands if b["low"] >= 70])


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_backtest_chart_file(built: Path, tmp_path: Path, suffix: str, magic: bytes) -> None:
    target = tmp_path / f"backtest{suffix}"
    result = CliRunner().invoke(
        app, ["--home", str(built), "health", "backtest", "--chart", str(target)]
    )
    assert result.exit_code == 0, result.stderr
    assert target.read_bytes().startswith(magic)
    bad = CliRunner().invoke(app, ["--home", str(built), "health", "backtest", "--chart", "x.gif"])
    assert bad.exit_code == 1 and "x.gif" in str(bad.exception)


def test_fit_is_validated_on_later_dates_and_accepting_makes_a_new_version(home: Path) -> None:
    before = _json(home, "health", "model")
    doc = _json(home, "health", "fit")
    assert max(doc["fit_dates"]) < min(doc["validation_dates"])
    assert set(doc["validation_auc"]) == {"current", "proposed", "regression", "baseline"}
    assert all(0 <= v <= 1 for v in doc["validation_auc"].values())
    assert {g["group"] for g in doc["groups"]} >= {"usage", "sentiment", "relationship"}
    assert all(g["proposed_weight"] >= 0 for g in doc["groups"])
    assert not doc["accepted"]
    assert _json(home, "health", "model")["version_id"] == before["version_id"]
    accepted = _json(home, "health", "fit", "--accept")
    assert accepted["accepted"]
    after = _json(home, "health", "model")
    assert after["version_id"] != before["version_id"]
    assert after["model"]["version"] > before["model"]["version"]
    # the next run scores with the new version; the old history keeps the old one
    with Platform(Settings.load(home)) as p:
        run_pipeline(p.warehouse, as_of=END + timedelta(days=1), settings=p.settings)
        t = p.warehouse.table("health_scores")
        by = t.group_by("model_version").aggregate(last=t.score_date.max()).to_pyarrow().to_pylist()
    versions = {r["model_version"]: r["last"] for r in by}
    assert versions[before["version_id"]] == END
    assert versions[after["version_id"]] == END + timedelta(days=1)


def test_explain_adds_up_and_names_what_changed(built: Path) -> None:
    with Platform(Settings.load(built)) as p:
        t = p.warehouse.table("health_scores")
        red = t.filter((t.score_date == END) & (t.color == "red")).account_id.execute().tolist()
    assert red, "a company this size has red accounts"
    doc = _json(built, "health", "explain", red[0], "--date", END.isoformat())
    assert doc["color"] == "red" and doc["score_date"] == END.isoformat()
    measures = [m for g in doc["groups"] for m in g["measures"]]
    assert {"signal", "value", "points", "weight"} <= set(measures[0])
    assert sum(m["score_points"] for m in measures) == pytest.approx(doc["score"], abs=0.5)
    assert doc["response"]["owner_role"] and doc["response"]["action"]
    assert all(c["text"] for c in doc["changes"])


def test_turning_yellow_or_red_writes_an_event_with_owner_action_and_deadline(built: Path) -> None:
    with Platform(Settings.load(built)) as p:
        t = p.warehouse.table("health_events")
        rows = t.to_pyarrow().to_pylist()
    assert rows
    for r in rows:
        assert r["to_color"] in {"green", "yellow", "red"} and r["from_color"] != r["to_color"]
        assert r["event"] == f"turned_{r['to_color']}"
        assert r["owner_role"] and r["action"] and r["due_date"] > r["event_date"]
    assert {r["to_color"] for r in rows} >= {"yellow", "red"}


@pytest.fixture
def client(built: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with Platform(Settings.load(built)) as p, p.store.session() as s:
        _, key = create_key(s, name="health-reader", scope=Scope.READ, actor="test")
    yield TestClient(create_app(Settings.load(built))), {"Authorization": f"Bearer {key}"}


def test_api_routes_match_the_cli(client: tuple[TestClient, dict[str, str]], built: Path) -> None:
    http, auth = client
    for path in ("/api/v1/health/backtest", "/api/v1/health/model", "/api/v1/accounts/x/health"):
        assert http.get(path).status_code == 401
    back = http.get("/api/v1/health/backtest", headers=auth)
    assert back.status_code == 200 and BACKTEST_KEYS <= set(back.json())
    assert back.json()["auc"] == pytest.approx(_json(built, "health", "backtest")["auc"])
    chart = http.get("/api/v1/health/backtest/chart?format=svg", headers=auth)
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in chart.content
    png = http.get("/api/v1/health/backtest/chart?format=png", headers=auth)
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert http.get("/api/v1/health/backtest/chart").status_code == 401
    model = http.get("/api/v1/health/model", headers=auth).json()
    assert model["version_id"] == _json(built, "health", "model")["version_id"]
    with Platform(Settings.load(built)) as p:
        t = p.warehouse.table("health_scores")
        latest = t.filter(t.score_date == t.score_date.max())  # scored on the explained date
        account = latest.order_by("account_id").account_id.execute().iloc[0]
    one = http.get(f"/api/v1/accounts/{account}/health", headers=auth)
    assert one.status_code == 200 and one.json()["account_id"] == account, one.text
    assert http.get("/api/v1/accounts/no-such-account/health", headers=auth).status_code == 404


def test_a_later_run_adds_every_day_since_the_last(home: Path) -> None:
    with Platform(Settings.load(home)) as p:
        run_pipeline(p.warehouse, as_of=END + timedelta(days=5), settings=p.settings)
        t = p.warehouse.table("health_scores")
        days = set(t.filter(t.score_date > END).score_date.execute().tolist())
        before = t.filter(t.score_date <= END).count().execute()
    assert {d.date() if hasattr(d, "date") else d for d in days} == {
        END + timedelta(days=i) for i in range(1, 6)
    }
    with Platform(Settings.load(home)) as p:  # and nothing older was rewritten or lost
        t = p.warehouse.table("health_scores")
        assert t.filter(t.score_date <= END).count().execute() == before


def _latest_from_history(wh) -> list[dict]:
    """Each account's latest ``health_scores`` row, recomputed from the whole history."""
    hs = wh.table("health_scores")
    last = hs.group_by("account_id").aggregate(_m=hs.score_date.max())
    j = hs.join(last, [hs.account_id == last.account_id, hs.score_date == last._m])
    cols = list(wh.table("health_latest").columns)
    return j.select(*[hs[c] for c in cols]).order_by("account_id").to_pyarrow().to_pylist()


def test_health_latest_after_new_days_and_after_a_rerun_equals_the_history(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An incremental day updates ``health_latest`` from the new rows only; re-running a
    day already stored, or a latest table out of step with the history, reads it all."""
    from helix.health import history
    from helix.health.active import active_model

    calls: list[object] = []
    update = history.update_latest
    monkeypatch.setattr(history, "update_latest",
                        lambda wh, *, after=None: calls.append(after) or update(wh, after=after))
    with Platform(Settings.load(home)) as p:
        wh = p.warehouse
        for day, expect in ((END + timedelta(days=1), END),
                            (END + timedelta(days=3), END + timedelta(days=1))):
            run_pipeline(wh, as_of=day, settings=p.settings)
            assert calls[-1] == expect, day
            got = wh.table("health_latest").order_by("account_id").to_pyarrow().to_pylist()
            assert got == _latest_from_history(wh)
        # the last stored day scored again (its rows are replaced): the whole history
        history.update_scores(wh, active_model(p.store), END + timedelta(days=3))
        assert calls[-1] is None
        got = wh.table("health_latest").order_by("account_id").to_pyarrow().to_pylist()
        assert got == _latest_from_history(wh)
        # a latest table behind the history (a run stopped after scoring) is rebuilt whole
        t = wh.table("health_latest")
        wh.write_table("health_latest", t.filter(t.score_date < END))
        run_pipeline(wh, as_of=END + timedelta(days=4), settings=p.settings)
        assert calls[-1] is None
        got = wh.table("health_latest").order_by("account_id").to_pyarrow().to_pylist()
        assert got == _latest_from_history(wh)


def test_a_full_run_keeps_every_signal_date(home: Path) -> None:
    """`helix run --full` recomputes the signals of every stored date, daily ones included."""
    later = END + timedelta(days=3)
    with Platform(Settings.load(home)) as p:
        run_pipeline(p.warehouse, as_of=later, settings=p.settings)
        t = p.warehouse.table("account_signals")
        before = set(t.score_date.execute().tolist())
        run_pipeline(p.warehouse, as_of=later, full=True, settings=p.settings)
        t = p.warehouse.table("account_signals")
        after = set(t.score_date.execute().tolist())
    assert {END + timedelta(days=i) for i in range(1, 4)} <= {
        d.date() if hasattr(d, "date") else d for d in before
    }
    assert before <= after  # (the backfill's weekly dates follow the new as-of date)


def test_a_custom_group_is_scored_and_stored(home: Path, tmp_path: Path) -> None:
    """Groups beyond the usual ones keep their score in `group_scores`."""
    import yaml

    from helix.health.model import default_model
    from helix.health.service import set_model

    doc = default_model().to_dict()
    doc["groups"]["voice"] = {
        "weight": 1,
        "measures": [
            {
                "signal": "nps_latest",
                "weight": 1,
                "scoring": {"type": "linear", "zero": 0, "full": 10},
            }
        ],
    }
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    later = END + timedelta(days=1)
    with Platform(Settings.load(home)) as p:
        set_model(p, path, actor="test")
        run_pipeline(p.warehouse, as_of=later, settings=p.settings)
        t = p.warehouse.table("health_scores")
        rows = t.filter(t.score_date == later).select("group_scores").to_pyarrow().to_pylist()
    groups = [json.loads(r["group_scores"]) for r in rows]
    assert groups and all({"usage", "sentiment", "relationship", "voice"} <= set(g) for g in groups)
    scored = [g["voice"] for g in groups if g["voice"] is not None]
    assert scored and all(0 <= v <= 100 for v in scored)


def test_scoring_in_many_small_batches_stores_the_same_history(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backfill's batches (and the colours carried between them) change nothing: the
    history rescored 20,000 account-days at a time equals the one stored in one batch."""
    from helix.health import history
    from helix.health.active import active_model
    from helix.metrics.loading import load_rows

    cols = ["account_id", "score_date", "score", "color", "group_scores", "drivers", "missing"]
    with Platform(Settings.load(home)) as p:
        wh = p.warehouse
        first = wh.table("health_scores").select(*cols).order_by(["account_id", "score_date"])
        first_rows = first.to_pyarrow().to_pylist()
        events = wh.table("health_events").order_by(["account_id", "event_date"])
        first_events = events.to_pyarrow().to_pylist()
        load_rows(wh, "health_scores", [])
        load_rows(wh, "health_events", [])
        monkeypatch.setattr(history, "SCORE_BATCH_ROWS", 20_000)
        n_batches = len(history.batches(history.signal_dates(wh), history._accounts(wh),
                                        rows=history.SCORE_BATCH_ROWS))
        assert n_batches >= 10
        history.update_scores(wh, active_model(p.store), END)
        assert wh.table("health_scores").select(*cols).order_by(
            ["account_id", "score_date"]).to_pyarrow().to_pylist() == first_rows
        assert wh.table("health_events").order_by(
            ["account_id", "event_date"]).to_pyarrow().to_pylist() == first_events
