"""Hypothesis strategies and a seeded generator of random subscription histories.

Histories mix every feature the rules distinguish: several product lines,
consecutive rows (a change ends one row and starts the next, often on the
same day), gaps (churn and return), free rows, missing quantities, plans,
prices per seat, changes on the first of a month, sub-cent amounts, and
churn_reasons / payments near the ends.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

DAY0 = date(2023, 1, 1)
HORIZON = 800  # days of history
PRODUCTS = ("core", "addon", "api")
PLANS = ("basic", "pro", None)
UNIT_PRICES = (Decimal("10"), Decimal("12.5"), Decimal("3.333333"))
MONTH_STARTS = [(date(2023 + (m // 12), m % 12 + 1, 1) - DAY0).days for m in range(0, 26)]


def _day(offset: int) -> date:
    return DAY0 + timedelta(days=offset)


def _amount(rng: Any, unit: Decimal, qty: int | None) -> tuple[Decimal, Decimal | None]:
    kind = rng.randint(0, 5)
    if kind == 0:
        return Decimal("0"), None  # a free row
    if qty is not None and kind <= 3:
        return unit * qty, Decimal(qty)
    cents = rng.choice([1000, 2500, 9999, 3333, 5000, 12345, 1])
    return Decimal(cents) / 100 + Decimal(rng.choice([0, 0, 0, "0.005", "0.000001"])), (
        None if qty is None else Decimal(qty)
    )


def random_history(rng: Any, accounts: int) -> dict[str, list[dict[str, Any]]]:
    """Rows for ``accounts`` accounts drawn with ``rng`` (a ``random.Random`` or Hypothesis'
    ``st.randoms()``): subscriptions, churn_reasons and payments."""
    subs: list[dict[str, Any]] = []
    reasons: list[dict[str, Any]] = []
    payments: list[dict[str, Any]] = []
    n = 0
    for a in range(accounts):
        account = f"acc{a:04d}"
        last_end: date | None = None
        for product in PRODUCTS[: rng.randint(1, 3)]:
            t = rng.choice([rng.randint(0, HORIZON - 100), rng.choice(MONTH_STARTS)])
            plan = rng.choice(PLANS)
            unit = rng.choice(UNIT_PRICES)
            qty: int | None = rng.choice([None, 5, 10, 20])
            for _ in range(rng.randint(1, 4)):
                length = rng.choice([rng.randint(1, 400), 31, 365])
                ongoing = rng.random() < 0.3
                change = rng.randint(0, 3)
                if change == 1 and qty is not None:
                    qty = max(1, qty + rng.choice([-5, 5, 10]))
                elif change == 2:
                    plan = rng.choice(PLANS)
                elif change == 3:
                    unit = rng.choice(UNIT_PRICES)
                mrr, quantity = _amount(rng, unit, qty)
                end = None if ongoing else _day(t + length)
                n += 1
                subs.append(
                    {
                        "subscription_id": f"r{n:06d}",
                        "account_id": account,
                        "product": product,
                        "plan": plan,
                        "start_date": _day(t),
                        "end_date": end,
                        "mrr": mrr,
                        "quantity": quantity,
                    }
                )
                if end is None:
                    break
                last_end = end if last_end is None or end > last_end else last_end
                t = t + length + rng.choice([0, 0, 0, 1, 20, 90])
        if last_end is not None and rng.random() < 0.5:
            if rng.random() < 0.5:
                shift = rng.randint(-100, 100)
                kind = rng.choice(["voluntary", "involuntary"])
                reasons.append(
                    {
                        "account_id": account,
                        "churned_on": last_end + timedelta(days=shift),
                        "churn_type": kind,
                        "reason": None,
                    }
                )
            for _ in range(rng.randint(0, 3)):
                payments.append(
                    {
                        "account_id": account,
                        "due_date": last_end - timedelta(days=rng.randint(-10, 120)),
                        "amount": Decimal("10"),
                        "status": rng.choice(["paid", "failed", "refunded"]),
                    }
                )
    # keys of churn_reasons are (account_id, churned_on): keep one per day
    seen: set[tuple[str, date]] = set()
    unique = []
    for r in reasons:
        if (r["account_id"], r["churned_on"]) not in seen:
            seen.add((r["account_id"], r["churned_on"]))
            unique.append(r)
    return {"subscriptions": subs, "churn_reasons": unique, "payments": payments}


@st.composite
def histories(draw: st.DrawFn, max_accounts: int = 6) -> dict[str, list[dict[str, Any]]]:
    """A random history of 1..``max_accounts`` accounts."""
    rng = draw(st.randoms(use_true_random=False))
    return random_history(rng, draw(st.integers(1, max_accounts)))


@st.composite
def windows(draw: st.DrawFn) -> tuple[date, date]:
    """A window inside (or around) the history, sometimes aligned on month starts."""
    if draw(st.booleans()):
        i = draw(st.integers(0, len(MONTH_STARTS) - 2))
        j = draw(st.integers(i + 1, len(MONTH_STARTS) - 1))
        return _day(MONTH_STARTS[i]), _day(MONTH_STARTS[j])
    start = draw(st.integers(-30, HORIZON))
    return _day(start), _day(start + draw(st.integers(1, 400)))


def seeded_history(seed: int, accounts: int) -> dict[str, list[dict[str, Any]]]:
    """The same kind of history from a plain seeded ``random.Random``."""
    return random_history(random.Random(seed), accounts)
