"""Segment payload checks and the spool, without a server."""

from __future__ import annotations

import gzip
import json
import threading
from datetime import datetime
from pathlib import Path

import pytest

from helix.errors import ConfigError
from helix.ingest.live.flush import LiveConfig
from helix.ingest.live.segment import (
    MAX_BATCH_BYTES,
    PayloadError,
    check_request,
    decode_body,
    event_fields,
)
from helix.ingest.live.spool import Spool

NOW = datetime(2024, 5, 1, 12, 0, 0)


def _check(body: object, kind: str | None = None) -> list[dict]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return [json.loads(row[2]) for row in check_request(raw, kind, received=NOW).rows]


@pytest.mark.parametrize(
    ("body", "kind", "field"),
    [
        (b"{not json", None, "body"),
        ([1, 2], None, "body"),
        ({"nobatch": []}, None, "batch"),
        ({"batch": []}, None, "batch"),
        ({"batch": [{"type": "track", "userId": "u", "event": "e"}, 7]}, None, "batch[1]"),
        ({"batch": [{"type": "track", "event": "e"}]}, None, "batch[0].userId"),
        ({"batch": [{"type": "track", "userId": "u"}]}, None, "batch[0].event"),
        ({"batch": [{"type": "teleport", "userId": "u"}]}, None, "batch[0].type"),
        ({"batch": [{"type": "group", "userId": "u"}]}, None, "batch[0].groupId"),
        ({"userId": "u", "event": "e", "timestamp": "yesterday"}, "track", "timestamp"),
        ({"userId": "u", "event": "e", "properties": [1]}, "track", "properties"),
        ({"userId": {"a": 1}, "event": "e"}, "track", "userId"),
        ({"userId": "u", "event": "e", "context": {"groupId": ""}}, "track", "context.groupId"),
        ({"type": "identify", "userId": "u", "event": "e"}, "track", "type"),
        ({"userId": "u", "event": "e", "timestamp": "2031-01-01T00:00:00Z"}, "track", "timestamp"),
        ({"userId": "u"}, "alias", "previousId"),
    ],
)
def test_a_bad_request_names_the_field(body: object, kind: str | None, field: str) -> None:
    with pytest.raises(PayloadError) as info:
        _check(body, kind)
    assert info.value.field == field
    assert info.value.status == 400


def test_size_limits_are_segments() -> None:
    big = {"userId": "u", "event": "e", "properties": {"blob": "x" * (33 * 1024)}}
    with pytest.raises(PayloadError) as info:
        _check(big, "track")
    assert info.value.status == 413 and "32 KB" in info.value.message
    many = {"batch": [{"type": "track", "userId": "u", "event": "e" * 150}] * 3000}
    raw = json.dumps(many).encode()
    assert len(raw) > MAX_BATCH_BYTES
    with pytest.raises(PayloadError) as info:
        check_request(raw, None)
    assert info.value.status == 413
    bomb = gzip.compress(b" " * (MAX_BATCH_BYTES + 10))
    assert len(bomb) < 10_000
    with pytest.raises(PayloadError) as info:
        decode_body(bomb, "gzip")
    assert info.value.status == 413
    with pytest.raises(PayloadError) as info:
        decode_body(b"abc", "br")
    assert info.value.status == 415


def test_gzip_bodies_are_read() -> None:
    body = json.dumps({"batch": [{"type": "track", "userId": "u", "event": "login"}]}).encode()
    assert decode_body(gzip.compress(body), "gzip") == body


def test_batch_context_times_and_ids() -> None:
    msgs = _check(
        {
            "context": {"groupId": "A1"},
            "sentAt": "2024-05-01T12:00:10Z",
            "batch": [
                {
                    "type": "track",
                    "userId": 42,
                    "event": "login",
                    "messageId": "m1",
                    "timestamp": "2024-04-30T10:00:00+02:00",
                },
                # the client's clock is 10 s ahead: originalTimestamp is corrected by sentAt
                {
                    "type": "page",
                    "anonymousId": "anon",
                    "name": "Pricing",
                    "originalTimestamp": "2024-05-01T12:00:05Z",
                    "context": {"groupId": "A2"},
                },
                {"type": "track", "userId": "u", "event": "export", "properties": {"revenue": 9.5}},
            ],
        }
    )
    first, second, third = msgs
    assert first["timestamp"] == "2024-04-30T08:00:00" and first["context"]["groupId"] == "A1"
    assert second["timestamp"] == "2024-05-01T11:59:55" and second["context"]["groupId"] == "A2"
    assert third["timestamp"] == NOW.isoformat()
    assert event_fields(first)["user_id"] == "42"
    assert event_fields(second)["event_type"] == "page:Pricing"
    assert event_fields(third)["value"] == 9.5 and event_fields(first)["value"] is None
    # no messageId: one derived from the content, the same when the message is resent
    again = _check(
        {
            "batch": [
                {"type": "track", "userId": "u", "event": "export", "properties": {"revenue": 9.5}}
            ],
            "sentAt": "2024-05-01T12:00:30Z",
            "context": {"groupId": "A1"},
        }
    )
    assert third["messageId"].startswith("helix-") and again[0]["messageId"] == third["messageId"]


def test_spool_dedupes_and_settles(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")
    assert spool.append(
        "segment", [("m1", "track", "{}"), ("m2", "track", "{}"), ("m1", "track", "{}")]
    ) == (2, 1)
    assert spool.append("segment", [("m2", "track", "{}"), ("m3", "track", "{}")]) == (1, 1)
    assert spool.append("stripe", [("m1", "invoice.payment_failed", "{}")]) == (
        1,
        0,
    )  # own namespace
    assert spool.backlog(max_age_s=0) == 4
    taken = spool.take(10)
    assert [m.message_id for m in taken] == ["m1", "m2", "m3", "m1"]
    spool.settle(
        loaded=[taken[0].seq],
        waiting={taken[1].seq: "no account"},
        retry_in_s=3600,
        rejected={taken[2].seq: "bad"},
        ignored={taken[3].seq: "old"},
    )
    status = spool.status()
    assert status["messages"] == {
        "pending": 0,
        "waiting": 1,
        "loaded": 1,
        "rejected": 1,
        "ignored": 1,
    }
    assert spool.take(10) == []  # the waiting one is not due for an hour
    assert [m.message_id for m in spool.take(10, now=9e12)] == ["m2"]
    assert spool.append("segment", [("m1", "track", "{}")]) == (0, 1)  # loaded: still known
    spool.close()


def test_spool_appends_from_many_threads(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.db")

    def send(t: int) -> None:
        for b in range(20):
            spool.append("segment", [(f"{t}-{b}-{i}", "track", "{}") for i in range(10)])

    threads = [threading.Thread(target=send, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert spool.count("pending") == 800
    spool.close()


def test_live_settings_are_checked() -> None:
    assert LiveConfig.from_settings({}).max_backlog == 1_000_000
    cfg = LiveConfig.from_settings({"live.max_backlog": 5, "live.flush_interval_seconds": 0.5})
    assert (cfg.max_backlog, cfg.flush_interval_s) == (5, 0.5)
    for bad in (
        {"live.max_backlog": "many"},
        {"live.max_backlog": 0},
        {"live.flush_batch": 2.5},
        {"live.create_accounts": 1},
    ):
        with pytest.raises(ConfigError) as info:
            LiveConfig.from_settings(bad)
        assert next(iter(bad)) in info.value.for_people()
