"""A crafted Helix home for engine tests: a few accounts, their contacts, health colour
changes and signals, written straight into the warehouse; plus a real SMTP server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from helix.config import Settings
from helix.metrics.loading import load_rows
from helix.platform import Platform
from helix.store import Role, create_user

AS_OF = date(2026, 3, 10)


def account(i: int, **extra: Any) -> dict[str, Any]:
    """Account ``A<i>`` owned by csm@x.io with ARR $60,000 (low touch) unless told."""
    arr = extra.pop("arr", 60_000.0)
    return {"account_id": f"A{i}", "name": f"Account {i}", "segment": extra.pop("segment", "mid"),
            "owner_email": extra.pop("owner_email", "csm@x.io"), "arr": arr, "mrr": round(arr / 12, 2),
            "active": 1, "customer_since": date(2025, 1, 1), "as_of": AS_OF,
            "next_renewal": extra.pop("next_renewal", None), **extra}


def turned(account_id: str, on: date, color: str = "red", score: float = 35.0) -> dict[str, Any]:
    """A health colour change."""
    return {"account_id": account_id, "event_date": on, "event": f"turned_{color}",
            "from_color": "yellow", "to_color": color, "score": score, "drivers": "[]"}


def contact(i: int, account_id: str = "A1", role: str = "champion", **extra: Any) -> dict:
    """Contact ``C<i>`` of ``account_id`` with an address."""
    return {"contact_id": f"C{i}", "account_id": account_id, "name": f"Person {i}",
            "email": extra.pop("email", f"person{i}@customer.test"), "role": role, **extra}


@dataclass
class Home:
    """A platform over a temporary data directory, with helpers to put warehouse rows."""

    platform: Platform
    path: Path

    def put(self, table: str, rows: list[dict[str, Any]]) -> None:
        load_rows(self.platform.warehouse, table, rows)

    def accounts(self, rows: list[dict[str, Any]]) -> None:
        self.put("account_summary", rows)
        self.put("accounts", [{k: r[k] for k in ("account_id", "name", "segment", "owner_email")}
                              | {"attributes": r.get("attributes")} for r in rows])


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    platform = Platform(Settings.load(tmp_path / "home"))
    platform.init()
    with platform.store.session() as s:
        create_user(s, email="lead@x.io", name="Lead", role=Role.LEADER, password="pw-123456789",
                    actor="test")
        create_user(s, email="csm@x.io", name="Csm", role=Role.CSM, password="pw-123456789",
                    actor="test")
    h = Home(platform, tmp_path / "home")
    yield h
    platform.close()


@dataclass
class Mailbox:
    """Messages received by the local SMTP server."""

    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: Any) -> str:
        if address in self.box.refuse:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.box.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1."""
    from aiosmtpd.controller import Controller

    box = Mailbox("127.0.0.1", _free_port())
    controller = Controller(_Handler(box), hostname=box.host, port=box.port)
    controller.start()
    yield box
    controller.stop()


def days(first: date, n: int) -> list[date]:
    """``n`` consecutive days from ``first``."""
    return [first + timedelta(days=i) for i in range(n)]
