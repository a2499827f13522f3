"""A small demo company (40 accounts, 15 months), built once per process, copied per
module, with one user of each role. The CSM owns the book of the demo's busiest owner."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helix.api.app import create_app
from helix.config import Settings
from helix.platform import Platform
from helix.store import Role, Scope, create_key, create_user

from ...helpers import demo_home, once

PASSWORD = "pw-123456789"
ADMIN, LEADER, VIEWER = "admin@x.io", "lead@x.io", "viewer@x.io"
END = date(2025, 3, 31)


@dataclass
class Company:
    home: Path
    csm: str  # the email of the CSM user (owner of a book in the demo)
    client: TestClient

    def platform(self) -> Platform:
        return self.client.app.state.platform  # type: ignore[attr-defined,no-any-return]

    def key(self, scope: Scope) -> dict[str, str]:
        with self.platform().store.session() as s:
            _, plaintext = create_key(s, name=f"k-{scope}", scope=scope, actor="test")
        return {"Authorization": f"Bearer {plaintext}"}


def _base(tmp_root: Path) -> Path:
    return once(
        "web_leader_demo",
        lambda: demo_home(tmp_root / "web_leader_demo", accounts=40, months=15, seed=7, end=END),
    )


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    base = _base(tmp_path_factory.getbasetemp())
    home = tmp_path_factory.mktemp("home") / "home"
    shutil.copytree(base, home)
    with Platform(Settings.load(home)) as p:
        owners = p.warehouse.table("account_summary").owner_email.value_counts().to_pyarrow()
        csm = max(
            zip(
                owners["owner_email"].to_pylist(),
                owners["owner_email_count"].to_pylist(),
                strict=True,
            ),
            key=lambda t: (t[1], t[0] or ""),
        )[0]
        with p.store.session() as s:
            for email, role in [
                (ADMIN, Role.ADMIN),
                (LEADER, Role.LEADER),
                (csm, Role.CSM),
                (VIEWER, Role.VIEWER),
            ]:
                create_user(s, email=email, name=email, role=role, password=PASSWORD, actor="test")
    with TestClient(create_app(Settings.load(home))) as client:
        yield Company(home, csm, client)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def login(client: TestClient, email: str | None) -> str:
    """Sign in as ``email`` (None: sign out); returns the session's CSRF token."""
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    if email is not None:
        r = client.post(
            "/login",
            data={"email": email, "password": PASSWORD, "csrf": token},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        token = csrf_of(client.get("/login").text)  # signing in starts a new session
    return token
