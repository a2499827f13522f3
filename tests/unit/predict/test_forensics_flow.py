"""Churn forensics end to end on a generated company: CLI (JSON and text) and API, books."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from helix.api.app import create_app
from helix.cli.main import app
from helix.config import Settings
from helix.platform import Platform
from helix.store import Role, Scope, create_key, create_user

from ...helpers import cli_json, demo_home, once

# one worker builds the module's demo company once (pytest --dist loadgroup)
pytestmark = pytest.mark.xdist_group("forensics_flow")

END = date(2025, 6, 1)
PASSWORD = "forensics pass phrase"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return once(
        "forensics_flow",
        lambda: demo_home(
            tmp_path_factory.mktemp("forensics"), accounts=300, months=18, seed=11, end=END
        ),
    )


def _ledger_churns(home: Path, start: date, end: date) -> list[dict[str, Any]]:
    """The period's churns read straight from the ledger files with DuckDB SQL (reference)."""
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "SELECT account_id, churn_date, churned_mrr FROM mrr_movements "
            "WHERE movement = 'churn' AND churn_date >= ? AND churn_date < ? "
            "ORDER BY churned_mrr DESC, churn_date, account_id",
            [start, end],
        ).fetchall()
    finally:
        con.close()
    return [{"account_id": a, "churn_date": d, "churned_mrr": float(m)} for a, d, m in rows]


def test_summary_adds_up_to_the_ledger(home: Path) -> None:
    s = cli_json(home, "forensics", "summary")
    start, end = (date.fromisoformat(s["period"][k]) for k in ("from", "to"))
    assert end == END + timedelta(days=1) and start == end - timedelta(days=365)
    ref = _ledger_churns(home, start, end)
    assert s["churns"] == len(ref) > 10
    assert s["churned_mrr"] == pytest.approx(sum(r["churned_mrr"] for r in ref), abs=0.01)
    assert sum(p["churns"] for p in s["patterns"]) == s["churns"]
    assert sum(p["churned_mrr"] for p in s["patterns"]) == pytest.approx(s["churned_mrr"], abs=0.05)
    assert sum(s["churn_types"].values()) == s["churns"]
    assert s["missing_sources"] == ["predictions"]  # no model trained in this home
    e = s["earliest_warning"]
    assert 0 < e["warned_early_share"] <= e["warned_share"] <= 1
    for wrn in s["warnings"]:
        assert 0 <= wrn["churns_warned"] <= s["churns"]
        assert wrn["available"] == (wrn["warning"] != "churn_risk_high")


def test_warnings_the_generator_ties_to_churn_are_commoner_before_churns(home: Path) -> None:
    """The demo company makes detractors and lost champions churn more: before a churn
    these warnings must be on more often than for the average account-day."""
    s = cli_json(home, "forensics", "summary")
    w = {x["warning"]: x for x in s["warnings"]}
    for name in ("nps_detractor", "champion_left"):
        assert w[name]["share_of_churns"] > w[name]["base_rate"], name


def test_painful_churns_are_the_largest_and_each_is_reconstructed(home: Path) -> None:
    doc = cli_json(home, "forensics", "churns", "--from", "2024-12-01", "--to", "2025-06-01",
                   "--limit", "3")  # fmt: skip
    ref = _ledger_churns(home, date(2024, 12, 1), date(2025, 6, 1))
    assert doc["churns_in_period"] == len(ref)
    assert [c["account_id"] for c in doc["churns"]] == [r["account_id"] for r in ref[:3]]
    for c in doc["churns"]:
        f = c["forensics"]
        assert f["account"]["account_id"] == c["account_id"]
        assert f["churn"]["churn_date"] == c["churn_date"] and f["pattern"]["name"] == c["pattern"]
        churn = date.fromisoformat(c["churn_date"])
        for w in f["warnings"]:
            if w["visible_from"]:
                seen, visible = (date.fromisoformat(w[k]) for k in ("first_seen", "visible_from"))
                assert churn - timedelta(days=365) <= seen <= visible < churn
                assert w["lead_days"] == (churn - visible).days
        assert f["events"][-1]["source"] == "churn"
        assert all(f["window"]["from"] <= r["score_date"] < c["churn_date"]
                   for r in f["signals"]["rows"])  # fmt: skip


