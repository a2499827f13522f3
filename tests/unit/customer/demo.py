"""One small demo company for the Customer 360 and portfolio tests, built once per process:
imported, run, churn model trained and scored, playbooks run, demo users created."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from ...helpers import once

END = date(2026, 2, 15)  # six weeks before the quarter ends: the at-risk view has renewals


@dataclass(frozen=True)
class Demo:
    home: Path
    users: list[dict[str, Any]]
    password: str

    def email(self, role: str) -> str:
        return next(u["email"] for u in self.users if u["role"] == role)

    def csms(self) -> list[str]:
        return [u["email"] for u in self.users if u["role"] == "csm"]


def _build() -> Demo:
    from helix.config import Settings
    from helix.demo_setup import DEMO_PASSWORD, setup_demo
    from helix.platform import Platform

    base = Path(tempfile.mkdtemp(prefix="helix-c360-"))
    with Platform(Settings.load(base / "home")) as p:
        out = setup_demo(p, accounts=45, months=15, seed=12, end=END)
    return Demo(base / "home", out.users, DEMO_PASSWORD)


def demo() -> Demo:
    """The shared demo company."""
    return once("customer360_demo", _build)


def client(d: Demo) -> TestClient:
    """A fresh client (its own cookie jar) on the demo's app."""
    from helix.api.app import create_app
    from helix.config import Settings

    return TestClient(create_app(Settings.load(d.home)))


def login(c: TestClient, email: str, password: str) -> None:
    page = c.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = c.post(
        "/login", data={"email": email, "password": password, "csrf": csrf}, follow_redirects=False
    )
    assert r.status_code == 303, r.text


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
