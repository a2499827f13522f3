"""Hand-computed fixtures: one account per movement type and edge case, window February 2024.

Every expected figure below was worked out by hand from the rows in
``_book`` with the rules of docs/metrics.md (MRR measured at the instants
2024-02-01 and 2024-03-01, rounded to the cent).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from helix.metrics import retention_window, window_ledger
from helix.warehouse import Warehouse

from .helpers import load, payment, reason, sub

D = date
S, E = D(2024, 2, 1), D(2024, 3, 1)
OLD = D(2023, 1, 1)


def _book() -> tuple[list, list, list]:
    subs = [
        # new: first subscription starts inside the window
        sub("new", D(2024, 2, 10), None, 100),
        # reactivation: active in 2023, back inside the window
        sub("react", D(2023, 3, 1), D(2023, 9, 1), 80),
        sub("react", D(2024, 2, 15), None, 60),
        # churns of every kind
        sub("vol", OLD, D(2024, 2, 20), 200),
        sub("invpay", OLD, D(2024, 2, 25), 150),
        sub("invrec", OLD, D(2024, 2, 10), 120),
        sub("unk", OLD, D(2024, 2, 12), 90),
        sub("retry", OLD, D(2024, 2, 28), 70),
        # expansion by type
        sub("seats", OLD, D(2024, 2, 10), 100, qty=10),
        sub("seats", D(2024, 2, 10), None, 150, qty=15),
        sub("tier", OLD, D(2024, 2, 5), 100, plan="basic"),
        sub("tier", D(2024, 2, 5), None, 180, plan="pro"),
        sub("xsell", OLD, None, 100),
        sub("xsell", D(2024, 2, 20), None, 40, product="addon"),
        sub("price", OLD, D(2024, 2, 15), 100, qty=10),
        sub("price", D(2024, 2, 15), None, 110, qty=10),
        sub("seatsprice", OLD, D(2024, 2, 15), 100, qty=10),
        sub("seatsprice", D(2024, 2, 15), None, 180, qty=20),
        # contraction by type
        sub("cseats", OLD, D(2024, 2, 15), 200, qty=20),
        sub("cseats", D(2024, 2, 15), None, 150, qty=15),
        sub("ctier", OLD, D(2024, 2, 14), 300, plan="pro"),
        sub("ctier", D(2024, 2, 14), None, 200, plan="basic"),
        sub("cdrop", OLD, None, 100),
        sub("cdrop", OLD, D(2024, 2, 20), 50, product="addon"),
        sub("cprice", OLD, D(2024, 2, 9), 100),
        sub("cprice", D(2024, 2, 9), None, 90),
        # same-day changes: core changes price on the 10th, add-on row is re-issued that day
        sub("sameday", D(2023, 6, 1), D(2024, 2, 10), 100),
        sub("sameday", D(2024, 2, 10), None, 120),
        sub("sameday", D(2023, 6, 1), D(2024, 2, 10), 30, product="addon"),
        sub("sameday", D(2024, 2, 10), None, 30, product="addon"),
        # mid-month change undone within the month: no movement
        sub("blip", OLD, D(2024, 2, 5), 100),
        sub("blip", D(2024, 2, 5), D(2024, 2, 20), 300),
        sub("blip", D(2024, 2, 20), None, 100),
        # starts and stops inside the window: invisible at both instants
        sub("inout", D(2024, 2, 5), D(2024, 2, 25), 500),
        # change effective on the window's first day belongs to January
        sub("onstart", OLD, S, 100),
        sub("onstart", S, None, 130),
        # change effective on the window's end date is in force at the end instant
        sub("onend", OLD, E, 100),
        sub("onend", E, None, 160),
        # a free row never makes an account active
        sub("free", OLD, None, 0),
        # mixed: tier up on core (+100), seats down on the add-on (-30): net +70, driver tier
        sub("mixed", OLD, D(2024, 2, 8), 100, plan="basic"),
        sub("mixed", D(2024, 2, 8), None, 200, plan="pro"),
        sub("mixed", OLD, D(2024, 2, 8), 100, product="addon", qty=10),
        sub("mixed", D(2024, 2, 8), None, 70, product="addon", qty=7),
        # churned and back inside the window at a lower price: contraction, not churn
        sub("churnback", OLD, D(2024, 2, 5), 100),
        sub("churnback", D(2024, 2, 20), None, 80),
    ]
    reasons = [
        reason("vol", D(2024, 3, 1), "voluntary"),
        reason("invrec", D(2024, 1, 30), "involuntary"),
        reason("unk", D(2023, 6, 1), "voluntary"),  # too far from the churn to explain it
    ]
    payments = [
        payment("invpay", D(2023, 12, 25), "paid"),
        payment("invpay", D(2024, 1, 25), "failed"),
        payment("retry", D(2024, 1, 28), "failed"),
        payment("retry", D(2024, 2, 3), "paid"),  # the retry succeeded: not involuntary
    ]
    return subs, reasons, payments


# account: (movement, type, start MRR, end MRR), all by hand
EXPECTED = {
    "new": ("new", None, "0", "100"),
    "react": ("reactivation", None, "0", "60"),
    "vol": ("churn", "voluntary", "200", "0"),
    "invpay": ("churn", "involuntary", "150", "0"),
    "invrec": ("churn", "involuntary", "120", "0"),
    "unk": ("churn", "unknown", "90", "0"),
    "retry": ("churn", "unknown", "70", "0"),
    "seats": ("expansion", "seats", "100", "150"),
    "tier": ("expansion", "tier", "100", "180"),
    "xsell": ("expansion", "cross_sell", "100", "140"),
    "price": ("expansion", "usage_price", "100", "110"),
    "seatsprice": ("expansion", "usage_price", "100", "180"),
    "cseats": ("contraction", "seats", "200", "150"),
    "ctier": ("contraction", "tier", "300", "200"),
    "cdrop": ("contraction", "product_dropped", "150", "100"),
    "cprice": ("contraction", "usage_price", "100", "90"),
    "sameday": ("expansion", "usage_price", "130", "150"),
    "blip": ("none", None, "100", "100"),
    "onstart": ("none", None, "130", "130"),
    "onend": ("expansion", "usage_price", "100", "160"),
    "mixed": ("expansion", "tier", "200", "270"),
    "churnback": ("contraction", "usage_price", "100", "80"),
}


@pytest.fixture
def book(wh: Warehouse) -> Warehouse:
    subs, reasons, payments = _book()
    load(wh, subs, reasons=reasons, payments=payments)
    return wh


def test_every_account_moves_as_worked_out_by_hand(book: Warehouse) -> None:
    rows = {r["account_id"]: r for r in window_ledger(book, S, E)}
    assert set(rows) == set(EXPECTED), "inout and free are never active at an instant"
    for account, (movement, kind, start, end) in EXPECTED.items():
        r = rows[account]
        assert (r["movement"], r["movement_type"]) == (movement, kind), account
        assert r["start_mrr"] == Decimal(start), account
        assert r["end_mrr"] == Decimal(end), account
        moved = r["new_mrr"] + r["reactivation_mrr"] + r["expansion_mrr"]
        moved -= r["contraction_mrr"] + r["churned_mrr"]
        assert r["start_mrr"] + moved == r["end_mrr"], account


def test_window_totals_by_hand(book: Warehouse) -> None:
    w = retention_window(book, S, E)
    # 20 accounts active on 1 Feb: everyone but new, react, inout and free
    assert w.accounts_start == 20
    assert w.accounts_churned == 5
    # 200+150+120+90+70 + 5*100 + 200+300+150+100 + 130+100+130+100+200+100
    assert w.start_mrr == Decimal("2640.00")
    assert w.churned_mrr == Decimal("630.00")
    assert w.contraction_mrr == Decimal("230.00")  # 50 + 100 + 50 + 10 + 20
    assert w.expansion_mrr == Decimal("410.00")  # 50 + 80 + 40 + 10 + 80 + 20 + 60 + 70
    assert w.end_mrr == Decimal("2190.00")  # 2640 - 630 - 230 + 410
    assert w.new_mrr == Decimal("160.00")
    assert (w.new_logo_mrr, w.reactivation_mrr) == (Decimal("100.00"), Decimal("60.00"))
    assert w.churn_by_type == {
        "voluntary": Decimal("200.00"),
        "involuntary": Decimal("270.00"),
        "unknown": Decimal("160.00"),
        "downgrade": Decimal("230.00"),
    }
    assert w.expansion_by_type == {
        "seats": Decimal("50.00"),
        "tier": Decimal("150.00"),
        "cross_sell": Decimal("40.00"),
        "usage_price": Decimal("170.00"),
    }
    assert w.contraction_by_type == {
        "seats": Decimal("50.00"),
        "tier": Decimal("100.00"),
        "product_dropped": Decimal("50.00"),
        "usage_price": Decimal("30.00"),
    }
    assert w.grr == pytest.approx(1780 / 2640, rel=1e-15)
    assert w.nrr == pytest.approx(2190 / 2640, rel=1e-15)
    assert w.logo_retention == pytest.approx(15 / 20, rel=1e-15)
    assert w.logo_churn_rate == pytest.approx(5 / 20, rel=1e-15)


def test_change_on_the_first_of_the_month_belongs_to_the_previous_month(book: Warehouse) -> None:
    rows = {r["account_id"]: r for r in window_ledger(book, D(2024, 1, 1), S)}
    assert rows["onstart"]["movement"] == "expansion"
    assert rows["onstart"]["expansion_mrr"] == Decimal("30.00")
    assert rows["onend"]["movement"] == "none"


def test_zero_start_mrr_gives_no_rates(book: Warehouse) -> None:
    w = retention_window(book, D(2022, 1, 1), D(2023, 2, 1))
    assert w.accounts_start == 0 and w.start_mrr == 0
    assert w.grr is None and w.nrr is None and w.logo_retention is None
    # everyone active on 2023-02-01 is new in this window
    assert w.new_mrr > 0 and w.end_mrr == 0


def test_sub_cent_amounts_round_half_up_per_account(wh: Warehouse) -> None:
    subs = [sub(f"a{i}", OLD, None, "33.335") for i in range(3)]
    subs += [sub("b", OLD, None, "0.004")]  # active (MRR > 0) but rounds to 0.00
    subs += [sub("b", D(2023, 6, 1), None, "10.001", product="addon")]
    load(wh, subs)
    w = retention_window(wh, D(2023, 2, 1), D(2023, 7, 1))
    assert w.accounts_start == 4
    assert w.start_mrr == Decimal("100.02")  # 3 x 33.34 + 0.00
    assert w.expansion_mrr == Decimal("10.01")  # b: 0.00 -> 10.01 (0.004 + 10.001 = 10.005)
    assert w.end_mrr == w.start_mrr - w.churned_mrr - w.contraction_mrr + w.expansion_mrr


def test_splitting_a_subscription_into_rows_changes_nothing(wh: Warehouse) -> None:
    whole = [sub("a", OLD, None, 100, qty=10), sub("a", D(2024, 2, 10), None, 50, product="x")]
    pieces = [
        sub("a", OLD, D(2023, 7, 19), 100, qty=10),
        sub("a", D(2023, 7, 19), D(2024, 2, 1), 100, qty=10),
        sub("a", D(2024, 2, 1), D(2024, 2, 2), 100, qty=10),
        sub("a", D(2024, 2, 2), None, 100, qty=10),
        sub("a", D(2024, 2, 10), D(2024, 2, 11), 50, product="x"),
        sub("a", D(2024, 2, 11), None, 50, product="x"),
    ]
    load(wh, whole)
    first = window_ledger(wh, S, E)
    load(wh, pieces)
    assert window_ledger(wh, S, E) == first
    assert first[0]["movement_type"] == "cross_sell"


def test_large_amounts_and_seat_counts_compare_exactly(wh: Warehouse) -> None:
    """a * q overflows 18 digits here: the same-price-per-seat test must still be exact."""
    load(
        wh,
        [
            sub("big", OLD, D(2024, 2, 10), "10533.56", qty=205),
            sub("big", D(2024, 2, 10), None, "21067.12", qty=410),
            sub("huge", OLD, D(2024, 2, 10), "9999999999.99", qty=1_000_000),
            sub("huge", D(2024, 2, 10), None, "19999999999.98", qty=2_000_000),
            sub("near", OLD, D(2024, 2, 10), "10533.56", qty=205),
            sub("near", D(2024, 2, 10), None, "21067.13", qty=410),  # a cent off: not seats
        ],
    )
    rows = {r["account_id"]: r["movement_type"] for r in window_ledger(wh, S, E)}
    assert rows == {"big": "seats", "huge": "seats", "near": "usage_price"}
