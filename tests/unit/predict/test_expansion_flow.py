"""Expansion leads through `helix run`, the CLI (--json) and the API (auth, a CSM's book)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from helix.api.app import create_app
from helix.cli.main import app
from helix.config import Settings
from helix.ingest import import_files
from helix.pipeline import run_pipeline
from helix.platform import Platform
from helix.store import Role, Scope, create_key, create_user

from ...helpers import cli_json
from .expansion_company import (
    CSM,
    DAY,
    EXPECTED,
    EXPECTED_WITH_LIMITS,
    LIMITS,
    add_predictions,
    write_company,
)

# one worker builds the module's demo company once (pytest --dist loadgroup)
pytestmark = pytest.mark.xdist_group("expansion_flow")

PASSWORD = "correct horse battery"
CSM_BOOK = {"SEAT92", "SEAT80", "ADOPT_UP"}  # the accounts of csm@x.io with a lead


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("expansion_flow")
    home = base / "home"
    with Platform(Settings.load(home)) as p:
        import_files(p.warehouse, write_company(base / "co"), imports_dir=p.settings.imports_dir)
        run_pipeline(p.warehouse, as_of=DAY, settings=p.settings)
        add_predictions(p.warehouse)
        with p.store.session() as s:
            for email, role in [(CSM, Role.CSM), ("viewer@x.io", Role.VIEWER)]:
                create_user(s, email=email, name=email, role=role, password=PASSWORD, actor="test")
    return home


@pytest.fixture
def home(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HELIX_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("HELIX_DATABASE_URL", raising=False)
    shutil.copytree(built, tmp_path / "home")
    return tmp_path / "home"


def _pairs(rows: list[dict]) -> dict[tuple[str, str], str]:
    return {(r["account_id"], r["signal"]): r["suggested_motion"] for r in rows}


def test_cli_detect_config_and_leads(home: Path, tmp_path: Path) -> None:
    run = cli_json(home, "expansion", "detect", "--as-of", DAY.isoformat())
    assert run["detected_on"] == DAY.isoformat() and run["rows"] == run["new"] == len(EXPECTED)
    assert run["by_signal"] == {
        "seats_near_limit": 2,
        "adoption_spreading": 3,
        "predicted_expansion": 1,
    }
    assert any("usage_near_limit skipped" in n for n in run["notes"])
    assert _pairs(cli_json(home, "expansion", "leads", "--limit", "100")) == EXPECTED

    shown = cli_json(home, "expansion", "config")
    assert shown["default"] and shown["config"]["seat_threshold"] == 0.8
    settings = tmp_path / "expansion.yaml"
    settings.write_text(
        yaml.safe_dump({"usage_limits": [u.to_dict() for u in LIMITS.usage_limits]})
    )
    after = cli_json(home, "expansion", "config", "--set", str(settings))
    assert not after["default"] and after["config"]["usage_limits"][0]["product"] == "Zeta Credits"
    # a new configuration makes `helix run` detect again, with it
    report = cli_json(home, "run", "--as-of", DAY.isoformat())
    stage = next(s for s in report["stages"] if s["name"] == "expansion")
    assert stage["status"] == "ran" and stage["rows"] == {
        "expansion_leads": len(EXPECTED_WITH_LIMITS)
    }
    leads = cli_json(home, "expansion", "leads", "--limit", "100")
    assert _pairs(leads) == EXPECTED_WITH_LIMITS
    assert {
        r["account_id"] for r in cli_json(home, "expansion", "leads", "--owner", CSM)
    } == CSM_BOOK
    tier = cli_json(home, "expansion", "leads", "--motion", "tier")
    assert [(r["account_id"], r["detail"]["higher_plan"]["to"]) for r in tier] == [
        ("ADOPT_UP", "p-two")
    ]
    one = cli_json(home, "expansion", "leads", "--account", "USE85")
    assert [r["signal"] for r in one] == ["usage_near_limit"] and "85%" in one[0]["evidence"]
    assert cli_json(home, "expansion", "config", "--reset")["default"]

    bad = CliRunner().invoke(app, ["--home", str(home), "expansion", "leads", "--motion", "upsell"])
    assert bad.exit_code == 1 and "must be one of" in str(bad.exception)


def _key(home: Path) -> str:
    with Platform(Settings.load(home)) as p, p.store.session() as s:
        _, plaintext = create_key(s, name="reader", scope=Scope.READ, actor="test")
    return plaintext


def _login(client: TestClient, email: str) -> None:
    page = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303


def test_api_needs_a_credential_and_limits_a_csm_to_their_book(home: Path) -> None:
    cli_json(home, "expansion", "detect", "--as-of", DAY.isoformat())
    auth = {"Authorization": f"Bearer {_key(home)}"}
    http = TestClient(create_app(Settings.load(home)))
    for url in (
        "/api/v1/expansion/leads",
        "/api/v1/accounts/SEAT92/expansion",
        "/api/v1/expansion/config",
    ):
        r = http.get(url)
        assert r.status_code == 401 and r.headers["content-type"].startswith(
            "application/problem+json"
        )

    everyone = http.get("/api/v1/expansion/leads?limit=100", headers=auth).json()
    assert _pairs(everyone) == EXPECTED
    assert everyone == cli_json(home, "expansion", "leads", "--limit", "100")
    cross = http.get("/api/v1/expansion/leads?motion=cross_sell", headers=auth).json()
    assert [r["account_id"] for r in cross] == ["ADOPT_X"]
    assert http.get("/api/v1/expansion/leads?motion=upsell", headers=auth).status_code == 422
    assert http.get(f"/api/v1/expansion/leads?date={DAY}", headers=auth).json() == everyone
    assert http.get("/api/v1/expansion/leads?date=2025-05-31", headers=auth).json() == []
    assert http.get("/api/v1/accounts/ADOPT_X/expansion", headers=auth).status_code == 200
    assert http.get("/api/v1/accounts/nope/expansion", headers=auth).status_code == 404
    assert http.get("/api/v1/expansion/config", headers=auth).json()["default"] is True

    csm = TestClient(create_app(Settings.load(home)))
    _login(csm, CSM)
    mine = csm.get("/api/v1/expansion/leads?limit=100").json()
    assert {r["account_id"] for r in mine} == CSM_BOOK
    assert all(r["owner_email"] == CSM for r in mine)
    assert csm.get("/api/v1/accounts/ADOPT_X/expansion").status_code == 404  # not their book
    assert csm.get("/api/v1/accounts/SEAT79/expansion").json() == []  # theirs, no lead
    seat = csm.get("/api/v1/accounts/SEAT92/expansion").json()
    assert [r["signal"] for r in seat] == ["seats_near_limit"] and seat[0]["name"] == "Seat92 Ltd"

    viewer = TestClient(create_app(Settings.load(home)))
    _login(viewer, "viewer@x.io")
    assert _pairs(viewer.get("/api/v1/expansion/leads?limit=100").json()) == EXPECTED
