"""Builders for subscription histories used by the metrics tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from helix.metrics.loading import load_rows
from helix.warehouse import Warehouse

_ids = itertools.count(1)


def sub(
    account: str,
    start: date,
    end: date | None,
    mrr: float | int | str,
    *,
    product: str = "core",
    plan: str | None = "standard",
    qty: float | int | None = None,
    sid: str | None = None,
) -> dict[str, Any]:
    """One subscription row (``mrr`` and ``qty`` become exact decimals)."""
    return {
        "subscription_id": sid or f"s{next(_ids)}",
        "account_id": account,
        "product": product,
        "plan": plan,
        "start_date": start,
        "end_date": end,
        "mrr": Decimal(str(mrr)),
        "quantity": None if qty is None else Decimal(str(qty)),
    }


def reason(account: str, on: date, kind: str) -> dict[str, Any]:
    """A churn_reasons row."""
    return {"account_id": account, "churned_on": on, "churn_type": kind, "reason": None}


def payment(account: str, due: date, status: str, amount: float = 100) -> dict[str, Any]:
    """A payments row."""
    return {
        "account_id": account,
        "due_date": due,
        "amount": Decimal(str(amount)),
        "status": status,
    }


def load(
    wh: Warehouse,
    subs: Iterable[Mapping[str, Any]],
    *,
    reasons: Iterable[Mapping[str, Any]] = (),
    payments: Iterable[Mapping[str, Any]] = (),
    accounts: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Load subscriptions (and optional tables) into ``wh``; accounts are made for every id.

    ``accounts`` maps an account id to extra columns (``segment``, ``owner_email``).
    """
    subs = list(subs)
    extra = dict(accounts or {})
    ids = sorted({s["account_id"] for s in subs} | set(extra))
    load_rows(
        wh,
        "accounts",
        [{"account_id": a, "name": f"Account {a}", **extra.get(a, {})} for a in ids],
    )
    load_rows(wh, "subscriptions", subs)
    load_rows(wh, "churn_reasons", list(reasons))
    load_rows(wh, "payments", list(payments))
