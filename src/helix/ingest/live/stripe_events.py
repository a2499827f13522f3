"""Stripe webhooks: the signature check, and what each event means for the warehouse.

Signatures follow Stripe's scheme: the ``Stripe-Signature`` header carries
``t=<unix time>`` and one or more ``v1=<hex>``, where ``v1`` is
HMAC-SHA256 of ``"<t>.<raw body>"`` under the endpoint's signing secret. A
timestamp more than five minutes from now is refused, so a captured request
cannot be replayed later; a replay inside the window carries an event id the
spool has already seen, and changes nothing.

Mapping, in the data contract's shapes:

* ``customer.subscription.created|updated|deleted``: each subscription item is a
  subscription line; a line's terms (product, plan, MRR, quantity, currency)
  are one ``subscriptions`` row, with id ``<subscription>:<item>:<start yyyymmdd>``.
  A change of terms ends the open row on the day of the event and starts a new
  one; a cancelled or deleted subscription ends its rows. MRR is the price's
  unit amount times quantity, per month (yearly prices / 12 ...), in major units.
* ``invoice.payment_failed``: a ``payments`` row with status ``failed``.

The account is the subscription's (or invoice's) ``metadata.helix_account_id``
or ``metadata.account_id``, else the account an earlier event of that customer
named, else the account whose id is the Stripe customer id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

__all__ = [
    "HANDLED",
    "TOLERANCE_S",
    "SignatureError",
    "verify_signature",
    "check_event",
    "Terms",
    "subscription_terms",
    "payment_row",
    "account_hint",
    "event_day",
]

HANDLED = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.payment_failed",
)
TOLERANCE_S = 300
# Stripe amounts are in the currency's smallest unit; these have no minor unit.
_ZERO_DECIMAL = frozenset(
    ("bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga")
    + ("pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf")
)
_ENDED = ("canceled", "incomplete_expired")
_NOT_STARTED = ("incomplete",)  # the first payment has not succeeded: no revenue yet


class SignatureError(ValueError):
    """The webhook's ``Stripe-Signature`` does not prove it came from Stripe."""


def verify_signature(
    payload: bytes,
    header: str | None,
    secrets: list[str],
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_S,
) -> int:
    """Check ``header`` against ``payload`` for any of ``secrets``; return its timestamp."""
    if not header:
        raise SignatureError("no Stripe-Signature header")
    stamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                stamp = int(value)
            except ValueError:
                raise SignatureError("the Stripe-Signature timestamp is not a number") from None
        elif key == "v1":
            signatures.append(value)
    if stamp is None or not signatures:
        raise SignatureError("the Stripe-Signature header has no t= timestamp or v1= signature")
    now = time.time() if now is None else now
    if abs(now - stamp) > tolerance:
        raise SignatureError(
            f"the signature is {int(abs(now - stamp))} s from now, outside the {tolerance} s"
            " tolerance (a replay, or a clock to fix)"
        )
    signed = f"{stamp}.".encode() + payload
    for secret in secrets:
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        if any(hmac.compare_digest(expected, s) for s in signatures):
            return stamp
    raise SignatureError("no v1 signature matches the signing secret")


def _need(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = obj.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        name = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ValueError(f"{where}{key}: must be {'an' if name[0] in 'aeiou' else 'a'} {name}")
    return value


def check_event(body: bytes) -> dict[str, Any]:
    """The event, checked for the fields Helix reads; ``ValueError`` naming a bad one."""
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"body: not valid JSON ({exc})") from None
    if not isinstance(event, dict):
        raise ValueError("body: must be a JSON object (a Stripe event)")
    eid = _need(event, "id", str, "")
    if not eid or len(eid) > 255:
        raise ValueError("id: must be the Stripe event id")
    etype = _need(event, "type", str, "")
    _need(event, "created", int, "")
    data = _need(event, "data", dict, "")
    obj = _need(data, "object", dict, "data.")
    if etype not in HANDLED:
        return event
    where = "data.object."
    _need(obj, "id", str, where)
    customer = obj.get("customer")
    if not isinstance(customer, str | dict):
        raise ValueError(f"{where}customer: must be the customer id")
    if etype.startswith("customer.subscription."):
        if obj.get("object") != "subscription":
            raise ValueError(f"{where}object: must be 'subscription' for {etype}")
        _need(obj, "status", str, where)
        items = _need(obj, "items", dict, where)
        lines = _need(items, "data", list, f"{where}items.")
        for i, item in enumerate(lines):
            at = f"{where}items.data[{i}]."
            if not isinstance(item, dict):
                raise ValueError(f"{at[:-1]}: must be an object")
            _need(item, "id", str, at)
            price = item.get("price") or item.get("plan")
            if not isinstance(price, dict):
                raise ValueError(f"{at}price: must be an object")
    else:
        if obj.get("object") != "invoice":
            raise ValueError(f"{where}object: must be 'invoice' for {etype}")
        _need(obj, "currency", str, where)
        if not isinstance(obj.get("amount_due"), int):
            raise ValueError(f"{where}amount_due: must be an integer (the smallest currency unit)")
    return event


