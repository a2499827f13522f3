"""The renewal forecast end to end on a demo company: `helix run`, CLI, API, overrides."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helix.api.app import create_app
from helix.config import Settings
from helix.pipeline import run_pipeline
from helix.platform import Platform
from helix.store import Role, Scope, create_key, create_user

from ...helpers import cli_json, demo_home, once

# one worker builds the module's demo company once (pytest --dist loadgroup)
pytestmark = pytest.mark.xdist_group("forecast_flow")

END = date(2025, 6, 1)
PASSWORD = "correct horse battery"
KEYS = {"as_of", "from", "to", "renewals", "arr", "expected_arr", "interval_90", "buckets",
        "calibration", "rules", "items"}  # fmt: skip


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    def build() -> Path:
        base = tmp_path_factory.mktemp("forecast")
        h = demo_home(base, accounts=300, months=20, seed=4, end=END)
        cli_json(
            h, "predict", "train", "--target", "churn", "--horizon-days", "90", "--no-backtest"
        )
        with Platform(Settings.load(h)) as p:
            run_pipeline(p.warehouse, as_of=END, settings=p.settings)
        return h

    return once("forecast_flow", build)


def test_helix_run_stores_todays_snapshot_and_reconstructs_past_months(home: Path) -> None:
    with Platform(Settings.load(home)) as p:
        t = p.warehouse.table("renewal_forecasts").to_pandas()
    dates = sorted(set(t["forecast_date"].dt.date))
    assert dates[-1] == END and len(dates) > 12
    assert all(d.day == 1 for d in dates)
    today = t[t["forecast_date"].dt.date == END]
    assert today["model_probability"].notna().all()  # the trained churn model is used
    first = t[t["forecast_date"].dt.date == dates[0]]
    assert set(first["probability"].round(6)) <= {0.95, 0.8, 0.5, 0.2}  # no history yet: priors
    assert (t["renewal_date"] > t["forecast_date"]).all()
    assert (t["renewal_date"] <= t["forecast_date"] + timedelta(days=365)).all()
    red = t[t["color"] == "red"]
    assert not (red["bucket"] == "committed").any()


def test_forecast_renewals_cli(home: Path) -> None:
    doc = cli_json(home, "forecast", "renewals", "--from", "2025-06-01", "--to", "2025-08-31")
    assert set(doc) >= KEYS and doc["as_of"] == END.isoformat()
    items = doc["items"]
    assert doc["renewals"] == len(items) > 0
    assert all("2025-06-01" <= r["renewal_date"] <= "2025-08-31" for r in items)
    assert doc["expected_arr"] == pytest.approx(
        sum(r["arr"] * r["probability"] for r in items), abs=1
    )
    lo, hi = doc["interval_90"]
    assert 0 <= lo <= doc["expected_arr"] <= hi <= doc["arr"]
    for r in items:
        assert r["probability"] == pytest.approx(doc["calibration"][r["bucket"]]["probability"])
        if r["color"] == "red":
            assert r["bucket"] != "committed"
    assert sum(b["renewals"] for b in doc["buckets"].values()) == len(items)
    # calibration uses past outcomes: some bucket has observed renewals
    assert any(c["observed"] > 0 for c in doc["calibration"].values())


def test_forecast_accuracy_cli(home: Path) -> None:
    doc = cli_json(home, "forecast", "accuracy")
    o = doc["overall"]
    assert o["renewals"] > 20 and 0 <= o["actual_rate"] <= 1
    assert sum(b["renewals"] for b in doc["buckets"].values()) == o["renewals"]
    assert sum(q["renewals"] for q in doc["quarters"]) == o["renewals"]
    assert o["renewed_arr"] <= o["arr"]
    assert set(doc["recalibrated"]) == {"committed", "likely", "at_risk", "critical"}


def test_an_override_moves_a_red_renewal_only_with_a_reason(home: Path, tmp_path: Path) -> None:
    h = tmp_path / "home"
    shutil.copytree(home, h)
    doc = cli_json(h, "forecast", "renewals", "--from", "2025-06-01", "--to", "2026-05-31")
    target = next((r for r in doc["items"] if r["color"] == "red"), doc["items"][0])
    args = ["forecast", "override", target["account_id"], "--renewal-date", target["renewal_date"]]
    from typer.testing import CliRunner

    from helix.cli.main import app

    blank = CliRunner().invoke(
        app, ["--home", str(h), *args, "--bucket", "committed", "--reason", " "]
    )
    assert blank.exit_code != 0 and "reason" in str(blank.exception) + blank.output
    row = cli_json(h, *args, "--bucket", "committed", "--reason", "PO signed by the CFO")
    assert row["bucket"] == "committed" and row["actor"].startswith("cli:")
    again = cli_json(h, "forecast", "renewals", "--from", "2025-06-01", "--to", "2026-05-31")
    got = next(r for r in again["items"] if r["account_id"] == target["account_id"])
    assert got["bucket"] == "committed" and got["override_reason"] == "PO signed by the CFO"


def test_api_routes_are_authenticated_and_role_checked(home: Path, tmp_path: Path) -> None:
    h = tmp_path / "home"
    shutil.copytree(home, h)
    with Platform(Settings.load(h)) as p, p.store.session() as s:
        _, reader = create_key(s, name="reader", scope=Scope.READ, actor="test")
        _, writer = create_key(s, name="writer", scope=Scope.WRITE, actor="test")
        owner = p.warehouse.table("account_summary").owner_email.execute().dropna().iloc[0]
        create_user(s, email=owner, name="CSM", role=Role.CSM, password=PASSWORD, actor="t")
    http = TestClient(create_app(Settings.load(h)))
    params = {"from": "2025-06-01", "to": "2025-08-31"}
    assert http.get("/api/v1/forecast/renewals", params=params).status_code == 401
    read = {"Authorization": f"Bearer {reader}"}
    got = http.get("/api/v1/forecast/renewals", params=params, headers=read)
    assert got.status_code == 200 and set(got.json()) >= KEYS
    cli = cli_json(h, "forecast", "renewals", "--from", "2025-06-01", "--to", "2025-08-31")
    assert got.json()["expected_arr"] == pytest.approx(cli["expected_arr"])
    assert http.get("/api/v1/forecast/accuracy", headers=read).status_code == 200
    item = cli["items"][0]
    body = {"account_id": item["account_id"], "renewal_date": item["renewal_date"],
            "bucket": "likely", "reason": "verbal yes"}  # fmt: skip
    assert http.post("/api/v1/forecast/overrides", json=body, headers=read).status_code == 403
    write = {"Authorization": f"Bearer {writer}"}
    made = http.post("/api/v1/forecast/overrides", json=body, headers=write)
    assert made.status_code == 201 and made.json()["actor"].startswith("api:")
    bad = http.post("/api/v1/forecast/overrides", json={**body, "bucket": "sure"}, headers=write)
    assert bad.status_code == 422
    # a CSM sees their own book and not the company-wide accuracy
    csm = TestClient(create_app(Settings.load(h)))
    page = csm.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    csm.post("/login", data={"email": owner, "password": PASSWORD, "csrf": csrf})
    mine = csm.get("/api/v1/forecast/renewals", params=params).json()["items"]
    assert {r["owner_email"] for r in mine} <= {owner}
    assert csm.get("/api/v1/forecast/accuracy").status_code == 403
