"""Every route needs a credential; roles and key scopes limit what it reaches."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helix.api.app import create_app
from helix.config import Settings
from helix.ingest import import_files
from helix.pipeline import run_pipeline
from helix.platform import Platform
from helix.store import Role, Scope, create_key, create_user

from ..ingest.conftest import SUBS_HEADER, write_csv

PASSWORD = "correct horse battery"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HELIX_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("HELIX_DATABASE_URL", raising=False)
    home = tmp_path / "home"
    d = tmp_path / "in"
    write_csv(d / "accounts.csv", ["account_id", "name", "owner_email"], [
        ["A1", "Acme", "csm@x.io"], ["A2", "Beta", "other@x.io"], ["A3", "Gamma", "csm@x.io"],
    ])
    write_csv(d / "subscriptions.csv", SUBS_HEADER, [
        ["s1", "A1", "core", "", "2024-01-01", None, "1000", 1],
        ["s2", "A2", "core", "", "2024-01-01", None, "9000", 1],
        ["s3", "A3", "core", "", "2024-01-01", None, "10", 1],
    ])
    with Platform(Settings.load(home)) as p:
        import_files(p.warehouse, d, imports_dir=p.settings.imports_dir)
        run_pipeline(p.warehouse, as_of=date(2024, 6, 1))
        with p.store.session() as s:
            for email, role in [("admin@x.io", Role.ADMIN), ("csm@x.io", Role.CSM), ("viewer@x.io", Role.VIEWER)]:
                create_user(s, email=email, name=email, role=role, password=PASSWORD, actor="test")
    return home


@pytest.fixture
def client(home: Path) -> TestClient:
    return TestClient(create_app(Settings.load(home)))


def _key(home: Path, scope: Scope) -> str:
    with Platform(Settings.load(home)) as p, p.store.session() as s:
        _, plaintext = create_key(s, name=f"k-{scope}", scope=scope, actor="test")
    return plaintext


def _login(client: TestClient, email: str, password: str = PASSWORD) -> int:
    page = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"email": email, "password": password, "csrf": csrf}, follow_redirects=False)
    return r.status_code


def test_every_api_route_needs_a_credential(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, methods in spec["paths"].items():
        for method in methods:
            url = re.sub(r"\{[^}]+\}", "x", path)
            r = client.request(method.upper(), url)
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["content-type"].startswith("application/problem+json")


def test_api_key_scopes(client: TestClient, home: Path) -> None:
    read = _key(home, Scope.READ)
    r = client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {read}"})
    assert r.status_code == 200
    body = r.json()
    assert [a["account_id"] for a in body["items"]] == ["A2", "A1", "A3"]  # by ARR
    assert body["items"][0]["arr"] == 108000.0
    ingest = _key(home, Scope.INGEST)
    assert client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {ingest}"}).status_code == 403
    assert client.get("/api/v1/accounts", headers={"Authorization": "Bearer hx_wrong"}).status_code == 401


def test_csm_sees_only_their_book(client: TestClient) -> None:
    assert _login(client, "csm@x.io") == 303
    ids = [a["account_id"] for a in client.get("/api/v1/accounts").json()["items"]]
    assert ids == ["A1", "A3"]
    assert client.get("/api/v1/accounts/A1").status_code == 200
    assert client.get("/api/v1/accounts/A2").status_code == 404
    page = client.get("/accounts").text
    assert "Acme" in page and "Beta" not in page


def test_viewer_reads_everything(client: TestClient) -> None:
    assert _login(client, "viewer@x.io") == 303
    assert client.get("/api/v1/accounts").json()["total"] == 3


def test_login_rejects_bad_password_and_missing_csrf(client: TestClient) -> None:
    assert _login(client, "admin@x.io", "nope") == 401
    r = client.post("/login", data={"email": "admin@x.io", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 403
    assert client.get("/accounts", follow_redirects=False).headers["location"] == "/login"


def test_logout_ends_the_session(client: TestClient) -> None:
    assert _login(client, "admin@x.io") == 303
    page = client.get("/accounts").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/api/v1/accounts").status_code == 401


# Routes anyone may call: signing in, the first-run setup, a contact's signed
# unsubscribe link, and the docs. The wire protocols (Segment's /v1/..., Stripe's
# webhook) carry their own credential and are checked below.
PUBLIC = {"/", "/login", "/setup", "/unsubscribe/{token}", "/openapi.json", "/docs",
          "/docs/oauth2-redirect", "/static"}


def test_every_page_needs_a_signed_in_user(client: TestClient) -> None:
    from helix.api.routing import iter_routes

    api = set(client.get("/openapi.json").json()["paths"])
    pages = [(path, methods) for path, methods, _ in iter_routes(client.app.routes)
             if path not in api and path not in PUBLIC]
    assert any(path == "/accounts" for path, _ in pages)
    client.get("/login")  # a session with a CSRF token, but nobody signed in
    for path, methods in pages:
        url = re.sub(r"\{[^}]+\}", "x", path)
        for method in methods - {"HEAD"}:
            r = client.request(method, url, follow_redirects=False)
            if path.startswith("/v1/") or path.startswith("/webhooks/"):
                assert r.status_code in (400, 401), (method, path, r.status_code)
            elif r.status_code == 303:
                assert r.headers["location"] == "/login", (method, path)
            else:  # refused before anything happens: no session, no CSRF, or no form
                assert r.status_code in (401, 403, 422), (method, path, r.status_code)


def test_query_dates_far_outside_the_data_are_refused(client: TestClient, home: Path) -> None:
    from helix.api.problems import out_of_range_dates

    key = _key(home, Scope.READ)
    auth = {"Authorization": f"Bearer {key}"}
    r = client.get("/api/v1/metrics/cohorts?by=month&as_of=9999-12-31", headers=auth)
    assert r.status_code == 422 and "as_of" in r.json()["detail"]
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/metrics/cohorts?as_of=2024-06-01", headers=auth).status_code == 200
    r = client.get("/api/v1/metrics/simulate/cltv?arpa=1e308", headers=auth)
    assert r.status_code == 422 and "arpa" in r.json()["detail"]
    r = client.post("/api/v1/tasks/67998459541267001901056/complete", headers=auth)
    assert r.status_code == 422 and "67998459541267001901056" in r.json()["detail"]
    today = date(2026, 12, 2)
    assert out_of_range_dates([("a", "1969-12-31"), ("b", "1970-01-01"), ("c", "2036-12-02"),
                               ("d", "2036-12-03"), ("e", "not-a-date")], today) == ["a", "d"]
