"""The Stripe webhook: signatures made by the `stripe` library, events in Stripe's shapes."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import stripe
from fastapi.testclient import TestClient

from helix.api.app import create_app
from helix.config import Settings
from helix.ingest.live.service import live_service
from helix.platform import Platform

from .conftest import set_settings

SECRET = "whsec_test_4eC39HqLyjWDarjtT1zdp7dc"


def ts(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())


def subscription(
    *,
    sub: str = "sub_1",
    customer: str = "cus_1",
    status: str = "active",
    quantity: int = 10,
    unit_amount: int = 5000,
    interval: str = "month",
    period_end: str = "2024-06-01",
    metadata: dict[str, str] | None = None,
    ended_at: int | None = None,
) -> dict[str, Any]:
    """A subscription object as Stripe sends it (API version 2024-06-20), trimmed of
    fields Helix does not read only where they are long lists."""
    return {
        "id": sub,
        "object": "subscription",
        "application": None,
        "billing_cycle_anchor": ts("2024-05-01"),
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": ended_at,
        "collection_method": "charge_automatically",
        "created": ts("2024-05-01"),
        "currency": "usd",
        "current_period_end": ts(period_end),
        "current_period_start": ts("2024-05-01"),
        "customer": customer,
        "days_until_due": None,
        "default_payment_method": "pm_1",
        "discount": None,
        "ended_at": ended_at,
        "livemode": False,
        "items": {
            "object": "list",
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={sub}",
            "data": [
                {
                    "id": "si_1",
                    "object": "subscription_item",
                    "created": ts("2024-05-01"),
                    "metadata": {},
                    "quantity": quantity,
                    "subscription": sub,
                    "tax_rates": [],
                    "price": {
                        "id": "price_pro",
                        "object": "price",
                        "active": True,
                        "billing_scheme": "per_unit",
                        "created": ts("2024-01-01"),
                        "currency": "usd",
                        "livemode": False,
                        "lookup_key": None,
                        "metadata": {},
                        "nickname": "Pro",
                        "product": "prod_core",
                        "tax_behavior": "unspecified",
                        "type": "recurring",
                        "recurring": {
                            "aggregate_usage": None,
                            "interval": interval,
                            "interval_count": 1,
                            "trial_period_days": None,
                            "usage_type": "licensed",
                        },
                        "unit_amount": unit_amount,
                        "unit_amount_decimal": str(unit_amount),
                    },
                }
            ],
        },
        "latest_invoice": "in_1",
        "metadata": metadata if metadata is not None else {"helix_account_id": "A1"},
        "start_date": ts("2024-05-01"),
        "status": status,
        "trial_end": None,
        "trial_start": None,
    }


def event(eid: str, etype: str, obj: dict[str, Any], created: int) -> dict[str, Any]:
    return {
        "id": eid,
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "data": {"object": obj, "previous_attributes": {}},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": "req_1", "idempotency_key": None},
        "type": etype,
    }


def invoice_failed(eid: str, customer: str = "cus_1", amount: int = 60000) -> dict[str, Any]:
    inv = {
        "id": "in_9",
        "object": "invoice",
        "amount_due": amount,
        "amount_paid": 0,
        "amount_remaining": amount,
        "attempt_count": 1,
        "attempted": True,
        "billing_reason": "subscription_cycle",
        "collection_method": "charge_automatically",
        "created": ts("2024-05-20"),
        "currency": "usd",
        "customer": customer,
        "due_date": None,
        "paid": False,
        "status": "open",
        "subscription": "sub_1",
        "subscription_details": {"metadata": {}},
    }
    return event(eid, "invoice.payment_failed", inv, ts("2024-05-20"))


def post(client: TestClient, ev: dict[str, Any], *, secret: str = SECRET, at: int | None = None):  # type: ignore[no-untyped-def]
    payload = json.dumps(ev)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=at)
    return client.post(
        "/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


@pytest.fixture
def client(live_home: Path) -> TestClient:
    set_settings(live_home, stripe_webhook_secret=SECRET)
    return TestClient(create_app(Settings.load(live_home)))


def flush(client: TestClient) -> dict:
    result = live_service(client.app).flusher.flush()
    assert result.error is None, result.error
    return result.to_dict()


def stripe_rows(home: Path) -> list[dict[str, Any]]:
    with Platform(Settings.load(home)) as p:
        t = p.warehouse.table("subscriptions")
        rows = t.filter(t.subscription_id.startswith("sub_")).order_by("subscription_id")
        return rows.to_pyarrow().to_pylist()


def test_headers_made_here_are_what_the_stripe_library_accepts() -> None:
    payload = json.dumps(
        event("evt_0", "customer.subscription.created", subscription(), ts("2024-05-01"))
    )
    header = stripe.WebhookSignature.generate_signature_header(payload, SECRET)
    assert stripe.Webhook.construct_event(payload, header, SECRET).id == "evt_0"
    from helix.ingest.live.stripe_events import SignatureError, verify_signature

    assert verify_signature(payload.encode(), header, ["whsec_other", SECRET]) > 0
    with pytest.raises(SignatureError):
        verify_signature(payload.encode() + b" ", header, [SECRET])


def test_subscription_lifecycle_becomes_contract_rows(client: TestClient, live_home: Path) -> None:
    assert post(
        client, event("evt_1", "customer.subscription.created", subscription(), ts("2024-05-01"))
    ).json() == {"received": True, "duplicate": False}
    flush(client)
    (row,) = stripe_rows(live_home)
    assert row["subscription_id"] == "sub_1:si_1:20240501" and row["account_id"] == "A1"
    assert (row["product"], row["plan"], row["mrr"], row["quantity"]) == (
        "prod_core",
        "Pro",
        Decimal("500"),
        Decimal(10),
    )
    assert (row["start_date"], row["end_date"], row["contract_end_date"]) == (
        date(2024, 5, 1),
        None,
        date(2024, 6, 1),
    )
    assert row["currency"] == "USD"

    # seats 10 -> 12 on May 10th: the row ends, a new one starts
    up = event(
        "evt_2",
        "customer.subscription.updated",
        subscription(quantity=12),
        ts("2024-05-10T08:00:00"),
    )
    # renewal on June 1st moves the period end only: no new row
    renew = event(
        "evt_3",
        "customer.subscription.updated",
        subscription(quantity=12, period_end="2024-07-01"),
        ts("2024-06-01T00:05:00"),
    )
    # an older event arriving late is not applied over the newer ones
    late = event(
        "evt_4", "customer.subscription.updated", subscription(quantity=99), ts("2024-05-05")
    )
    for ev in (up, renew):
        assert post(client, ev).status_code == 200
    flush(client)
    assert post(client, late).status_code == 200
    assert flush(client)["ignored"] == 1
    first, second = stripe_rows(live_home)
    assert first["end_date"] == date(2024, 5, 10) and first["mrr"] == Decimal(500)
    assert second["subscription_id"] == "sub_1:si_1:20240510"
    assert (second["mrr"], second["quantity"], second["end_date"]) == (
        Decimal(600),
        Decimal(12),
        None,
    )
    assert second["contract_end_date"] == date(2024, 7, 1)

    # cancelled: the open row ends on the day it ended
    gone = event(
        "evt_5",
        "customer.subscription.deleted",
        subscription(quantity=12, status="canceled", ended_at=ts("2024-06-15")),
        ts("2024-06-15"),
    )
    assert post(client, gone).status_code == 200
    flush(client)
    assert [r["end_date"] for r in stripe_rows(live_home)] == [date(2024, 5, 10), date(2024, 6, 15)]


def test_yearly_prices_and_failed_payments(client: TestClient, live_home: Path) -> None:
    yearly = subscription(
        sub="sub_y",
        customer="cus_2",
        unit_amount=120000,
        quantity=1,
        interval="year",
        metadata={"account_id": "A2"},
    )
    post(client, event("evt_y", "customer.subscription.created", yearly, ts("2024-05-01")))
    # the invoice names no account: the customer is known from the subscription
    post(client, invoice_failed("evt_f", customer="cus_2", amount=120000))
    flush(client)
    (row,) = stripe_rows(live_home)
    assert row["account_id"] == "A2" and row["mrr"] == Decimal(100)
    with Platform(Settings.load(live_home)) as p:
        pays = p.warehouse.table("payments").to_pyarrow().to_pylist()
    assert [(r["account_id"], r["due_date"], r["amount"], r["status"]) for r in pays] == [
        ("A2", date(2024, 5, 20), Decimal(1200), "failed")
    ]


def test_replays_are_idempotent_and_unknown_customers_wait(
    client: TestClient, live_home: Path
) -> None:
    ev = event("evt_r", "customer.subscription.created", subscription(), ts("2024-05-01"))
    assert post(client, ev).json()["duplicate"] is False
    assert post(client, ev).json() == {"received": True, "duplicate": True}  # Stripe's retry
    flush(client)
    assert len(stripe_rows(live_home)) == 1
    nobody = subscription(sub="sub_x", customer="cus_unknown", metadata={})
    post(client, event("evt_x", "customer.subscription.created", nobody, ts("2024-05-01")))
    assert flush(client)["waiting"] == 1
    (waiting,) = live_service(client.app).spool.messages("waiting")
    assert "cus_unknown" in waiting["reason"] and "helix_account_id" in waiting["reason"]
    r = post(
        client,
        event("evt_c", "charge.succeeded", {"id": "ch_1", "object": "charge"}, ts("2024-05-01")),
    )
    assert r.status_code == 200 and r.json()["ignored"] is True


@pytest.mark.parametrize("case", ["no-header", "wrong-secret", "too-old", "tampered"])
def test_unverified_requests_are_refused(client: TestClient, case: str) -> None:
    ev = event("evt_s", "customer.subscription.created", subscription(), ts("2024-05-01"))
    payload = json.dumps(ev)
    secret = "whsec_wrong" if case == "wrong-secret" else SECRET
    at = int(time.time()) - 301 if case == "too-old" else None
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=at)
    body = payload.replace("sub_1", "sub_2") if case == "tampered" else payload
    headers = {} if case == "no-header" else {"Stripe-Signature": header}
    r = client.post("/webhooks/stripe", content=body, headers=headers)
    assert r.status_code == 401, r.text
    if case == "too-old":
        assert "tolerance" in r.json()["detail"]
    assert live_service(client.app).spool.backlog(max_age_s=0) == 0


def test_malformed_events_and_a_missing_secret(client: TestClient, live_home: Path) -> None:
    broken = subscription()
    del broken["items"]
    r = post(client, event("evt_b", "customer.subscription.updated", broken, ts("2024-05-01")))
    assert r.status_code == 400 and r.json()["field"] == "data.object.items"
    set_settings(live_home, stripe_webhook_secret=None)
    r = post(
        client, event("evt_n", "customer.subscription.updated", subscription(), ts("2024-05-01"))
    )
    assert r.status_code == 503 and "stripe_webhook_secret" in r.json()["detail"]

# builds a demo company or a live server: run by `make test-slow`
pytestmark = pytest.mark.slow
