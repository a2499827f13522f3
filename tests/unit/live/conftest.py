"""A small company for live-ingestion tests, users and keys, and a real server process."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest

from helix.config import Settings
from helix.ingest import import_files
from helix.platform import Platform
from helix.store import Role, Scope, create_key, create_user
from helix.store.settings import set_setting

from ..ingest.conftest import SUBS_HEADER, write_csv

PASSWORD = "correct horse battery"
AS_OF = date(2024, 6, 1)


@dataclass
class Keys:
    ingest: str
    read: str
    write: str


def make_home(base: Path) -> Path:
    """Three accounts (two in csm@x.io's book) with subscriptions, an admin, a CSM, a viewer."""
    home = base / "home"
    d = base / "in"
    write_csv(
        d / "accounts.csv",
        ["account_id", "name", "owner_email"],
        [
            ["A1", "Acme", "csm@x.io"],
            ["A2", "Beta", "other@x.io"],
            ["A3", "Gamma", "csm@x.io"],
        ],
    )
    write_csv(
        d / "subscriptions.csv",
        SUBS_HEADER,
        [
            ["s1", "A1", "core", "", "2024-01-01", None, "1000", 1],
            ["s2", "A2", "core", "", "2024-01-01", None, "9000", 1],
            ["s3", "A3", "core", "", "2024-01-01", None, "10", 1],
        ],
    )
    with Platform(Settings.load(home)) as p:
        import_files(p.warehouse, d, imports_dir=p.settings.imports_dir)
        with p.store.session() as s:
            for email, role in [
                ("admin@x.io", Role.ADMIN),
                ("csm@x.io", Role.CSM),
                ("viewer@x.io", Role.VIEWER),
            ]:
                create_user(s, email=email, name=email, role=role, password=PASSWORD, actor="test")
    return home


def make_keys(home: Path) -> Keys:
    with Platform(Settings.load(home)) as p, p.store.session() as s:
        keys = {
            scope: create_key(s, name=f"k-{scope}", scope=scope, actor="test")[1]
            for scope in (Scope.INGEST, Scope.READ, Scope.WRITE)
        }
    return Keys(keys[Scope.INGEST], keys[Scope.READ], keys[Scope.WRITE])


def set_settings(home: Path, **values: object) -> None:
    """``helix settings set`` for each ``name=value`` (``live_x`` -> ``live.x``)."""
    with Platform(Settings.load(home)) as p, p.store.session() as s:
        for name, value in values.items():
            key = name.replace("live_", "live.", 1) if name.startswith("live_") else name
            set_setting(s, key, value, actor="test")


@pytest.fixture
def live_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HELIX_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("HELIX_DATABASE_URL", raising=False)
    return make_home(tmp_path)


def login(client: object, email: str) -> None:
    page = client.get("/login").text  # type: ignore[attr-defined]
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post(  # type: ignore[attr-defined]
        "/login", data={"email": email, "password": PASSWORD, "csrf": csrf}, follow_redirects=False
    )
    assert r.status_code in (302, 303), r.text


# -- a real server -------------------------------------------------------------------

_SERVE = (
    "import sys, uvicorn; from helix.api.app import create_app; from helix.config import Settings; "
    "uvicorn.run(create_app(Settings.load(sys.argv[1])), host='127.0.0.1', port=int(sys.argv[2]), "
    "log_level='warning')"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed on the way out."""
        self.proc.kill()
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(home: Path, port: int | None = None, timeout: float = 60.0) -> Server:
    """``uvicorn`` serving ``create_app`` for ``home`` in a child process, once it answers."""
    port = port or free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HELIX_WAREHOUSE_URL", "HELIX_DATABASE_URL")
    }
    proc = subprocess.Popen([sys.executable, "-c", _SERVE, str(home), str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                return Server(proc, url)
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


@pytest.fixture
def server_factory() -> Iterator[list[Server]]:
    """Servers started by a test, stopped after it whatever happens."""
    started: list[Server] = []
    yield started
    for s in started:
        s.stop()
