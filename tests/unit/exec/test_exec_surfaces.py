"""The executive layer from the CLI, the API and the pages, with every role boundary."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from ...helpers import cli_json, once
from .home import PASSWORD, build

MATURITY = {"strategy": 4, "organisation": 5, "technology": 6, "processes": 3, "talent": 5,
            "measurement": 4}


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return once("exec_home", lambda: build(tmp_path_factory.mktemp("exec")))


@pytest.fixture
def client(home: Path) -> TestClient:
    from helix.api.app import create_app
    from helix.config import Settings

    return TestClient(create_app(Settings.load(home)))


def _login(client: TestClient, email: str) -> str:
    page = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf},
                    follow_redirects=False)
    assert r.status_code == 303
    return re.search(r'name="csrf" value="([^"]+)"',  # type: ignore[union-attr]
                     client.get("/assessment").text).group(1)


def _key(home: Path, scope: str) -> dict[str, str]:
    from helix.config import Settings
    from helix.platform import Platform
    from helix.store import Scope, create_key

    with Platform(Settings.load(home)) as p, p.store.session() as s:
        _, plaintext = create_key(s, name=f"k-{scope}", scope=Scope(scope), actor="test")
    return {"Authorization": f"Bearer {plaintext}"}


def test_cli_assessment_from_an_answers_file_is_stored_with_evidence(
        home: Path, tmp_path: Path) -> None:
    answers = tmp_path / "a.yaml"
    answers.write_text("scores: {strategy: 4, organisation: 5, technology: 6, processes: 3, "
                       "talent: 5, measurement: 4}\nnotes: {processes: spreadsheets}\n")
    doc = cli_json(home, "assess", "maturity", "--answers", str(answers))
    assert doc["average"] == 4.5 and doc["priority"] == ["processes"]
    assert doc["guidance"]["band"] == "foundation"
    rows = {i["key"]: i for i in doc["items"]}
    assert rows["processes"]["note"] == "spreadsheets"
    # the tiny company is six months old: no trailing-year NRR, so measurement stays at 1
    # (maturity is cumulative); no playbooks enabled; strategy is not in the data
    ev = doc["evidence"]["dimensions"]
    assert rows["measurement"]["proposed"] == 1 and not ev["measurement"]["rungs"][0]["passed"]
    assert ev["measurement"]["rungs"][1]["passed"]  # but health scores are deployed
    assert rows["processes"]["proposed"] == 1 and rows["strategy"]["proposed"] is None
    assert rows["organisation"]["proposed"] == 5  # every account owned, ratios in range
    hist = cli_json(home, "assess", "history", "maturity")
    assert hist["count"] >= 1 and hist["entries"][-1]["id"] == doc["id"]


def test_cli_refuses_prompts_with_json(home: Path) -> None:
    from helix.cli.main import app

    r = CliRunner().invoke(app, ["--home", str(home), "assess", "pillars", "--json"])
    assert r.exit_code == 1


def test_cli_business_case_reproduces_the_seed(home: Path) -> None:
    doc = cli_json(home, "report", "business-case", "--arr", "50000000", "--grr", "0.90",
                   "--grr-target", "0.95", "--growth-arr", "10000000", "--expansion-share",
                   "0.10", "--expansion-share-target", "0.20", "--cs-cost", "5000000",
                   "--discount-rate", "0.10", "--investment", "5000000", "--annual-cost",
                   "1000000")
    assert doc["first_year_arr_kept"] == 2_500_000.0
    assert doc["pv_benefits"] == 18_068_181.82 and doc["npv"] == 10_581_329.83
    measured = cli_json(home, "report", "business-case", "--months", "6")
    # ARR of the tiny company at 2024-07-01: (10,000 + 3,000 + 500) x 12; over the six
    # months A4 (400) churned out of 13,900: GRR 13,500 / 13,900, annualised (squared)
    assert measured["inputs"]["arr"] == 162_000.0
    assert measured["inputs"]["sources"]["arr"] == "data"
    assert measured["inputs"]["grr_base"] == pytest.approx((13_500 / 13_900) ** 2)


def test_cli_benchmark_and_roadmap(home: Path) -> None:
    bench = cli_json(home, "report", "benchmark", "--as-of", "2024-07-01")
    assert any(p["metric"] == "nrr" and "gap_dollars" in p for p in bench["placements"])
    road = cli_json(home, "report", "roadmap", "--mark", "steering_committee", "--record")
    gates = {g["key"]: g["status"] for p in road["phases"] for g in p["gates"]}
    assert gates["steering_committee"] == "done" and gates["health_deployed"] == "done"
    assert road["current_phase"] == "foundation"
    assert road["checkpoint"]["done"] == sum(1 for s in gates.values() if s == "done")


def test_api_roles(client: TestClient, home: Path) -> None:
    body = {"scores": MATURITY}
    assert client.get("/api/v1/assessments/maturity").status_code == 401
    assert client.post("/api/v1/assessments/maturity", json=body).status_code == 401
    read = _key(home, "read")
    assert client.get("/api/v1/assessments/maturity", headers=read).status_code == 200
    assert client.get("/api/v1/roadmap", headers=read).status_code == 200
    assert client.post("/api/v1/assessments/maturity", json=body, headers=read).status_code == 403
    write = _key(home, "write")
    assert client.post("/api/v1/assessments/maturity", json=body,
                       headers=write).status_code == 403
    r = client.post("/api/v1/assessments/imperatives", headers=_key(home, "admin"),
                    json={"scores": {"elevation": 3, "technology": 5, "commercial": 6,
                                     "innovation": 4}})
    assert r.status_code == 201 and r.json()["priority"] == ["elevation"]
    bad = client.post("/api/v1/assessments/imperatives", headers=_key(home, "admin"),
                      json={"scores": {"elevation": 11}})
    assert bad.status_code == 400
    assert client.put("/api/v1/roadmap/gates/board_metrics", headers=read,
                      json={"done": True}).status_code == 403
    assert client.put("/api/v1/roadmap/gates/nope", headers=_key(home, "admin"),
                      json={"done": True}).status_code == 404


def test_api_as_signed_in_users(client: TestClient) -> None:
    _login(client, "csm@x.io")
    assert client.get("/api/v1/business-case?investment=1000&months=6").status_code == 200
    assert client.get("/api/v1/business-case").status_code == 400  # no trailing-year GRR
    assert client.post("/api/v1/assessments/maturity",
                       json={"scores": MATURITY}).status_code == 403
    _login(client, "lead@x.io")
    r = client.post("/api/v1/assessments/maturity", json={"scores": MATURITY})
    assert r.status_code == 201 and r.json()["taken_by"] == "api:lead@x.io"
    assert client.post("/api/v1/roadmap/checkpoints").status_code == 201


def test_pages_for_a_viewer_and_a_leader(client: TestClient) -> None:
    csrf = _login(client, "viewer@x.io")
    new_company = "/business-case?grr=0.9&growth_arr=0&expansion_share=0"
    for path in ("/assessment", "/benchmarks", new_company, "/roadmap", "/voice"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert 'data-chart="' in r.text or path in ("/roadmap", "/assessment"), path
    assert "cannot measure" in client.get("/business-case").text  # said, not a crash
    assert "Take the" not in client.get("/assessment").text
    form = {"csrf": csrf, **{f"score_{k}": v for k, v in MATURITY.items()}}
    assert client.post("/assessment/maturity", data=form,
                       follow_redirects=False).status_code == 403
    assert client.post("/roadmap/checkpoint", data={"csrf": csrf},
                       follow_redirects=False).status_code == 403
    csrf = _login(client, "lead@x.io")
    form["csrf"] = csrf
    r = client.post("/assessment/maturity", data=form, follow_redirects=False)
    assert r.status_code == 303 and "average%204.50" in r.headers["location"]
    page = client.get("/assessment").text
    assert "Take the" in page and 'data-average="4.5"' in page
    r = client.get("/business-case?arr=50000000&grr=0.9&grr_target=0.95&growth_arr=10000000"
                   "&expansion_share=0.1&expansion_share_target=0.2&cs_cost=5000000"
                   "&discount_rate=0.1&investment=5000000&annual_cost=1000000")
    assert 'data-npv="10581329.83"' in r.text
    assert 'data-nps=' in client.get("/voice").text
    r = client.post("/roadmap/gates/board_metrics", data={"csrf": csrf, "done": "true"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert 'data-gate="board_metrics" data-status="done"' in client.get("/roadmap").text

# builds a demo company or a live server: run by `make test-slow`
pytestmark = pytest.mark.slow
