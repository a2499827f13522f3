"""Login rate limiting and the first-run admin setup."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helix.api.app import create_app
from helix.config import Settings
from helix.platform import Platform
from helix.store import Role, create_user
from helix.web.ratelimit import LoginLimiter

from .conftest import PASSWORD, csrf_of


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HELIX_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("HELIX_DATABASE_URL", raising=False)
    return tmp_path / "home"


@pytest.fixture
def client(empty_home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings.load(empty_home))) as c:
        yield c


def _attempt(c: TestClient, email: str, password: str) -> int:
    token = csrf_of(c.get("/login").text)
    r = c.post(
        "/login", data={"email": email, "password": password, "csrf": token}, follow_redirects=False
    )
    return r.status_code


def _users(home: Path, *emails: str) -> None:
    with Platform(Settings.load(home)) as p, p.store.session() as s:
        for email in emails:
            create_user(s, email=email, name=email, role=Role.CSM, password=PASSWORD, actor="t")


def test_five_failures_lock_the_login_for_fifteen_minutes(
    client: TestClient, empty_home: Path
) -> None:
    _users(empty_home, "ana@x.io", "bo@x.io")
    clock = Clock()
    client.app.state.login_limiter = LoginLimiter(clock=clock)  # type: ignore[attr-defined]
    for _ in range(5):
        assert _attempt(client, "ana@x.io", "wrong-password") == 401
    token = csrf_of(client.get("/login").text)
    r = client.post(
        "/login",
        data={"email": "ANA@x.io", "password": PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    assert r.status_code == 429  # even the right password, while locked
    assert int(r.headers["retry-after"]) == 15 * 60
    assert "Too many failed attempts" in r.text
    assert _attempt(client, "bo@x.io", PASSWORD) == 303  # another email is not locked
    clock.now += 10 * 60
    assert _attempt(client, "ana@x.io", PASSWORD) == 429
    clock.now += 5 * 60 + 1
    assert _attempt(client, "ana@x.io", PASSWORD) == 303
    assert _attempt(client, "ana@x.io", "wrong-password") == 401  # success cleared the count


def test_an_address_trying_many_emails_is_stopped() -> None:
    clock = Clock()
    limiter = LoginLimiter(max_failures=5, max_per_address=8, clock=clock)
    for i in range(8):
        assert limiter.retry_after(f"u{i}@x.io", "10.0.0.1") is None
        limiter.failed(f"u{i}@x.io", "10.0.0.1")
    assert limiter.retry_after("fresh@x.io", "10.0.0.1") == 900
    assert limiter.retry_after("fresh@x.io", "10.0.0.2") is None
    clock.now += 901
    assert limiter.retry_after("fresh@x.io", "10.0.0.1") is None


def test_the_first_run_creates_the_first_admin(client: TestClient, empty_home: Path) -> None:
    r = client.get("/login", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/setup")
    assert client.get("/", follow_redirects=True).url.path == "/setup"
    page = client.get("/setup")
    assert page.status_code == 200 and "Create the admin" in page.text
    token = csrf_of(page.text)
    form = {"email": "Boss@X.io", "name": "Boss", "password": PASSWORD, "confirm": PASSWORD}
    assert client.post("/setup", data={**form, "csrf": "forged"}).status_code == 403
    differ = client.post("/setup", data={**form, "confirm": "other-pass", "csrf": token})
    assert differ.status_code == 400 and "differ" in differ.text
    short = client.post(
        "/setup", data={**form, "password": "short", "confirm": "short", "csrf": token}
    )
    assert short.status_code == 400 and "at least 8" in short.text
    r = client.post("/setup", data={**form, "csrf": token}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/admin")
    assert client.get("/admin").status_code == 200  # signed in as the new admin
    with Platform(Settings.load(empty_home)) as p, p.store.session() as s:
        from helix.store import list_users

        assert [(u.email, u.role) for u in list_users(s)] == [("boss@x.io", Role.ADMIN)]
    # closed for good once a user exists
    assert client.get("/setup", follow_redirects=False).headers["location"] == "/login"
    token = csrf_of(client.get("/login").text)
    again = client.post("/setup", data={**form, "email": "evil@x.io", "csrf": token})
    assert again.status_code == 403
    client.cookies.clear()
    assert client.get("/login").status_code == 200

# builds a demo company or a live server: run by `make test-slow`
pytestmark = pytest.mark.slow
