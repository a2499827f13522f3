"""A hand-built company whose churns have known warnings, lead times and patterns.

Each account is one case of the forensics rules; the expected figures below were
worked out by hand from the rows (date differences computed with ``datetime``),
not by running the code under test.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from helix.metrics.loading import load_rows
from helix.pipeline import run_pipeline
from helix.warehouse import Warehouse

AS_OF = date(2025, 9, 1)
CSM = "csm@x.io"
OTHER = "other@x.io"

# account: (name, owner, [(start, end, mrr)])
ACCOUNTS: dict[str, tuple[str, str, list[tuple[date, date | None, int]]]] = {
    "LC": ("Lost Champion Co", CSM, [(date(2023, 1, 1), date(2025, 6, 1), 1000)]),
    "NA": ("Never Adopted Ltd", CSM, [(date(2024, 3, 1), date(2025, 7, 1), 500)]),
    "INV": ("Card Declined Inc", OTHER, [(date(2023, 6, 1), date(2025, 5, 20), 300)]),
    "CON": ("Consolidator plc", OTHER, [(date(2023, 1, 1), date(2025, 8, 1), 2000)]),
    "OUT": ("Outgrown GmbH", OTHER, [(date(2023, 1, 1), date(2025, 7, 15), 800)]),
    "UNK": ("Faded Away SA", OTHER, [(date(2023, 1, 1), date(2025, 8, 10), 700)]),
    "RE": (
        "Came Back Twice",
        OTHER,
        [(date(2023, 1, 1), date(2024, 3, 1), 400), (date(2024, 6, 1), date(2025, 3, 1), 400)],
    ),  # fmt: skip
    "LIVE": ("Still Here", CSM, [(date(2023, 1, 1), None, 5000)]),
}

CHURN = {a: subs[-1][1] for a, (_, _, subs) in ACCOUNTS.items() if subs[-1][1] is not None}

PERIOD = (date(2024, 9, 1), date(2025, 9, 1))
"""A summary period holding every latest churn (RE's first churn, 2024-03-01, is before it)."""

EXPECTED_PATTERN = {
    "LC": "lost_champion",
    "NA": "never_adopted",
    "INV": "involuntary",
    "CON": "consolidated",
    "OUT": "outgrew",
    "UNK": "unknown",
    "RE": "unknown",
}

# (warning, visible_from, first_seen) per account; every other warning is off and unseen
EXPECTED_WARNINGS: dict[str, dict[str, tuple[date | None, date]]] = {
    "LC": {
        "champion_left": (date(2025, 1, 11), date(2025, 1, 11)),
        "health_red": (date(2025, 4, 1), date(2025, 2, 1)),  # red, green, then red to the end
    },
    "NA": {
        "onboarding_stalled": (date(2024, 11, 1), date(2024, 9, 1)),  # on, off, on ...
        "low_seat_utilisation": (date(2024, 8, 1), date(2024, 8, 1)),
        "champion_left": (date(2025, 3, 1), date(2025, 3, 1)),
    },
    "INV": {"failed_payment": (date(2025, 4, 20), date(2025, 2, 1))},
    "OUT": {"urgent_ticket": (date(2025, 6, 15), date(2025, 6, 15))},
    "UNK": {"usage_down": (date(2025, 6, 1), date(2025, 6, 1))},
    "CON": {},
    "RE": {},
}


def lead(account: str, day: date | None) -> int | None:
    """Days from ``day`` to the account's churn."""
    return None if day is None else (CHURN[account] - day).days


def _months(first: date, before: date) -> list[date]:
    out, d = [], first
    while d < before:
        out.append(d)
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return out


def _signal_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(account: str, first: date, **per_day: Any) -> None:
        for d in _months(first, CHURN.get(account, AS_OF)):
            row = {"account_id": account, "score_date": d, "mrr": 1.0}
            for k, v in per_day.items():
                row[k] = v(d) if callable(v) else v
            rows.append(row)

    healthy = dict(value_reached=1.0, seat_utilisation=0.8, usage_trend_90=1.0)
    add("LC", date(2024, 7, 1), **healthy)
    add(
        "NA",
        date(2024, 8, 1),
        value_reached=0.0,
        seat_utilisation=0.2,
        usage_trend_90=1.0,
        onboarding_stalled=lambda d: 0.0 if d in (date(2024, 8, 1), date(2024, 10, 1)) else 1.0,
    )
    add("INV", date(2024, 7, 1), **healthy)
    add("CON", date(2024, 9, 1), **{**healthy, "seat_utilisation": 0.7})
    add("OUT", date(2024, 8, 1), **healthy)
    add(
        "UNK",
        date(2024, 9, 1),
        value_reached=1.0,
        seat_utilisation=0.7,
        usage_trend_90=lambda d: 0.5 if d >= date(2025, 6, 1) else 1.0,
    )
    add("LIVE", date(2024, 9, 1), value_reached=1.0, seat_utilisation=0.9, usage_trend_90=0.5)
    return rows


def _health_rows() -> list[dict[str, Any]]:
    colours = {date(2025, 2, 1): "red", date(2025, 4, 1): "red", date(2025, 5, 1): "red"}
    return [
        {"account_id": "LC", "score_date": d, "score": 30.0 if colours.get(d) else 80.0,
         "color": colours.get(d, "green")}
        for d in _months(date(2024, 7, 1), CHURN["LC"])
    ]  # fmt: skip


def build_world(wh: Warehouse) -> None:
    """Write the company into ``wh`` (tables created) and build its MRR ledger."""
    load_rows(wh, "accounts", [
        {"account_id": a, "name": n, "owner_email": o} for a, (n, o, _) in ACCOUNTS.items()
    ])  # fmt: skip
    load_rows(wh, "subscriptions", [
        {"subscription_id": f"{a}-{i}", "account_id": a, "product": "core", "start_date": s,
         "end_date": e, "mrr": m, "quantity": 10}
        for a, (_, _, subs) in ACCOUNTS.items() for i, (s, e, m) in enumerate(subs)
    ])  # fmt: skip
    load_rows(wh, "contacts", [
        {"contact_id": "c1", "account_id": "LC", "name": "Ann Lee", "role": "champion",
         "title": "VP Ops", "started_at": date(2023, 1, 1), "ended_at": date(2025, 1, 11)},
        # left more than a year before the churn: outside the window
        {"contact_id": "c2", "account_id": "LC", "name": "Old Champ", "role": "champion",
         "started_at": date(2023, 1, 1), "ended_at": date(2024, 3, 1)},
        {"contact_id": "c3", "account_id": "LC", "name": "Bob Day", "role": "user",
         "started_at": date(2024, 9, 1)},
        # never adopted AND lost a champion: the earlier rule (never adopted) wins
        {"contact_id": "c5", "account_id": "NA", "name": "Nia Obi", "role": "champion",
         "started_at": date(2024, 3, 1), "ended_at": date(2025, 3, 1)},
        # left on the churn day itself: not a warning before it
        {"contact_id": "c4", "account_id": "CON", "name": "Cy Fox", "role": "champion",
         "started_at": date(2023, 1, 1), "ended_at": date(2025, 8, 1)},
    ])  # fmt: skip
    load_rows(wh, "payments", [
        {"account_id": "INV", "due_date": d, "amount": 300, "status": s}
        for d, s in [
            (date(2025, 1, 1), "paid"),
            (date(2025, 2, 1), "failed"),
            (date(2025, 2, 1), "paid"),  # the retry the same day went through
            (date(2025, 3, 1), "failed"),
            (date(2025, 4, 1), "failed"),
            (date(2025, 4, 1), "paid"),  # paid the same day: the failure is resolved
            (date(2025, 4, 20), "failed"),
            (date(2025, 5, 1), "failed"),
        ]
    ])  # fmt: skip
    load_rows(wh, "tickets", [
        {"ticket_id": "t1", "account_id": "OUT", "created_at": datetime(2025, 6, 15, 9),
         "priority": "urgent", "subject": "Export broken"},
        {"ticket_id": "t2", "account_id": "OUT", "created_at": datetime(2025, 7, 15, 9),
         "priority": "urgent", "subject": "On the churn day"},
        {"ticket_id": "t3", "account_id": "OUT", "created_at": datetime(2024, 7, 10, 9),
         "priority": "urgent", "subject": "Before the window"},
        {"ticket_id": "t4", "account_id": "OUT", "created_at": datetime(2025, 3, 3, 9),
         "priority": "normal", "subject": "Routine question"},
    ])  # fmt: skip
    load_rows(wh, "churn_reasons", [
        {"account_id": "LC", "churned_on": date(2025, 6, 1), "churn_type": "voluntary",
         "reason": "Our champion left"},
        {"account_id": "NA", "churned_on": date(2025, 7, 3), "churn_type": "voluntary",
         "reason": "Budget cuts"},
        {"account_id": "CON", "churned_on": date(2025, 7, 28), "churn_type": "voluntary",
         "reason": "Consolidating vendors after a budget review"},
        {"account_id": "OUT", "churned_on": date(2025, 7, 15), "churn_type": "voluntary",
         "reason": "Switched to a competitor with more features"},
        {"account_id": "UNK", "churned_on": date(2025, 8, 10), "churn_type": "voluntary",
         "reason": "Consolidated onto another platform"},
    ])  # fmt: skip
    load_rows(wh, "account_signals", _signal_rows())
    load_rows(wh, "health_scores", _health_rows())
    run_pipeline(wh, as_of=AS_OF, only=["mrr_movements"])


def base_rate(rows: list[dict[str, Any]], cond: Any, start: date, end: date) -> float:
    """Share of signal rows in ``[start, end)`` for which ``cond(row)`` holds (reference)."""
    inside = [r for r in rows if start <= r["score_date"] < end]
    return sum(1 for r in inside if cond(r)) / len(inside)


def signal_rows() -> list[dict[str, Any]]:
    """The signal rows :func:`build_world` writes (for reference computations)."""
    return _signal_rows()


ONE_DAY = timedelta(days=1)
