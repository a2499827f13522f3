"""A serving app does not keep the embedded warehouse from other processes: it releases
it after each request, or (holding it, as `helix serve` does) when idle or waited for."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helix.api.app import create_app
from helix.config import Settings
from helix.errors import WarehouseBusy
from helix.platform import Platform
from helix.store import Scope, create_key
from helix.warehouse import open_warehouse

from .test_auth_and_accounts import home  # noqa: F401  (fixture)

_OPEN = "from helix.warehouse import open_warehouse; open_warehouse({url!r}).close(); print('ok')"
_HOLD = (
    "import sys, time; from helix.warehouse import open_warehouse; "
    "w = open_warehouse({url!r}); print('held', flush=True); time.sleep(30)"
)


def _url(home: Path) -> str:
    return f"duckdb://{home / 'warehouse.duckdb'}"


def test_another_process_can_write_while_the_app_serves(home: Path) -> None:  # noqa: F811
    with Platform(Settings.load(home)) as p, p.store.session() as s:
        _, key = create_key(s, name="reader", scope=Scope.READ, actor="test")
    client = TestClient(create_app(Settings.load(home)))
    assert client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    other = subprocess.run(
        [sys.executable, "-c", _OPEN.format(url=_url(home))], capture_output=True, text=True, timeout=60
    )
    assert other.returncode == 0 and other.stdout.strip() == "ok", other.stderr
    # and the app opens it again for the next request
    assert client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_a_held_warehouse_is_a_clear_busy_error(home: Path) -> None:  # noqa: F811
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD.format(url=_url(home))], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseBusy) as info:
            open_warehouse(_url(home), wait_s=0)
        assert f"PID {holder.pid}" in info.value.for_people()
        assert "try again" in info.value.for_people()
    finally:
        holder.kill()
        holder.wait(timeout=30)
    time.sleep(0.1)
    open_warehouse(_url(home)).close()


_HOLD_BRIEFLY = (
    "import sys, time; from helix.warehouse import open_warehouse; "
    "w = open_warehouse({url!r}); print('held', flush=True); time.sleep(1.5); w.close()"
)


def test_opening_a_held_warehouse_waits_for_it(home: Path) -> None:  # noqa: F811
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_BRIEFLY.format(url=_url(home))], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        open_warehouse(_url(home), wait_s=30).close()
        assert time.monotonic() - started >= 0.5  # it did wait for the holder
        assert not list(home.glob("warehouse.duckdb.waiting-*"))  # and took its marker away
    finally:
        holder.kill()
        holder.wait(timeout=30)


def _reader(home: Path) -> str:
    with Platform(Settings.load(home)) as p, p.store.session() as s:
        _, key = create_key(s, name="reader", scope=Scope.READ, actor="test")
    return key


def test_a_holding_app_keeps_the_file_open_and_lets_go_when_idle(home: Path) -> None:  # noqa: F811
    key = _reader(home)
    app = create_app(Settings.load(home), hold_warehouse_s=0.4)
    with TestClient(app) as client:
        platform = app.state.platform
        assert client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert platform.holds_warehouse  # kept between requests
        deadline = time.monotonic() + 10
        while platform.holds_warehouse and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not platform.holds_warehouse  # released once idle
        assert client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_a_holding_app_lets_a_waiting_writer_in(home: Path) -> None:  # noqa: F811
    key = _reader(home)
    app = create_app(Settings.load(home), hold_warehouse_s=3600)  # never idle long enough
    with TestClient(app) as client:
        assert client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert app.state.platform.holds_warehouse
        other = subprocess.run(
            [sys.executable, "-c", _OPEN.format(url=_url(home))], capture_output=True, text=True,
            timeout=60, env={**os.environ, "HELIX_WAREHOUSE_WAIT_SECONDS": "20"},
        )
        assert other.returncode == 0 and other.stdout.strip() == "ok", other.stderr
        # the app took it back for its next request
        assert client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert app.state.platform.holds_warehouse


def test_a_busy_app_lets_a_waiting_writer_in(home: Path) -> None:  # noqa: F811
    """Requests keep coming (the app is never idle), and the writer still gets its turn."""
    import threading

    key = _reader(home)
    app = create_app(Settings.load(home), hold_warehouse_s=3600)
    stop = threading.Event()
    with TestClient(app) as client:
        def busy() -> None:
            while not stop.is_set():
                client.get("/api/v1/accounts", headers={"Authorization": f"Bearer {key}"})

        threads = [threading.Thread(target=busy) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            other = subprocess.run(
                [sys.executable, "-c", _OPEN.format(url=_url(home))], capture_output=True,
                text=True, timeout=60, env={**os.environ, "HELIX_WAREHOUSE_WAIT_SECONDS": "20"},
            )
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert other.returncode == 0 and other.stdout.strip() == "ok", other.stderr
