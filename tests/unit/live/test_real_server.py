"""A real uvicorn server: the official Segment client, and a kill right after the 200."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from helix.ingest.live.spool import Spool, spool_path
from helix.warehouse import open_warehouse

from .conftest import Server, make_keys, set_settings, start_server


def wait_for_events(url: str, key: str, account: str, n: int, timeout: float = 90.0) -> list[dict]:
    """The account's events from the API, once there are ``n`` (the flush is in the background)."""
    deadline = time.monotonic() + timeout
    items: list[dict] = []
    while time.monotonic() < deadline:
        r = httpx.get(
            f"{url}/api/v1/accounts/{account}/events",
            params={"limit": 100},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        if len(items) >= n:
            return items
        time.sleep(0.3)
    raise AssertionError(f"only {len(items)} of {n} events arrived: {items}")


@pytest.fixture
def analytics() -> Iterator[Any]:
    """The official client's module, reset afterwards (it keeps one global client)."""
    import segment.analytics as analytics

    saved = (analytics.write_key, analytics.host, analytics.max_retries)
    errors: list[Exception] = []
    analytics.on_error = lambda exc, batch: errors.append(exc)
    analytics.errors = errors
    yield analytics
    analytics.shutdown()
    analytics.default_client = None
    analytics.write_key, analytics.host, analytics.max_retries = saved
    analytics.on_error = None


@pytest.mark.slow
def test_the_official_segment_client_reaches_the_account_events(
    live_home: Path, server_factory: list[Server], analytics: Any
) -> None:
    keys = make_keys(live_home)
    set_settings(live_home, live_flush_interval_seconds=0.3)
    server = start_server(live_home)
    server_factory.append(server)

    analytics.write_key = keys.ingest
    analytics.host = server.url
    analytics.max_retries = 2
    analytics.group("user-7", "A3", {"name": "Gamma", "plan": "pro"})
    analytics.identify("user-7", {"email": "kim@gamma.io", "name": "Kim"})
    analytics.track("user-7", "report_created", {"value": 2})
    analytics.track("user-7", "login", context={"groupId": "A3"})
    analytics.page("user-7", "Docs", "Getting started")
    analytics.flush()
    assert analytics.errors == []

    items = wait_for_events(server.url, keys.read, "A3", 3)
    assert sorted(e["event_type"] for e in items) == [
        "login",
        "page:Getting started",
        "report_created",
    ]
    assert all(e["user_id"] == "user-7" for e in items)
    assert {e["value"] for e in items if e["event_type"] == "report_created"} == {2.0}
    # and on the Customer 360 timeline, as the day's usage
    r = httpx.get(f"{server.url}/api/v1/accounts/A3/timeline", params={"kind": "usage"},
                  headers={"Authorization": f"Bearer {keys.read}"}, timeout=30)
    assert r.status_code == 200, r.text
    (usage,) = r.json()["items"]
    assert usage["data"]["events"] == 3 and usage["data"]["users"] == 1
    assert usage["data"]["by_type"] == {"login": 1, "page:Getting started": 1, "report_created": 1}


@pytest.mark.slow
def test_an_accepted_event_survives_a_kill_right_after_the_200(
    live_home: Path, server_factory: list[Server]
) -> None:
    keys = make_keys(live_home)
    # the first server never gets to flush: an hour between flushes, and it dies at once
    set_settings(live_home, live_flush_interval_seconds=3600)
    first = start_server(live_home)
    server_factory.append(first)
    auth = "Basic " + base64.b64encode(f"{keys.ingest}:".encode()).decode()
    body = {
        "batch": [
            {
                "type": "track",
                "userId": "u1",
                "event": "survived",
                "messageId": f"kill-{i}",
                "timestamp": "2024-05-01T10:00:00Z",
                "context": {"groupId": "A1"},
            }
            for i in range(50)
        ]
    }
    r = httpx.post(f"{first.url}/v1/batch", json=body, headers={"Authorization": auth}, timeout=30)
    first.kill()
    assert r.status_code == 200 and r.json()["accepted"] == 50

    with Spool(spool_path(live_home)) as spool:
        assert spool.count("pending") == 50
    wh = open_warehouse(f"duckdb://{live_home / 'warehouse.duckdb'}")
    try:
        assert wh.count("events") == 0  # nothing was flushed before the kill
    finally:
        wh.close()

    set_settings(live_home, live_flush_interval_seconds=0.3)
    second = start_server(live_home)
    server_factory.append(second)
    items = wait_for_events(second.url, keys.read, "A1", 50)
    assert len(items) == 50 and {e["event_type"] for e in items} == {"survived"}
    # the client, not knowing, sends the batch again: nothing is added
    r = httpx.post(f"{second.url}/v1/batch", json=body, headers={"Authorization": auth}, timeout=30)
    assert r.json() == {"success": True, "accepted": 0, "duplicates": 50}
