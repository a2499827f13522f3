"""Webhook signing and delivery, against a real local HTTP receiver."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from helix.playbooks.webhooks import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookResult,
    post_webhook,
    sign,
    slack_payload,
    verify,
)

SECRET = "whsec-shared"
PAYLOAD = {"event": "playbook.step", "account": "acme", "score": 42}


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Script:
    """What the receiver answers: ``fail_times`` answers of ``fail_status``, then 200."""

    fail_times: int = 0
    fail_status: int = 500
    extra_headers: dict[str, str] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: Recorded) -> tuple[int, dict[str, str]]:
        with self.lock:
            self.requests.append(request)
            if len(self.requests) <= self.fail_times:
                return self.fail_status, self.extra_headers
            return 200, {}


class Receiver:
    def __init__(self) -> None:
        self.script = Script()
        script = self.script

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                status, headers = script.answer(
                    Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/helix"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def requests(self) -> list[Recorded]:
        return self.script.requests


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    recv = Receiver()
    recv.thread.start()
    try:
        yield recv
    finally:
        recv.server.shutdown()
        recv.server.server_close()
        recv.thread.join(timeout=5)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as http:
        yield http


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- signing -------------------------------------------------------------------------------


def test_sign_is_hmac_sha256_over_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()

    assert sign("k", "1700000000", b"{}") == "sha256=" + expected


def test_signature_verifies_only_with_the_shared_secret_and_body() -> None:
    body = b'{"a":1}'
    now = time.time()
    timestamp = str(int(now))
    signature = sign(SECRET, timestamp, body)

    assert verify(SECRET, timestamp, body, signature, now=now)
    assert not verify("another-secret", timestamp, body, signature, now=now)
    assert not verify(SECRET, timestamp, b'{"a":2}', signature, now=now)
    assert not verify(SECRET, str(int(now) + 1), body, signature, now=now)
    assert not verify(SECRET, timestamp, body, "sha256=" + "0" * 64, now=now)
    assert not verify(SECRET, timestamp, body, "garbage ünïcode", now=now)


def test_stale_or_future_timestamps_are_rejected() -> None:
    body = b"{}"
    old = "1700000000"
    signature = sign(SECRET, old, body)

    assert verify(SECRET, old, body, signature, now=1700000000 + 300)
    assert not verify(SECRET, old, body, signature, now=1700000000 + 301)
    assert not verify(SECRET, old, body, signature, now=1700000000 - 301)
    assert not verify(SECRET, old, body, signature, now=1700000000 + 60, tolerance_seconds=30)
    assert not verify(SECRET, "not-a-number", body, signature, now=1700000000)


# -- delivery ------------------------------------------------------------------------------


def test_delivery_is_compact_signed_json(receiver: Receiver, client: httpx.Client) -> None:
    result = post_webhook(
        receiver.url, PAYLOAD, secret=SECRET, idempotency_key="step-1", client=client
    )

    assert result == WebhookResult(
        ok=True, status_code=200, attempts=1, error=None, permanent=False
    )
    [request] = receiver.requests
    assert request.path == "/hooks/helix"
    assert request.body == b'{"account":"acme","event":"playbook.step","score":42}'
    assert json.loads(request.body) == PAYLOAD
    assert request.headers["content-type"] == "application/json"
    assert request.headers[IDEMPOTENCY_HEADER.lower()] == "step-1"
    timestamp = request.headers[TIMESTAMP_HEADER.lower()]
    assert abs(int(timestamp) - time.time()) < 60
    assert verify(SECRET, timestamp, request.body, request.headers[SIGNATURE_HEADER.lower()])
    assert not verify("wrong", timestamp, request.body, request.headers[SIGNATURE_HEADER.lower()])


def test_without_secret_there_is_no_signature(receiver: Receiver, client: httpx.Client) -> None:
    result = post_webhook(receiver.url, PAYLOAD, secret=None, idempotency_key="k", client=client)

    assert result.ok
    headers = receiver.requests[0].headers
    assert SIGNATURE_HEADER.lower() not in headers
    assert headers[IDEMPOTENCY_HEADER.lower()] == "k"


def test_non_json_values_are_sent_as_strings(receiver: Receiver, client: httpx.Client) -> None:
    from datetime import date

    post_webhook(
        receiver.url, {"due": date(2025, 9, 30)}, secret=None, idempotency_key="k", client=client
    )

    assert receiver.requests[0].body == b'{"due":"2025-09-30"}'


def test_retries_after_server_errors_then_success(receiver: Receiver, client: httpx.Client) -> None:
    receiver.script.fail_times = 2
    sleep = FakeSleep()

    result = post_webhook(
        receiver.url, PAYLOAD, secret=SECRET, idempotency_key="step-7", client=client, sleep=sleep
    )

    assert result == WebhookResult(
        ok=True, status_code=200, attempts=3, error=None, permanent=False
    )
    assert len(receiver.requests) == 3
    assert {r.headers[IDEMPOTENCY_HEADER.lower()] for r in receiver.requests} == {"step-7"}
    for request in receiver.requests:
        headers = request.headers
        timestamp, signature = headers["x-helix-timestamp"], headers["x-helix-signature"]
        assert verify(SECRET, timestamp, request.body, signature)
    assert sleep.calls == [0.5, 1.0]


def test_gives_up_after_all_attempts_fail(receiver: Receiver, client: httpx.Client) -> None:
    receiver.script.fail_times = 10
    receiver.script.fail_status = 503
    sleep = FakeSleep()

    result = post_webhook(
        receiver.url,
        PAYLOAD,
        secret=None,
        idempotency_key="k",
        attempts=4,
        client=client,
        sleep=sleep,
    )

    assert not result.ok and not result.permanent
    assert result.attempts == 4 and result.status_code == 503
    assert result.error is not None and "503" in result.error
    assert len(receiver.requests) == 4
    assert sleep.calls == [0.5, 1.0, 2.0]


def test_client_error_stops_at_once_as_permanent(receiver: Receiver, client: httpx.Client) -> None:
    receiver.script.fail_times = 10
    receiver.script.fail_status = 400
    sleep = FakeSleep()

    result = post_webhook(
        receiver.url, PAYLOAD, secret=SECRET, idempotency_key="k", client=client, sleep=sleep
    )

    assert not result.ok and result.permanent
    assert result.attempts == 1 and result.status_code == 400
    assert result.error is not None and "400" in result.error
    assert len(receiver.requests) == 1
    assert sleep.calls == []


def test_429_honours_retry_after(receiver: Receiver, client: httpx.Client) -> None:
    receiver.script.fail_times = 1
    receiver.script.fail_status = 429
    receiver.script.extra_headers = {"Retry-After": "0"}
    sleep = FakeSleep()

    result = post_webhook(
        receiver.url, PAYLOAD, secret=None, idempotency_key="k", client=client, sleep=sleep
    )

    assert result.ok and result.attempts == 2
    assert sleep.calls == [0.0]


def test_retry_after_is_capped_at_30_seconds(receiver: Receiver, client: httpx.Client) -> None:
    receiver.script.fail_times = 1
    receiver.script.fail_status = 503
    receiver.script.extra_headers = {"Retry-After": "3600"}
    sleep = FakeSleep()

    result = post_webhook(
        receiver.url, PAYLOAD, secret=None, idempotency_key="k", client=client, sleep=sleep
    )

    assert result.ok
    assert sleep.calls == [30.0]


def test_408_is_retried(receiver: Receiver, client: httpx.Client) -> None:
    receiver.script.fail_times = 1
    receiver.script.fail_status = 408

    result = post_webhook(
        receiver.url, PAYLOAD, secret=None, idempotency_key="k", client=client, sleep=FakeSleep()
    )

    assert result.ok and result.attempts == 2


def test_connection_refused_is_reported_after_all_attempts() -> None:
    sleep = FakeSleep()

    result = post_webhook(
        f"http://127.0.0.1:{free_port()}/hook",
        PAYLOAD,
        secret=SECRET,
        idempotency_key="k",
        attempts=3,
        timeout=5,
        sleep=sleep,
    )

    assert not result.ok and not result.permanent
    assert result.attempts == 3 and result.status_code is None
    assert result.error is not None and "could not connect" in result.error
    assert SECRET not in result.error
    assert sleep.calls == [0.5, 1.0]


@pytest.mark.parametrize(
    "url", ["ftp://example.com/hook", "file:///etc/passwd", "example.com/hook", "http://", ""]
)
def test_non_http_urls_are_rejected(url: str) -> None:
    with pytest.raises(ValueError):
        post_webhook(url, PAYLOAD, secret=None, idempotency_key="k", sleep=FakeSleep())


def test_at_least_one_attempt_is_required() -> None:
    with pytest.raises(ValueError, match="attempts"):
        post_webhook("http://127.0.0.1/", PAYLOAD, secret=None, idempotency_key="k", attempts=0)


# -- slack ---------------------------------------------------------------------------------


def test_slack_payload_shape() -> None:
    payload = slack_payload(
        "Acme's health dropped <50 & needs a call",
        title="Churn risk",
        link="https://helix.example.com/accounts/acme",
    )

    assert payload["text"] == "Churn risk: Acme's health dropped <50 & needs a call"
    [block] = payload["blocks"]
    assert block["type"] == "section"
    assert block["text"]["type"] == "mrkdwn"
    assert block["text"]["text"] == (
        "*Churn risk*\nAcme's health dropped &lt;50 &amp; needs a call\n"
        "<https://helix.example.com/accounts/acme|Open in Helix>"
    )
    json.dumps(payload)


def test_slack_payload_text_only() -> None:
    payload = slack_payload("Renewal in 30 days")

    assert payload == {
        "text": "Renewal in 30 days",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Renewal in 30 days"}}],
    }


def test_slack_section_text_is_kept_within_slacks_limit() -> None:
    payload = slack_payload("x" * 5000)

    assert len(payload["blocks"][0]["text"]["text"]) == 3000
