"""The tracking API in-process: auth, dedupe, limits, backpressure, and what the flush maps."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helix.api.app import create_app
from helix.config import Settings
from helix.ingest.live.flush import flush_spool
from helix.ingest.live.service import live_service
from helix.platform import Platform
from helix.store import revoke_key

from .conftest import Keys, login, make_keys, set_settings


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def keys(live_home: Path) -> Keys:
    return make_keys(live_home)


@pytest.fixture
def client(live_home: Path) -> TestClient:
    return TestClient(create_app(Settings.load(live_home)))


def flush(client: TestClient) -> dict:
    result = live_service(client.app).flusher.flush()
    assert result.error is None, result.error
    return result.to_dict()


def events(client: TestClient, account: str, key: str, **params: object) -> list[dict]:
    r = client.get(f"/api/v1/accounts/{account}/events", headers=bearer(key), params=params)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def track(user: str, event: str, mid: str, **extra: object) -> dict:
    return {
        "type": "track",
        "userId": user,
        "event": event,
        "messageId": mid,
        "timestamp": "2024-05-01T10:00:00Z",
        **extra,
    }


def test_write_key_as_basic_user_bearer_or_body(client: TestClient, keys: Keys) -> None:
    body = {"userId": "u1", "event": "login", "context": {"groupId": "A1"}}
    assert (
        client.post(
            "/v1/track", headers=basic(keys.ingest), json={**body, "messageId": "a"}
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/v1/track", headers=bearer(keys.ingest), json={**body, "messageId": "b"}
        ).status_code
        == 200
    )
    r = client.post("/v1/track", json={**body, "messageId": "c", "writeKey": keys.ingest})
    assert r.status_code == 200 and r.json() == {"success": True, "accepted": 1, "duplicates": 0}


@pytest.mark.parametrize("who", ["none", "garbage", "read", "write", "revoked", "body-read"])
def test_only_live_ingest_keys_may_send(
    client: TestClient, keys: Keys, live_home: Path, who: str
) -> None:
    body: dict = {"userId": "u1", "event": "login"}
    headers: dict[str, str] = {}
    if who == "garbage":
        headers = basic("hx_not_a_key")
    elif who in ("read", "write"):
        headers = basic(getattr(keys, who))
    elif who == "revoked":
        with Platform(Settings.load(live_home)) as p, p.store.session() as s:
            from helix.store import list_keys

            ingest = next(k for k in list_keys(s) if k.scope == "ingest")
            revoke_key(s, ingest.id, actor="test")
        headers = basic(keys.ingest)
    elif who == "body-read":
        body["writeKey"] = keys.read
    r = client.post("/v1/track", headers=headers, json=body)
    assert r.status_code == (403 if who in ("read", "write", "body-read") else 401), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] in ("unauthorized", "forbidden")  # what Segment clients log
    assert live_service(client.app).spool.backlog(max_age_s=0) == 0


def test_an_ingest_key_cannot_read(client: TestClient, keys: Keys) -> None:
    assert client.get("/api/v1/accounts/A1/events", headers=bearer(keys.ingest)).status_code == 403


def test_a_resent_batch_adds_nothing(client: TestClient, keys: Keys) -> None:
    batch = {"batch": [track("u1", "login", f"m{i}", context={"groupId": "A1"}) for i in range(5)]}
    assert client.post("/v1/batch", headers=basic(keys.ingest), json=batch).json()["accepted"] == 5
    again = client.post("/v1/batch", headers=basic(keys.ingest), json=batch).json()
    assert again == {"success": True, "accepted": 0, "duplicates": 5}
    assert flush(client)["loaded"] == 5
    # and once they are in the warehouse, a resend is still nothing
    assert (
        client.post("/v1/batch", headers=basic(keys.ingest), json=batch).json()["duplicates"] == 5
    )
    flush(client)
    assert len(events(client, "A1", keys.read, limit=100)) == 5


def test_bad_payloads_are_400_problems_naming_the_field(client: TestClient, keys: Keys) -> None:
    batch = {
        "batch": [track("u1", "login", "ok"), {"type": "track", "userId": "u1", "messageId": "x"}]
    }
    r = client.post("/v1/batch", headers=basic(keys.ingest), json=batch)
    assert r.status_code == 400
    problem = r.json()
    assert problem["field"] == "batch[1].event" and "event name" in problem["detail"]
    assert problem["code"] == "invalid_request" and problem["message"] == problem["detail"]
    assert live_service(client.app).spool.backlog(max_age_s=0) == 0  # all or nothing
    r = client.post(
        "/v1/track",
        headers={**basic(keys.ingest), "Content-Type": "application/json"},
        content=b"{oops",
    )
    assert r.status_code == 400 and r.json()["field"] == "body"


def test_size_limits(client: TestClient, keys: Keys) -> None:
    big = json.dumps({"batch": [track("u", "e" * 150, f"m{i}") for i in range(3000)]}).encode()
    r = client.post("/v1/batch", headers=basic(keys.ingest), content=big)
    assert r.status_code == 413 and "500 KB" in r.json()["detail"]
    huge_message = track("u", "e", "m", properties={"blob": "x" * 40_000})
    r = client.post("/v1/batch", headers=basic(keys.ingest), json={"batch": [huge_message]})
    assert r.status_code == 413 and r.json()["field"] == "batch[0]"


def test_backpressure_is_503_with_retry_after(
    client: TestClient, keys: Keys, live_home: Path
) -> None:
    set_settings(live_home, live_max_backlog=3, live_flush_interval_seconds=2)
    batch = {"batch": [track("u1", "login", f"m{i}", context={"groupId": "A1"}) for i in range(3)]}
    assert client.post("/v1/batch", headers=basic(keys.ingest), json=batch).status_code == 200
    r = client.post("/v1/track", headers=basic(keys.ingest), json=track("u1", "login", "m9"))
    assert r.status_code == 503
    assert r.headers["retry-after"] == "4"
    assert "live.max_backlog" in r.json()["detail"]
    flush(client)
    live_service(client.app).spool.backlog(max_age_s=0)
    assert (
        client.post(
            "/v1/track", headers=basic(keys.ingest), json=track("u1", "login", "m9")
        ).status_code
        == 200
    )


def test_group_identify_and_track_map_to_accounts_contacts_events(
    client: TestClient, keys: Keys, live_home: Path
) -> None:
    send = [
        # a new account from a group call, and a user tied to it
        {
            "type": "group",
            "userId": "u9",
            "groupId": "NEW",
            "messageId": "g1",
            "traits": {"name": "Newco", "industry": "Retail"},
        },
        {
            "type": "identify",
            "userId": "u9",
            "messageId": "i1",
            "traits": {
                "email": "ann@newco.io",
                "firstName": "Ann",
                "lastName": "Lee",
                "title": "CTO",
            },
        },
        track("u9", "report_created", "t1", properties={"value": 3}),  # no groupId: u9 -> NEW
        # an existing account: group calls never rename it
        {
            "type": "group",
            "userId": "u1",
            "groupId": "A1",
            "messageId": "g2",
            "traits": {"name": "Renamed"},
        },
        track("u1", "login", "t2"),
        {
            "type": "page",
            "userId": "u1",
            "name": "Pricing",
            "messageId": "p1",
            "timestamp": "2024-05-02T10:00:00Z",
        },
        # nobody has tied u2 to an account yet: it waits
        track("u2", "login", "t3"),
    ]
    r = client.post("/v1/batch", headers=basic(keys.ingest), json={"batch": send})
    assert r.json()["accepted"] == 7
    result = flush(client)
    assert result["waiting"] == 1 and result["loaded"] == 6
    assert result["rows"] == {"accounts": 1, "contacts": 1, "events": 3}
    new = events(client, "NEW", keys.read)
    assert [(e["event_type"], e["user_id"], e["value"]) for e in new] == [
        ("report_created", "u9", 3.0)
    ]
    assert [e["event_type"] for e in events(client, "A1", keys.read)] == ["page:Pricing", "login"]
    with Platform(Settings.load(live_home)) as p:
        acc = p.warehouse.table("accounts").to_pyarrow().to_pylist()
        contacts = p.warehouse.table("contacts").to_pyarrow().to_pylist()
    by_id = {a["account_id"]: a for a in acc}
    assert by_id["A1"]["name"] == "Acme"
    assert by_id["NEW"]["name"] == "Newco" and by_id["NEW"]["industry"] == "Retail"
    assert json.loads(by_id["NEW"]["attributes"]) == {"source": "segment"}
    assert [
        (c["contact_id"], c["account_id"], c["name"], c["email"], c["title"]) for c in contacts
    ] == [("u9", "NEW", "Ann Lee", "ann@newco.io", "CTO")]
    # u2 identifies with its company later: the waiting event follows on the next try
    set_settings(live_home, live_retry_waiting_seconds=0)
    client.post(
        "/v1/identify",
        headers=basic(keys.ingest),
        json={"userId": "u2", "messageId": "i2", "context": {"groupId": "A3"}},
    )
    spool = live_service(client.app).spool
    spool.settle(
        waiting={m.seq: "retry now" for m in spool.take(10, now=9e12) if m.state == "waiting"},
        retry_in_s=0,
    )
    flush(client)
    assert [e["event_id"] for e in events(client, "A3", keys.read)] == ["t3"]
    assert spool.status()["messages"]["waiting"] == 0


def test_events_api_respects_the_book(client: TestClient, keys: Keys) -> None:
    batch = {
        "batch": [
            track(
                "u1",
                "login",
                f"a{i}",
                context={"groupId": "A1"},
                timestamp=f"2024-05-0{i + 1}T10:00:00Z",
            )
            for i in range(3)
        ]
        + [track("u2", "login", "b1", context={"groupId": "A2"})]
    }
    client.post("/v1/batch", headers=basic(keys.ingest), json=batch)
    flush(client)
    # pages: newest first, then older than the cursor
    r = client.get("/api/v1/accounts/A1/events", headers=bearer(keys.read), params={"limit": 2})
    page = r.json()
    assert [e["event_id"] for e in page["items"]] == ["a2", "a1"]
    rest = events(client, "A1", keys.read, before=page["next_before"])
    assert [e["event_id"] for e in rest] == ["a0"]
    assert [e["event_id"] for e in events(client, "A1", keys.read, cursor=page["next_cursor"])] == [
        "a0"
    ]
    assert (
        client.get(
            "/api/v1/accounts/A1/events", params={"limit": 0}, headers=bearer(keys.read)
        ).status_code
        == 422
    )
    bad = client.get("/api/v1/accounts/A1/events", params={"cursor": "x"}, headers=bearer(keys.read))
    assert bad.status_code == 400
    assert client.get("/api/v1/accounts/A1/events").status_code == 401
    assert client.get("/api/v1/accounts/NOPE/events", headers=bearer(keys.read)).status_code == 404
    # a CSM sees their own accounts' events only; a viewer reads everyone's
    login(client, "csm@x.io")
    assert client.get("/api/v1/accounts/A1/events").status_code == 200
    assert client.get("/api/v1/accounts/A2/events").status_code == 404
    client.cookies.clear()
    login(client, "viewer@x.io")
    r = client.get("/api/v1/accounts/A2/events")
    assert r.status_code == 200 and [e["event_id"] for e in r.json()["items"]] == ["b1"]


def test_helix_run_flushes_the_spool_first(client: TestClient, keys: Keys, live_home: Path) -> None:
    client.post(
        "/v1/track",
        headers=basic(keys.ingest),
        json=track("u1", "login", "r1", context={"groupId": "A1"}),
    )
    with Platform(Settings.load(live_home)) as p:
        assert flush_spool(p) is not None
        assert p.warehouse.count("events") == 1

# builds a demo company or a live server: run by `make test-slow`
pytestmark = pytest.mark.slow


def test_events_pages_keep_every_event_of_a_shared_time(client: TestClient, keys: Keys) -> None:
    """Seven events at the same instant (and two before it) come back once each, page by
    page of two, through next_cursor."""
    same = [track("u1", "report_created", f"s{i}", context={"groupId": "A1"}) for i in range(7)]
    older = [
        track("u1", "login", f"o{i}", context={"groupId": "A1"}, timestamp="2024-04-30T10:00:00Z")
        for i in range(2)
    ]
    client.post("/v1/batch", headers=basic(keys.ingest), json={"batch": same + older})
    flush(client)
    seen: list[str] = []
    params: dict[str, object] = {"limit": 2}
    for _ in range(10):
        r = client.get("/api/v1/accounts/A1/events", headers=bearer(keys.read), params=params)
        page = r.json()
        seen += [e["event_id"] for e in page["items"]]
        if not page["next_cursor"]:
            break
        params = {"limit": 2, "cursor": page["next_cursor"]}
    assert sorted(seen[:7]) == [f"s{i}" for i in range(7)] and seen[7:] == ["o1", "o0"]
    assert len(seen) == len(set(seen)) == 9
