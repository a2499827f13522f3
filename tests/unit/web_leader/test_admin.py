"""The admin API and pages: only admins (and admin-scoped keys) manage users, keys,
settings and imports; uploads are size-limited, unpacked safely and imported exactly
as `helix import` does, bad rows named by file, row and column."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from helix.store import Scope

from .conftest import ADMIN, LEADER, PASSWORD, VIEWER, Company, csrf_of, login

ACCOUNTS = "account_id,name,segment,owner_email\nZ1,Zeta,smb,z@x.io\nZ2,,smb,z@x.io\n"
SUBS = (
    "subscription_id,account_id,product,plan,start_date,end_date,mrr,quantity\n"
    "ZS1,Z1,core,starter,2024-01-01,,100,1\nZS2,Z2,core,starter,not-a-date,,50,1\n"
)

READS = [
    "/api/v1/users",
    "/api/v1/keys",
    "/api/v1/settings",
    "/api/v1/imports",
    "/api/v1/imports/1",
    "/api/v1/imports/1/quarantine/accounts",
]


def _zip(files: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_only_admins_reach_the_admin_api(company: Company) -> None:
    c = company.client
    login(c, None)
    for path in READS:
        assert c.get(path).status_code == 401, path
    assert c.post("/api/v1/imports", files={"files": ("a.csv", b"x")}).status_code == 401
    for email in (LEADER, company.csm, VIEWER):
        login(c, email)
        for path in READS:
            assert c.get(path).status_code == 403, (email, path)
        assert c.post("/api/v1/users", json={"email": "n@x.io", "role": "admin"}).status_code == 403
        assert c.post("/api/v1/keys", json={"name": "n", "scope": "admin"}).status_code == 403
        assert c.put("/api/v1/settings/a.b", json={"value": 1}).status_code == 403
        assert c.delete("/api/v1/keys/1").status_code == 403
        assert c.post("/api/v1/imports", files={"files": ("a.csv", b"x")}).status_code == 403
    login(c, None)
    for scope in (Scope.READ, Scope.WRITE, Scope.INGEST):
        assert c.get("/api/v1/users", headers=company.key(scope)).status_code == 403, scope
    assert c.get("/api/v1/users", headers=company.key(Scope.ADMIN)).status_code == 200


def test_users_are_created_given_roles_and_deactivated(company: Company) -> None:
    c = company.client
    login(c, ADMIN)
    r = c.post(
        "/api/v1/users",
        json={"email": "New@X.io", "name": "New", "role": "viewer", "password": "pw-abcdefgh"},
    )
    assert r.status_code == 201 and r.json()["email"] == "new@x.io"
    assert "password" not in str(r.json()).replace("has_password", "")
    assert c.put("/api/v1/users/new@x.io/role", json={"role": "leader"}).json()["role"] == "leader"
    assert c.post("/api/v1/users/new@x.io/deactivate").json()["is_active"] is False
    login(c, None)
    token = csrf_of(c.get("/login").text)
    r = c.post("/login", data={"email": "new@x.io", "password": "pw-abcdefgh", "csrf": token})
    assert r.status_code == 401
    login(c, ADMIN)
    last_admin = c.put(f"/api/v1/users/{ADMIN}/role", json={"role": "viewer"})
    assert last_admin.status_code == 400 and "last active admin" in last_admin.json()["detail"]
    assert c.put("/api/v1/users/nobody@x.io/role", json={"role": "csm"}).status_code == 404


def test_a_key_is_shown_once_and_revocable(company: Company) -> None:
    c = company.client
    login(c, ADMIN)
    made = c.post("/api/v1/keys", json={"name": "sync", "scope": "read"})
    assert made.status_code == 201
    key, key_id = made.json()["key"], made.json()["id"]
    listed = c.get("/api/v1/keys").text
    assert key not in listed and made.json()["prefix"] in listed
    login(c, None)
    assert c.get("/api/v1/accounts", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    login(c, ADMIN)
    assert c.delete(f"/api/v1/keys/{key_id}").json()["revoked_at"] is not None
    login(c, None)
    assert c.get("/api/v1/accounts", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_settings_are_masked_when_secret(company: Company) -> None:
    c = company.client
    login(c, ADMIN)
    assert (
        c.put("/api/v1/settings/smtp.password", json={"value": "hunter22"}).json()["value"] == "***"
    )
    assert c.put("/api/v1/settings/economics.gross_margin", json={"value": 0.8}).status_code == 200
    shown = c.get("/api/v1/settings").json()
    assert shown["smtp.password"] == "***" and shown["economics.gross_margin"] == 0.8
    assert "hunter22" not in c.get("/admin").text
    assert c.put("/api/v1/settings/health.model", json={"value": {}}).status_code == 400
    assert c.put("/api/v1/settings/Bad Key", json={"value": 1}).status_code == 400


def test_an_upload_imports_like_helix_import_and_names_bad_rows(company: Company) -> None:
    c = company.client
    login(c, ADMIN)
    body = _zip(
        {
            "export/accounts.csv": ACCOUNTS,
            "export/subscriptions.csv": SUBS,
            "README.txt": "not data",
        }
    )
    r = c.post("/api/v1/imports", files={"files": ("company.zip", body, "application/zip")})
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["files"] == ["accounts.csv", "subscriptions.csv"]
    assert doc["ignored"] == ["README.txt"]
    assert doc["tables"]["accounts"]["loaded"] == 1 and doc["tables"]["accounts"]["rejected"] == 1
    errors = {(e["file"], e["row"], e["column"]) for e in doc["errors"]}
    assert ("accounts.csv", 2, "name") in errors
    assert any(f == "subscriptions.csv" and col == "start_date" for f, _, col in errors)
    run = c.get(f"/api/v1/imports/{doc['import_run']}").json()
    assert run["status"] == "succeeded" and run["started_by"] == ADMIN
    assert run["report"]["import_id"] == doc["import_id"]
    q = c.get(f"/api/v1/imports/{doc['import_run']}/quarantine/accounts").json()
    assert q["total"] == 1
    assert q["rows"][0]["values"]["account_id"] == "Z2"
    assert q["rows"][0]["errors"][0]["column"] == "name"
    assert c.get(f"/api/v1/imports/{doc['import_run']}/quarantine/events").status_code == 404
    # the same files again change nothing (the import is idempotent)
    again = c.post("/api/v1/imports", content=body, headers={"Content-Type": "application/zip"})
    assert again.status_code == 201 and again.json()["tables"]["accounts"]["new"] == 0
    page = c.get(f"/admin/imports/{doc['import_run']}").text
    assert "Quarantined rows of accounts" in page and "Z2" in page


@pytest.mark.parametrize(
    ("files", "named"),
    [
        ({"../accounts.csv": ACCOUNTS}, "../accounts.csv"),
        ({"/etc/accounts.csv": ACCOUNTS}, "/etc/accounts.csv"),
        ({"customers.csv": ACCOUNTS}, "customers.csv"),
    ],
)
def test_bad_uploads_are_rejected_naming_the_file(
    company: Company, files: dict[str, str], named: str
) -> None:
    c = company.client
    login(c, ADMIN)
    before = len(c.get("/api/v1/imports").json())
    as_zip = c.post(
        "/api/v1/imports", content=_zip(files), headers={"Content-Type": "application/zip"}
    )
    as_parts = c.post("/api/v1/imports", files=[("files", (n, d)) for n, d in files.items()])
    for r in (as_zip, as_parts):
        assert r.status_code == 400, r.text
        assert named in r.json()["detail"] or named in r.json().get("file", "")
    assert (
        not (company.home / "etc").exists() and not (company.home.parent / "accounts.csv").exists()
    )
    assert len(c.get("/api/v1/imports").json()) - before <= 2  # a contract error is a failed run


def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("events.csv", b"0" * (60 * 2**20))
    return buf.getvalue()


def test_uploads_are_size_limited(company: Company) -> None:
    c = company.client
    login(c, ADMIN)
    bomb = _bomb()
    assert len(bomb) < 2**20
    r = c.post("/api/v1/imports", content=bomb, headers={"Content-Type": "application/zip"})
    assert r.status_code == 413, r.text
    assert not list((company.home / "uploads").glob("*/events.csv"))
    assert c.put("/api/v1/settings/imports.max_upload_mb", json={"value": 0.001}).status_code == 200
    try:
        big = c.post("/api/v1/imports", files={"files": ("accounts.csv", ACCOUNTS * 20)})
        assert big.status_code == 413 and "limit" in big.json()["detail"]
        csrf = csrf_of(c.get("/admin/imports").text)
        form = c.post(
            "/admin/imports", data={"csrf": csrf}, files={"files": ("accounts.csv", ACCOUNTS * 20)}
        )
        assert form.status_code == 413 and "larger than the limit" in form.text
    finally:
        c.put("/api/v1/settings/imports.max_upload_mb", json={"value": 50})
    r = c.post("/api/v1/imports", content=b"accounts", headers={"Content-Type": "text/csv"})
    assert r.status_code == 415


# -- pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin", "/admin/imports", "/admin/imports/1"])
def test_the_admin_pages_are_for_admins(company: Company, path: str) -> None:
    c = company.client
    login(c, None)
    r = c.get(path, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/login")
    for email in (LEADER, company.csm, VIEWER):
        login(c, email)
        assert c.get(path).status_code == 403, (email, path)
    login(c, ADMIN)
    assert c.get(path).status_code == 200


def _form(company: Company, path: str, data: dict[str, Any], csrf: str) -> Any:
    return company.client.post(path, data={**data, "csrf": csrf}, follow_redirects=False)


def test_admins_manage_users_keys_and_settings_from_the_page(company: Company) -> None:
    c = company.client
    csrf = login(c, LEADER)
    assert (
        _form(
            company, "/admin/users", {"email": "p@x.io", "role": "csm", "password": PASSWORD}, csrf
        ).status_code
        == 403
    )
    csrf = login(c, ADMIN)
    assert (
        _form(
            company,
            "/admin/users",
            {"email": "p@x.io", "role": "csm", "password": PASSWORD},
            "forged",
        ).status_code
        == 403
    )
    r = _form(
        company,
        "/admin/users",
        {"email": "p@x.io", "role": "csm", "password": PASSWORD, "name": "Pat"},
        csrf,
    )
    assert r.status_code == 303
    assert "p@x.io" in c.get("/admin").text
    assert (
        _form(company, "/admin/users/role", {"email": "p@x.io", "role": "leader"}, csrf).status_code
        == 303
    )
    assert _form(company, "/admin/users/deactivate", {"email": "p@x.io"}, csrf).status_code == 303
    users = {u["email"]: u for u in c.get("/api/v1/users").json()}
    assert (users["p@x.io"]["role"], users["p@x.io"]["is_active"]) == ("leader", False)
    dup = _form(
        company, "/admin/users", {"email": "p@x.io", "role": "csm", "password": PASSWORD}, csrf
    )
    assert dup.status_code == 400 and "already exists" in dup.text
    made = _form(company, "/admin/keys", {"name": "nightly", "scope": "ingest"}, csrf)
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    key = made.text.split('id="new-key">', 1)[1].split("<", 1)[0]
    assert key.startswith("hx_") and key not in c.get("/admin").text
    key_id = next(k["id"] for k in c.get("/api/v1/keys").json() if k["name"] == "nightly")
    assert _form(company, f"/admin/keys/{key_id}/revoke", {}, csrf).status_code == 303
    assert next(k for k in c.get("/api/v1/keys").json() if k["id"] == key_id)["revoked_at"]
    assert (
        _form(
            company, "/admin/settings", {"key": "crm.api_key", "value": "s3cret"}, csrf
        ).status_code
        == 303
    )
    assert (
        _form(
            company, "/admin/settings", {"key": "economics.cac", "value": "1200"}, csrf
        ).status_code
        == 303
    )
    page = c.get("/admin").text
    assert "s3cret" not in page and "&#34;***&#34;" in page
    assert c.get("/api/v1/settings").json()["economics.cac"] == 1200


def test_an_upload_from_the_page_shows_its_report(company: Company) -> None:
    c = company.client
    csrf = login(c, VIEWER)
    r = c.post("/admin/imports", data={"csrf": csrf}, files={"files": ("accounts.csv", ACCOUNTS)})
    assert r.status_code == 403
    csrf = csrf_of(c.get("/login").text) if login(c, ADMIN) else ""
    r = c.post(
        "/admin/imports", data={"csrf": "forged"}, files={"files": ("accounts.csv", ACCOUNTS)}
    )
    assert r.status_code == 403
    r = c.post(
        "/admin/imports",
        data={"csrf": csrf},
        files=[("files", ("accounts.csv", ACCOUNTS)), ("files", ("subscriptions.csv", SUBS))],
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/imports/")
    page = c.get(r.headers["location"]).text
    assert "succeeded" in page and "accounts.csv" in page and "not-a-date" in page
    bad = c.post("/admin/imports", data={"csrf": csrf}, files={"files": ("people.csv", ACCOUNTS)})
    assert bad.status_code == 400 and "people.csv" in bad.text
    assert 'id="imports"' in c.get("/admin/imports").text

# builds a demo company or a live server: run by `make test-slow`
pytestmark = pytest.mark.slow
