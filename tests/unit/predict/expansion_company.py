"""A hand-built company whose expansion leads are known in advance (as of :data:`DAY`).

Event types, products and plans have deliberately odd names: the detection must
not rely on any. Every account below exists to make one lead appear or not:

| account | facts (30 days before DAY unless said) | lead |
|---|---|---|
| SEAT92 | 46 of 50 seats active | seats_near_limit, 0.92 |
| SEAT80 | 80 of 100 seats active | seats_near_limit, exactly at 0.8 |
| SEAT79 | 79 of 100 seats active | none |
| USE85 | 1,700 of 2 x 1,000 `Zeta Credits` units on `sync.run` | usage_near_limit (with LIMITS) |
| USE75 | 1,500 of the same allowance | none |
| ADOPT_UP | on plan `p-one`, 2 types new (+1 used before) | adoption_spreading -> tier (`p-two`) |
| ADOPT_X | on top plan `p-two`, 3 new types, no `Zeta Credits` | adoption_spreading -> cross_sell |
| ADOPT_ALL | on `p-two` with every product, 2 types new | adoption_spreading -> seats |
| ADOPT_ONE | 1 type new; share-it again, last used 200 days before | none (threshold 2) |
| ADOPT_YOUNG | 3 types new but 40 days old | none (still onboarding) |
| ADOPT_REC | 2 new, one of which the product only began recording this month | none |
| PRED | expansion probability 0.7 (injected) | predicted_expansion -> seats (ledger) |
| PRED_LOW | expansion probability 0.3; churn probability 0.9 | none |
| PRED_OLD | expansion probability 0.9, but scored 30 days before DAY | none |
| GROW | grew from 10 to 20 seats in December 2024 (the ledger's one expansion) | none |
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from helix.predict.expansion_config import ExpansionConfig, UsageLimit
from helix.warehouse import Warehouse
from helix.warehouse.schema import PREDICTIONS

from ..ingest.conftest import write_csv

DAY = date(2025, 6, 1)
START = date(2024, 6, 1)
CSM = "csm@x.io"
OTHER = "other@x.io"

LIMITS = ExpansionConfig(
    usage_limits=(
        UsageLimit(
            product="Zeta Credits",
            event_type="sync.run",
            units_per_quantity=1000.0,
            measure="value",
        ),
    )
)

EXPECTED = {
    ("SEAT92", "seats_near_limit"): "seats",
    ("SEAT80", "seats_near_limit"): "seats",
    ("ADOPT_UP", "adoption_spreading"): "tier",
    ("ADOPT_X", "adoption_spreading"): "cross_sell",
    ("ADOPT_ALL", "adoption_spreading"): "seats",
    ("PRED", "predicted_expansion"): "seats",
}
"""Leads with the default settings: (account, signal) -> suggested motion."""
EXPECTED_WITH_LIMITS = {**EXPECTED, ("USE85", "usage_near_limit"): "usage"}

# account -> (seats, plan, extra product rows, active users in the window)
_ACCOUNTS: dict[str, tuple[int, str, bool, int]] = {
    "SEAT92": (50, "p-one", False, 46),
    "SEAT80": (100, "p-one", False, 80),
    "SEAT79": (100, "p-one", False, 79),
    "USE85": (40, "p-two", True, 5),
    "USE75": (40, "p-two", True, 5),
    "ADOPT_UP": (40, "p-one", False, 3),
    "ADOPT_X": (40, "p-two", False, 3),
    "ADOPT_ALL": (40, "p-two", True, 3),
    "ADOPT_ONE": (40, "p-one", False, 3),
    "ADOPT_YOUNG": (40, "p-one", False, 3),
    "ADOPT_REC": (40, "p-one", False, 3),
    "PRED": (40, "p-one", False, 3),
    "PRED_LOW": (40, "p-one", False, 3),
    "PRED_OLD": (40, "p-one", False, 3),
    "GROW": (20, "p-one", False, 3),
}
_PRICE = {"p-one": 10, "p-two": 25}  # per seat: p-two is the higher plan


def _ts(d: date, hour: int = 10) -> str:
    return datetime(d.year, d.month, d.day, hour).isoformat()


def write_company(directory: Path) -> Path:
    """Write the contract files of the company into ``directory``; return it."""
    accounts, subs, events = [], [], []
    for acc, (seats, plan, extra, users) in _ACCOUNTS.items():
        owner = CSM if acc.startswith(("SEAT", "ADOPT_UP")) else OTHER
        accounts.append([acc, f"{acc.title()} Ltd", owner])
        start = date(2025, 4, 22) if acc == "ADOPT_YOUNG" else START
        if acc == "GROW":
            subs.append([f"{acc}-1", acc, "Core Thing", plan, start, "2024-12-01", 10 * 10, 10])
            subs.append([f"{acc}-2", acc, "Core Thing", plan, "2024-12-01", None, 10 * 20, 20])
        else:
            subs.append(
                [f"{acc}-1", acc, "Core Thing", plan, start, None, _PRICE[plan] * seats, seats]
            )
        if extra:
            subs.append([f"{acc}-z", acc, "Zeta Credits", None, start, None, 200, 2])
        # steady use of one type, before and inside the window, by ``users`` users
        since = max(start, DAY - timedelta(days=120))
        for i in range(0, (DAY - since).days, 5):
            events.append([acc, _ts(since + timedelta(days=i)), "Open Screen", f"{acc}-u0", 1])
        for u in range(users):
            events.append([acc, _ts(DAY - timedelta(days=3), 9), "Open Screen", f"{acc}-u{u}", 1])
    new_types = {
        "ADOPT_UP": ["kpi/Build", "Ω export"],
        "ADOPT_X": ["kpi/Build", "Ω export", "share-it"],
        "ADOPT_ALL": ["kpi/Build", "share-it"],
        "ADOPT_ONE": ["kpi/Build", "share-it"],
        "ADOPT_YOUNG": ["kpi/Build", "Ω export", "share-it"],
        "ADOPT_REC": ["kpi/Build", "brand.new"],
    }
    for acc, types in new_types.items():
        for k, typ in enumerate(types):
            events.append([acc, _ts(DAY - timedelta(days=10 + k)), typ, f"{acc}-u1", 1])
    # ADOPT_ONE used share-it 200 days ago: inside the default look-back, so not new
    events.append(["ADOPT_ONE", _ts(DAY - timedelta(days=200)), "share-it", "ADOPT_ONE-u1", 1])
    # the types ADOPT_* adopt were used long before by others (not new to the product) ...
    for typ in ("kpi/Build", "Ω export", "share-it"):
        events.append(["GROW", _ts(DAY - timedelta(days=100)), typ, "GROW-u1", 1])
    # ... except brand.new, first recorded inside the window (an instrumentation change)
    for acc in ("USE85", "USE75"):
        amount = 1700 if acc == "USE85" else 1500
        for k in range(10):
            events.append(
                [acc, _ts(DAY - timedelta(days=2 + k)), "sync.run", f"{acc}-u1", amount / 10]
            )
        # usage before the window does not count
        events.append([acc, _ts(DAY - timedelta(days=40)), "sync.run", f"{acc}-u1", 5000])
    write_csv(directory / "accounts.csv", ["account_id", "name", "owner_email"], accounts)
    write_csv(
        directory / "subscriptions.csv",
        [
            "subscription_id",
            "account_id",
            "product",
            "plan",
            "start_date",
            "end_date",
            "mrr",
            "quantity",
        ],
        subs,
    )
    write_csv(
        directory / "events.csv",
        ["account_id", "event_time", "event_type", "user_id", "value"],
        events,
    )
    return directory


def add_predictions(wh: Warehouse, day: date = DAY) -> None:
    """Rows the expansion (and a churn) model would have written."""
    rows = [
        ("PRED", day, "expansion", 0.7),
        ("PRED_LOW", day, "expansion", 0.3),
        ("PRED_LOW", day, "churn", 0.9),
        ("PRED_OLD", day - timedelta(days=30), "expansion", 0.9),
    ]
    table = pa.Table.from_pylist(
        [
            {
                "account_id": a,
                "score_date": d,
                "target": t,
                "horizon_days": 90,
                "probability": p,
                "model_version": "test-model",
                "candidate": "logistic",
                "drivers": "[]",
                "computed_at": datetime(2025, 6, 1),
            }
            for a, d, t, p in rows
        ],
        schema=PREDICTIONS.ibis_schema().to_pyarrow(),
    )
    wh.append(PREDICTIONS.name, table)