def _day(ts: Any) -> date | None:
    return datetime.fromtimestamp(ts, UTC).date() if isinstance(ts, int | float) else None


def event_day(event: dict[str, Any]) -> date:
    """The day a subscription event takes effect on."""
    obj = event["data"]["object"]
    created = _day(event["created"])
    assert created is not None
    if event["type"] == "customer.subscription.created":
        return _day(obj.get("start_date")) or _day(obj.get("created")) or created
    if event["type"] == "customer.subscription.deleted" or obj.get("status") in _ENDED:
        return _day(obj.get("ended_at")) or _day(obj.get("canceled_at")) or created
    return created


def _major(amount: Decimal, currency: str) -> Decimal:
    return amount if currency.lower() in _ZERO_DECIMAL else amount / 100


@dataclass(frozen=True)
class Terms:
    """A subscription line's terms, as one contract row holds them."""

    item_id: str
    product: str
    plan: str | None
    mrr: Decimal
    quantity: Decimal | None
    currency: str | None
    contract_end_date: date | None

    def same_terms(self, other: Terms) -> bool:
        """Equal in what makes a new row: a renewal date moving is not a change of terms."""
        return (self.product, self.plan, self.mrr, self.quantity, self.currency) == (
            other.product,
            other.plan,
            other.mrr,
            other.quantity,
            other.currency,
        )


_MONTHS = {
    "month": Decimal(1),
    "year": Decimal(12),
    "week": Decimal(12) / 52,
    "day": Decimal(12) / 365,
}


def _monthly(price: dict[str, Any], quantity: Decimal) -> Decimal:
    recurring = price.get("recurring") or {}
    interval = recurring.get("interval") or price.get("interval") or "month"
    count = Decimal(recurring.get("interval_count") or price.get("interval_count") or 1)
    unit = price.get("unit_amount_decimal") or price.get("unit_amount") or price.get("amount")
    if unit is None or interval not in _MONTHS:
        return Decimal(0)  # tiered or metered prices: no fixed recurring amount to count
    currency = str(price.get("currency") or "usd")
    return (_major(Decimal(str(unit)), currency) * quantity / (_MONTHS[interval] * count)).quantize(
        Decimal("0.000001")
    )


def subscription_terms(event: dict[str, Any]) -> list[Terms]:
    """The terms of each line of the subscription after ``event`` (none once it ended)."""
    obj = event["data"]["object"]
    status = obj.get("status")
    if event["type"] == "customer.subscription.deleted" or status in _ENDED + _NOT_STARTED:
        return []
    out = []
    for item in obj["items"]["data"]:
        price = item.get("price") or item.get("plan") or {}
        quantity = Decimal(str(item.get("quantity") if item.get("quantity") is not None else 1))
        product = price.get("product")
        if isinstance(product, dict):
            product = product.get("name") or product.get("id")
        mrr = Decimal(0) if status == "trialing" else _monthly(price, quantity)
        period_end = item.get("current_period_end") or obj.get("current_period_end")
        currency = price.get("currency")
        out.append(
            Terms(
                item_id=item["id"],
                product=str(product or price.get("id") or "subscription"),
                plan=price.get("nickname") or price.get("lookup_key") or price.get("id"),
                mrr=mrr,
                quantity=quantity,
                currency=str(currency).upper() if currency else None,
                contract_end_date=_day(period_end),
            )
        )
    return out


def payment_row(event: dict[str, Any], account_id: str) -> dict[str, Any]:
    """The ``payments`` row of an ``invoice.payment_failed`` event."""
    inv = event["data"]["object"]
    due = _day(inv.get("due_date")) or _day(inv.get("created")) or _day(event["created"])
    return {
        "account_id": account_id,
        "due_date": due,
        "amount": _major(Decimal(inv["amount_due"]), inv["currency"]),
        "status": "failed",
        "paid_at": None,
    }


def account_hint(event: dict[str, Any]) -> str | None:
    """The Helix account the event's object names in its metadata, if any (an invoice
    carries its subscription's metadata in ``subscription_details``)."""
    obj = event["data"]["object"]
    customer = obj.get("customer")
    details = obj.get("subscription_details") or (obj.get("parent") or {}).get(
        "subscription_details"
    )
    for meta in (
        obj.get("metadata"),
        customer.get("metadata") if isinstance(customer, dict) else None,
        details.get("metadata") if isinstance(details, dict) else None,
    ):
        if isinstance(meta, dict):
            for key in ("helix_account_id", "account_id"):
                value = meta.get(key)
                if isinstance(value, str) and value:
                    return value
    return None


def customer_id(event: dict[str, Any]) -> str:
    """The Stripe customer of the event's object."""
    customer = event["data"]["object"]["customer"]
    return str(customer["id"] if isinstance(customer, dict) else customer)


def next_day(d: date) -> date:
    return d + timedelta(days=1)