def test_account_shorthand_text_output_and_errors(home: Path) -> None:
    top = cli_json(home, "forensics", "churns", "--limit", "1", "--brief")["churns"][0]
    long = cli_json(home, "forensics", "account", top["account_id"])
    short = cli_json(home, "forensics", top["account_id"])
    assert long == short and long["churn"]["churn_date"] == top["churn_date"]
    runner = CliRunner()
    for args in (["forensics", top["account_id"]], ["forensics", "summary"],
                 ["forensics", "churns", "--limit", "2"]):  # fmt: skip
        r = runner.invoke(app, ["--home", str(home), *args])
        assert r.exit_code == 0, r.stderr
        assert r.stdout.strip()
    text = runner.invoke(app, ["--home", str(home), "forensics", top["account_id"]]).stdout
    assert long["account"]["name"] in text and "timeline" in text
    bad = runner.invoke(app, ["--home", str(home), "forensics", "summary", "--from", "2025-05-01",
                              "--to", "2025-01-01"])  # fmt: skip
    assert bad.exit_code == 1 and "the period is empty" in str(bad.exception)
    missing = runner.invoke(app, ["--home", str(home), "forensics", "no-such-account"])
    assert missing.exit_code == 1


def _login(http: TestClient, email: str) -> None:
    page = http.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = http.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf},
                  follow_redirects=False)  # fmt: skip
    assert r.status_code == 303


def test_api_matches_the_cli_and_a_csm_sees_their_book(home: Path) -> None:
    brief = cli_json(home, "forensics", "churns", "--limit", "100", "--brief",
                     "--from", "2024-06-01")  # fmt: skip
    assert len(brief["churns"]) == brief["churns_in_period"] < 100  # the whole period
    owners = {c["owner_email"] for c in brief["churns"]}
    csm = sorted(owners)[0]
    with Platform(Settings.load(home)) as p, p.store.session() as s:
        _, key = create_key(s, name="reader", scope=Scope.READ, actor="test")
        create_user(s, email=csm, name="CSM", role=Role.CSM, password=PASSWORD, actor="test")
    http = TestClient(create_app(Settings.load(home)))
    assert http.get("/api/v1/forensics/summary").status_code == 401
    auth = {"Authorization": f"Bearer {key}"}
    got = http.get("/api/v1/forensics/summary", headers=auth)
    assert got.status_code == 200 and got.json() == cli_json(home, "forensics", "summary")
    one = brief["churns"][0]["account_id"]
    api_one = http.get(f"/api/v1/forensics/accounts/{one}", headers=auth).json()
    assert api_one == cli_json(home, "forensics", one)
    query = "from=2024-06-01&limit=100&detail=false"
    churns = http.get(f"/api/v1/forensics/churns?{query}", headers=auth)
    assert churns.json() == brief
    assert http.get("/api/v1/forensics/accounts/nope", headers=auth).status_code == 404
    assert http.get("/api/v1/forensics/summary?from=2025-01-01&to=2024-01-01",
                    headers=auth).status_code == 400  # fmt: skip

    mine = {c["account_id"] for c in brief["churns"] if c["owner_email"] == csm}
    theirs = next(c["account_id"] for c in brief["churns"] if c["owner_email"] != csm)
    person = TestClient(create_app(Settings.load(home)))
    _login(person, csm)
    listed = person.get(f"/api/v1/forensics/churns?{query}").json()
    assert {c["account_id"] for c in listed["churns"]} == mine
    assert person.get(f"/api/v1/forensics/accounts/{theirs}").status_code == 404
    assert person.get(f"/api/v1/forensics/accounts/{sorted(mine)[0]}").status_code == 200
    summary = person.get("/api/v1/forensics/summary?from=2024-06-01").json()
    assert summary["churns"] == len([c for c in brief["churns"] if c["owner_email"] == csm])
