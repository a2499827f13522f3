"""/api/v1/metrics: the same numbers as the library, documented in OpenAPI."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helix.api.app import create_app
from helix.config import Settings
from helix.metrics import retention_window
from helix.metrics.retention import WINDOW_KEYS
from helix.platform import Platform
from helix.store import Role, Scope, create_key, create_user
from helix.store.settings import set_setting

from .helpers import load, sub

D = date
PASSWORD = "correct horse battery"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HELIX_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("HELIX_DATABASE_URL", raising=False)
    path = tmp_path / "home"
    with Platform(Settings.load(path)) as p:
        load(
            p.warehouse,
            [
                sub("a", D(2023, 2, 1), D(2024, 6, 1), 100),
                sub("b", D(2023, 8, 1), None, 300),
                sub("b", D(2024, 5, 1), None, 50, product="addon"),
                sub("c", D(2023, 1, 1), None, 500, product="api"),
                sub("d", D(2024, 4, 1), None, 200),
            ],
            accounts={
                "a": {"segment": "smb", "owner_email": "csm@x.io"},
                "b": {"segment": "smb", "owner_email": "csm@x.io"},
                "c": {"segment": "enterprise", "owner_email": "other@x.io"},
                "d": {"segment": "enterprise"},
            },
        )
        with p.store.session() as s:
            create_user(
                s, email="csm@x.io", name="CSM", role=Role.CSM, password=PASSWORD, actor="t"
            )
            set_setting(s, "economics.gross_margin", 0.8, actor="t")
    return path


@pytest.fixture
def client(home: Path) -> TestClient:
    return TestClient(create_app(Settings.load(home)))


@pytest.fixture
def auth(home: Path) -> dict[str, str]:
    with Platform(Settings.load(home)) as p, p.store.session() as s:
        _, plaintext = create_key(s, name="reader", scope=Scope.READ, actor="t")
    return {"Authorization": f"Bearer {plaintext}"}


def _get(client: TestClient, auth: dict[str, str], path: str, **params: object) -> dict:
    r = client.get(f"/api/v1/metrics{path}", params=params, headers=auth)
    assert r.status_code == 200, r.text
    return r.json()


def test_retention_matches_the_library(
    client: TestClient, auth: dict[str, str], home: Path
) -> None:
    doc = _get(client, auth, "/retention", start="2024-01-01", end="2025-01-01")
    assert tuple(k for k in doc if k != "detail") == WINDOW_KEYS
    with Platform(Settings.load(home)) as p:
        lib = retention_window(p.warehouse, D(2024, 1, 1), D(2025, 1, 1))
    assert doc["start_mrr"] == float(lib.start_mrr) == 900.0
    assert doc["nrr"] == lib.nrr and doc["grr"] == lib.grr
    assert doc["churn_by_type"]["unknown"] == 100.0
    assert doc["detail"] is None
    detailed = _get(client, auth, "/retention", start="2024-01-01", end="2025-01-01", detail=True)
    assert detailed["detail"]["new_logo_mrr"] == 200.0


def test_groups_series_cohorts_ledger(client: TestClient, auth: dict[str, str]) -> None:
    g = _get(client, auth, "/retention/groups", by="segment", start="2024-01-01", end="2025-01-01")
    assert set(g["groups"]) == {"smb", "enterprise"}
    s = _get(
        client,
        auth,
        "/retention/series",
        frequency="quarterly",
        **{"from": "2024-01-01", "to": "2024-12-01"},
    )
    assert [w["period"] for w in s["windows"]] == ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]
    assert s["from"] == "2024-01-01"
    c = _get(client, auth, "/cohorts", by="quarter", measure="logo", as_of="2025-01-01")
    assert c["rows"][0]["values"][0] == 1.0
    roll = _get(client, auth, "/ledger", as_of="2024-07-01")
    assert roll["months"][-1]["end_mrr"] == 1050.0
    one = _get(client, auth, "/ledger/b", as_of="2024-07-01")
    april = [m for m in one["months"] if m["month"] == "2024-04-01"][0]
    assert (april["movement"], april["movement_type"], april["expansion_mrr"]) == (
        "expansion", "cross_sell", 50.0,
    )  # fmt: skip
    r = client.get("/api/v1/metrics/ledger/nobody", headers=auth)
    assert r.status_code == 404


def test_unit_economics_benchmark_and_simulations(client: TestClient, auth: dict[str, str]) -> None:
    ue = _get(client, auth, "/unit-economics", as_of="2025-01-01", cac=1000)
    assert ue["inputs"]["gross_margin"] == 0.8  # from the organisation settings
    assert ue["inputs"]["cac"] == 1000.0  # from the query
    assert ue["arr"] == 12 * 1050.0
    b = _get(client, auth, "/benchmark", as_of="2025-01-01")
    assert b["placements"][0]["metric"] == "grr"
    sim = _get(
        client, auth, "/simulate/retention", start_arr=10_000_000, new_arr_per_year=3_000_000,
        grr_a=0.85, grr_b=0.93, years=5,
    )  # fmt: skip
    assert sim["difference"] == 4435863.85
    cltv = _get(
        client, auth, "/simulate/cltv", arpa=12000, gross_margin=0.75, retention=0.9, points=[3]
    )
    assert [row["cltv"] for row in cltv["rows"]] == [90000.0, 128571.43]


def test_bad_inputs_are_problems(client: TestClient, auth: dict[str, str]) -> None:
    r = client.get(
        "/api/v1/metrics/retention",
        params={"start": "2025-01-01", "end": "2024-01-01"},
        headers=auth,
    )
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    r = client.get("/api/v1/metrics/cohorts", params={"measure": "arr"}, headers=auth)
    assert r.status_code == 422


def test_a_csm_sees_only_their_accounts_ledger(client: TestClient) -> None:
    page = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"email": "csm@x.io", "password": PASSWORD, "csrf": csrf})
    assert client.get("/api/v1/metrics/ledger/a", params={"as_of": "2024-07-01"}).status_code == 200
    assert client.get("/api/v1/metrics/ledger/c", params={"as_of": "2024-07-01"}).status_code == 404


def test_openapi_documents_the_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = {p for p in spec["paths"] if p.startswith("/api/v1/metrics")}
    assert paths == {
        "/api/v1/metrics/retention",
        "/api/v1/metrics/retention/groups",
        "/api/v1/metrics/retention/series",
        "/api/v1/metrics/ledger",
        "/api/v1/metrics/ledger/{account_id}",
        "/api/v1/metrics/cohorts",
        "/api/v1/metrics/unit-economics",
        "/api/v1/metrics/benchmark",
        "/api/v1/metrics/simulate/retention",
        "/api/v1/metrics/simulate/cltv",
    }
    assert "RetentionWindowOut" in spec["components"]["schemas"]
