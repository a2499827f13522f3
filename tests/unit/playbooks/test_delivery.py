"""Emails and webhooks from playbooks, end to end: a real SMTP server (aiosmtpd) and a
real webhook receiver on 127.0.0.1; crashes between "decided" and "sent"; opt-outs,
frequency caps and unsubscribe links; retries and the retry budget."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from helix.playbooks.contacts import set_preference, unsubscribe, unsubscribe_token
from helix.playbooks.engine import decide
from helix.playbooks.service import run_playbooks
from helix.playbooks.steps import MAX_ATTEMPTS, execute
from helix.playbooks.webhooks import verify
from helix.store.models import Delivery, PlaybookStep
from helix.store.settings import set_setting

from .conftest import AS_OF, Home, Mailbox, account, contact, turned
from .test_engine import RED, only

EMAIL = RED | {"name": "mail", "actions": [
    {"type": "email", "template": "welcome", "contact_roles": ["champion", "user"]}]}
HOOK = RED | {"name": "hook", "actions": [
    {"type": "webhook", "webhook": "sales", "message": "lead at {account_name}"}]}
NOW = datetime(2026, 3, 10, 12, 0)


def _setup(home: Home, box: Mailbox, playbook: dict[str, Any] = EMAIL) -> None:
    home.accounts([account(1)])
    home.put("health_events", [turned("A1", AS_OF)])
    home.put("contacts", [contact(1), contact(2, role="user"), contact(3, role="other"),
                          contact(4, email=None)])
    only(home, playbook)
    with home.platform.store.session() as s:
        set_setting(s, "smtp", {"host": box.host, "port": box.port,
                                "from_address": "cs@vendor.test"}, "test")


def _statuses(home: Home) -> list[str]:
    with home.platform.store.session() as s:
        return [str(x) for x in s.scalars(select(PlaybookStep.status))]


def test_each_reachable_contact_gets_the_email_once(home: Home, smtp: Mailbox) -> None:
    _setup(home, smtp)
    report = run_playbooks(home.platform, AS_OF, now=NOW)
    assert report["steps"] == {"done": 1}
    assert sorted(m["To"] for m in smtp.messages) == ["person1@customer.test",
                                                      "person2@customer.test"]
    msg = smtp.to("person1@customer.test")[0]
    assert msg["From"] == "cs@vendor.test"
    assert msg["Reply-To"] == "csm@x.io"
    assert "/unsubscribe/" in msg["List-Unsubscribe"]
    body = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Person 1" in body and "/unsubscribe/" in body
    for _ in range(3):  # re-runs, the next days
        run_playbooks(home.platform, AS_OF + timedelta(days=_), now=NOW)
    assert len(smtp.messages) == 2


def test_a_crash_between_decided_and_sent_loses_nothing_and_sends_once(
    home: Home, smtp: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setup(home, smtp)
    # 1. decided and committed, then the process dies before any send
    decide(home.platform, AS_OF)
    assert _statuses(home) == ["pending"] and smtp.messages == []
    # 2. the next run dies inside the first send (the step is claimed: "sending")
    import helix.playbooks.email as email_module

    original = email_module.send_message

    def crash(*a: Any, **k: Any) -> None:
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(email_module, "send_message", crash)
    with pytest.raises(KeyboardInterrupt):
        execute(home.platform, AS_OF, now=NOW)
    assert _statuses(home) == ["sending"] and smtp.messages == []
    # 3. back up: the step is finished, each person gets exactly one email
    monkeypatch.setattr(email_module, "send_message", original)
    assert execute(home.platform, AS_OF, now=NOW) == {"done": 1}
    assert len(smtp.messages) == 2
    assert execute(home.platform, AS_OF, now=NOW) == {}
    assert len(smtp.messages) == 2


def test_a_crash_after_one_send_resends_only_the_rest(
    home: Home, smtp: Mailbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import helix.playbooks.email as email_module

    _setup(home, smtp)
    original, calls = email_module.send_message, []

    def second_crashes(settings: Any, message: Any) -> None:
        calls.append(message["To"])
        if len(calls) == 2:
            raise KeyboardInterrupt("crash before the second send")
        original(settings, message)

    monkeypatch.setattr(email_module, "send_message", second_crashes)
    with pytest.raises(KeyboardInterrupt):
        run_playbooks(home.platform, AS_OF, now=NOW)
    assert len(smtp.messages) == 1
    monkeypatch.setattr(email_module, "send_message", original)
    execute(home.platform, AS_OF, now=NOW)
    assert sorted(m["To"] for m in smtp.messages) == ["person1@customer.test",
                                                      "person2@customer.test"]
    with home.platform.store.session() as s:
        ids = [d.message_id for d in s.scalars(select(Delivery))]
    assert sorted(m["Message-ID"] for m in smtp.messages) == sorted(ids)


def test_opted_out_capped_and_unsubscribed_contacts_get_nothing(home: Home, smtp: Mailbox) -> None:
    _setup(home, smtp)
    with home.platform.store.session() as s:
        set_preference(s, "C1", actor="t", email_opt_out=True)
        set_preference(s, "C2", actor="t", max_emails_per_week=0)
    run_playbooks(home.platform, AS_OF, now=NOW)
    assert smtp.messages == []
    with home.platform.store.session() as s:
        step = s.scalars(select(PlaybookStep)).one()
        assert step.status == "skipped"
        assert step.result["opted_out"] == 1 and step.result["capped"] == 1
        # the link in an email is the only credential needed to opt out
        set_preference(s, "C2", actor="t", clear_cap=True)
        assert unsubscribe(s, unsubscribe_token(s, "C2")) == "C2"
        with pytest.raises(Exception, match="not valid"):
            unsubscribe(s, unsubscribe_token(s, "C2") + "x")


def test_the_weekly_cap_counts_emails_of_every_playbook(home: Home, smtp: Mailbox) -> None:
    _setup(home, smtp)
    with home.platform.store.session() as s:
        set_setting(s, "playbooks.max_emails_per_week", 1, "test")
    run_playbooks(home.platform, AS_OF, now=NOW)
    assert len(smtp.messages) == 2
    home.put("health_events", [turned("A1", AS_OF + timedelta(days=40))])
    run_playbooks(home.platform, AS_OF + timedelta(days=40), now=NOW + timedelta(days=3))
    assert len(smtp.messages) == 2  # within 7 days of the last: capped
    home.put("health_events", [turned("A1", AS_OF + timedelta(days=80))])
    run_playbooks(home.platform, AS_OF + timedelta(days=80), now=NOW + timedelta(days=10))
    assert len(smtp.messages) == 4


def test_a_refused_recipient_fails_permanently_the_other_still_gets_it(
    home: Home, smtp: Mailbox
) -> None:
    _setup(home, smtp)
    smtp.refuse.add("person2@customer.test")
    report = run_playbooks(home.platform, AS_OF, now=NOW)
    assert report["steps"] == {"done": 1}
    assert [m["To"] for m in smtp.messages] == ["person1@customer.test"]
    with home.platform.store.session() as s:
        by_to = {d.address: d.status for d in s.scalars(select(Delivery))}
    assert by_to == {"person1@customer.test": "sent", "person2@customer.test": "failed"}


def test_smtp_down_is_retried_with_backoff_then_recorded_as_failed(home: Home, smtp: Mailbox) -> None:
    _setup(home, smtp)
    with home.platform.store.session() as s:
        set_setting(s, "smtp", {"host": "127.0.0.1", "port": 1, "timeout": 2}, "test")
    now = NOW
    assert run_playbooks(home.platform, AS_OF, now=now)["steps"] == {"retry": 1}
    for attempt in range(2, MAX_ATTEMPTS + 1):
        with home.platform.store.session() as s:
            step = s.scalars(select(PlaybookStep)).one()
            assert step.attempts == attempt - 1 and step.status == "pending"
            wait = step.next_attempt_at - now
        assert wait == timedelta(minutes=15 * 2 ** (attempt - 2))
        assert execute(home.platform, AS_OF, now=now + wait - timedelta(seconds=1)) == {}
        now = now + wait
        expected = "retry" if attempt < MAX_ATTEMPTS else "failed"
        assert execute(home.platform, AS_OF, now=now) == {expected: 1}
    with home.platform.store.session() as s:
        step = s.scalars(select(PlaybookStep)).one()
        assert step.status == "failed" and "gave up after 5 attempts" in step.last_error


# --------------------------------------------------------------------------- webhooks


class Receiver:
    """A webhook endpoint on 127.0.0.1 that fails the first ``fail`` requests with 500."""

    def __init__(self, fail: int = 0) -> None:
        self.fail, self.requests = fail, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                code = 500 if len(receiver.requests) <= receiver.fail else 200
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(fail=4)
    yield r
    r.close()


def test_webhook_is_signed_retried_and_sent_once(
    home: Home, smtp: Mailbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setup(home, smtp, HOOK)
    monkeypatch.setenv("HELIX_WEBHOOK_SECRET_SALES", "shh")
    monkeypatch.setattr("time.sleep", lambda s: None)
    with home.platform.store.session() as s:
        set_setting(s, "webhooks", {"sales": {"url": receiver.url}}, "test")
    # three quick attempts in the first run fail (500): the step waits for a later run
    assert run_playbooks(home.platform, AS_OF, now=NOW)["steps"] == {"retry": 1}
    assert len(receiver.requests) == 3
    assert execute(home.platform, AS_OF, now=NOW + timedelta(minutes=15)) == {"done": 1}
    assert len(receiver.requests) == 5
    keys = {h["Idempotency-Key"] for h, _ in receiver.requests}
    assert len(keys) == 1  # one delivery, one key on every attempt
    headers, body = receiver.requests[-1]
    assert verify("shh", headers["X-Helix-Timestamp"], body, headers["X-Helix-Signature"])
    assert json.loads(body)["text"] == "lead at Account 1"
    run_playbooks(home.platform, AS_OF + timedelta(days=1), now=NOW + timedelta(days=1))
    assert len(receiver.requests) == 5


def test_an_unconfigured_webhook_or_smtp_is_skipped_with_the_reason(home: Home,
                                                                    smtp: Mailbox) -> None:
    _setup(home, smtp, HOOK)
    run_playbooks(home.platform, AS_OF, now=NOW)
    with home.platform.store.session() as s:
        step = s.scalars(select(PlaybookStep)).one()
        assert step.status == "skipped" and "webhooks.sales" in step.result["reason"]
