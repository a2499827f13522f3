"""Subscriptions, payments and churn reasons, replayed per account from the monthly history.

A subscription row is a period of constant terms of one line (the core product, an
add-on, or the usage product): a renewal starts a new row on every line (new
``contract_end_date``), a mid-term change ends and restarts the lines whose terms
changed, a churn ends every line. Invoices follow the billing cadence; a mid-term
increase on annual or quarterly billing is invoiced pro rata at once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from helix.testing.demo import catalog as cat
from helix.testing.demo import history as hs
from helix.testing.demo import text_cs
from helix.testing.demo.calendar import Calendar, add_months, from_day, to_day
from helix.testing.demo.population import Accounts
from helix.testing.demo.tables.common import (
    Identity,
    dates,
    day_ms,
    local_time_ms,
    money,
    timestamps,
)

Line = tuple[str, str | None, int, int, str]  # product, plan, mrr cents, quantity, pricing


@dataclass
class _Out:
    subs: dict[str, list] = field(
        default_factory=lambda: {k: [] for k in ("id", "acct", "product", "plan", "start", "end",
                                                  "mrr", "qty", "cend", "term", "pricing")}
    )  # fmt: skip
    pays: dict[str, list] = field(
        default_factory=lambda: {k: [] for k in ("acct", "due", "cents", "status", "paid_day")}
    )
    churn: dict[str, list] = field(
        default_factory=lambda: {k: [] for k in ("acct", "day", "type", "reason")}
    )


def terms(seats: int, tier: int, addons: int, api: int, discount: float) -> dict[str, Line]:
    """The lines an account pays for under these terms, keyed by line."""
    plan = cat.TIERS[tier]
    core = seats * cat.SEAT_PRICE[tier] * (1.0 - discount) + cat.PLATFORM_FEE[tier]
    lines: dict[str, Line] = {
        "core": (cat.CORE_PRODUCT, plan, round(core * 100), seats, "per_seat")
    }
    for bit, name in enumerate(cat.ADDONS):
        if not addons >> bit & 1:
            continue
        per_seat = cat.ADDON_PER_SEAT[bit]
        if per_seat > 0:
            price = seats * per_seat * (1.0 - discount)
            lines[name] = (name, None, round(price * 100), seats, "per_seat")
        else:
            lines[name] = (name, None, round(cat.ADDON_FLAT[bit, tier] * 100), 1, "flat")
    if api > 0:
        lines["api"] = (
            cat.USAGE_PRODUCT,
            None,
            round(api * cat.API_BLOCK_PRICE * 100),
            api,
            "usage",
        )
    return lines


class _Account:
    """Replays one account's months into rows."""

    def __init__(
        self, out: _Out, i: int, acct_id: str, acc: Accounts, hist: hs.History, cal: Calendar
    ):
        self.out, self.i, self.acct_id, self.acc, self.hist, self.cal = (
            out,
            i,
            acct_id,
            acc,
            hist,
            cal,
        )
        self.open: dict[str, tuple[int, Line]] = {}
        self.seq = 0
        self.term = int(acc.term[i])
        self.every = int(acc.bill_every[i])
        self.anchor = 0
        self.k = 0
        self.cend = 0
        self.bill_anchor_m = 0

    def _terms(self, m: int) -> dict[str, Line]:
        h, i = self.hist, self.i
        return terms(int(h.seats[i, m]), int(h.tier[i, m]), int(h.addons[i, m]), int(h.api[i, m]),
                     float(self.acc.discount[i]))  # fmt: skip

    def _row(self, start: int, end: int | None, line: Line) -> None:
        self.seq += 1
        s = self.out.subs
        for key, value in (
            ("id", f"sub-{self.acct_id[5:]}-{self.seq:03d}"),
            ("acct", self.i),
            ("product", line[0]),
            ("plan", line[1]),
            ("start", start),
            ("end", end),
            ("mrr", line[2]),
            ("qty", line[3]),
            ("cend", self.cend),
            ("term", cat.TERM_NAMES[self.term]),
            ("pricing", line[4]),
        ):
            s[key].append(value)

    def _close(self, key: str, day: int) -> None:
        start, line = self.open.pop(key)
        if day > start:
            self._row(start, day, line)

    def _close_all(self, day: int) -> None:
        for key in list(self.open):
            self._close(key, day)

    def _new_term(self, day: int, m: int, restart: bool) -> None:
        if restart:
            self.anchor, self.k, self.bill_anchor_m = day, 0, m
        else:
            self.k += 1
        self.cend = to_day(add_months(from_day(self.anchor), self.term * (self.k + 1)))
        for key, line in self._terms(m).items():
            self.open[key] = (day, line)

    def _change(self, day: int, m: int, win: bool) -> None:
        new = self._terms(m)
        before = self.mrr_cents()
        for key in list(self.open):
            if new.get(key) != self.open[key][1]:
                self._close(key, day)
        for key, line in new.items():
            if key not in self.open:
                self.open[key] = (day, line)
        after = self.mrr_cents()
        if win and self.every > 1 and after > before:
            left = self.every - (m - self.bill_anchor_m) % self.every
            self._payment(day, (after - before) * left, hs.PAID, 0)

    def mrr_cents(self) -> int:
        """Sum of the MRR of the lines open now."""
        return sum(line[2] for _, line in self.open.values())

    def _pay_row(self, day: int, cents: int, status: str, paid_day: int) -> None:
        p = self.out.pays
        for key, value in (
            ("acct", self.i),
            ("due", day),
            ("cents", cents),
            ("status", status),
            ("paid_day", paid_day),
        ):
            p[key].append(value)

    def _payment(self, day: int, cents: int, outcome: int, delay: int) -> None:
        if outcome in (hs.PAID_AFTER_RETRY, hs.FAILED):
            self._pay_row(day, cents, "failed", -1)
        if outcome in (hs.PAID, hs.PAID_AFTER_RETRY) and day + delay < self.cal.end_day:
            self._pay_row(day, cents, "paid", day + delay)

    def _churn(self, day: int, m: int, r: random.Random) -> None:
        self._close_all(day)
        if m < self.cal.burn:
            return
        h, i, c = self.hist, self.i, self.out.churn
        kind = int(h.churn_kind[i, m])
        c["acct"].append(i)
        c["day"].append(day)
        c["type"].append("voluntary" if kind == hs.VOLUNTARY else "involuntary")
        c["reason"].append(text_cs.churn_reason(r, kind, int(h.churn_cause[i, m])))

    def replay(self, months: np.ndarray, r: random.Random) -> int:
        """Walk the months in which something happened; return the MRR (cents) at the end."""
        h, i, cal, acc = self.hist, self.i, self.cal, self.acc
        for m in months.tolist():
            start, win = int(cal.month_start[m]), m >= cal.burn
            if m == acc.sign_m[i]:
                self._new_term(int(acc.sign_day[i]), m, restart=True)
            if h.react_day[i, m] >= 0:
                self._new_term(start + int(h.react_day[i, m]), m, restart=True)
            pay, chg = int(h.pay_day[i, m]), max(int(h.renew_day[i, m]), int(h.chg_day[i, m]))
            if 0 <= pay < chg:
                self._payment(start + pay, self.mrr_cents() * self.every,
                              int(h.pay_outcome[i, m]), int(h.pay_delay[i, m]))  # fmt: skip
            if h.renew_day[i, m] >= 0:
                day = start + int(h.renew_day[i, m])
                self._close_all(day)
                self._new_term(day, m, restart=False)
            elif h.chg_day[i, m] >= 0:
                self._change(start + int(h.chg_day[i, m]), m, win)
            if pay >= 0 and pay >= chg:
                self._payment(start + pay, self.mrr_cents() * self.every,
                              int(h.pay_outcome[i, m]), int(h.pay_delay[i, m]))  # fmt: skip
            if h.churn_day[i, m] >= 0:
                self._churn(start + int(h.churn_day[i, m]), m, r)
        mrr = self.mrr_cents()
        for key in sorted(self.open):
            start, line = self.open.pop(key)
            self._row(start, None, line)
        return mrr


@dataclass
class Billing:
    """The chunk's billing tables and each account's MRR at the end (cents)."""

    subscriptions: pa.Table
    payments: pa.Table
    churn_reasons: pa.Table
    mrr_end: np.ndarray


def build_billing(
    rng: np.random.Generator, acc: Accounts, hist: hs.History, cal: Calendar, ident: Identity
) -> Billing:
    """Replay every account of the chunk into subscription, payment and churn rows."""
    out = _Out()
    busy = (hist.renew_day >= 0) | (hist.chg_day >= 0) | (hist.pay_day >= 0)
    busy |= (hist.churn_day >= 0) | (hist.react_day >= 0)
    busy[np.arange(acc.n), acc.sign_m] = True
    rows, cols = np.nonzero(busy)
    bounds = np.searchsorted(rows, np.arange(acc.n + 1))
    mrr_end = np.zeros(acc.n, dtype=np.int64)
    r = random.Random(int(rng.integers(1 << 62)))
    for i in range(acc.n):
        account = _Account(out, i, ident.ids[i], acc, hist, cal)
        mrr_end[i] = account.replay(cols[bounds[i] : bounds[i + 1]], r)
    subs = _subs_table(out, ident)
    return Billing(subs, _pay_table(rng, out, acc, ident), _churn_table(out, ident), mrr_end)


def _subs_table(out: _Out, ident: Identity) -> pa.Table:
    s = out.subs
    order = np.lexsort((np.arange(len(s["id"])), np.asarray(s["start"], dtype=np.int64),
                        np.asarray(s["acct"], dtype=np.int64)))  # fmt: skip
    s = {k: [v[j] for j in order.tolist()] for k, v in s.items()}
    acct = pa.array(np.asarray(s["acct"], dtype=np.int64))
    ends = np.array([e if e is not None else 0 for e in s["end"]], dtype=np.int64)
    has_end = np.array([e is not None for e in s["end"]], dtype=bool)
    return pa.table(
        {
            "subscription_id": pa.array(s["id"], type=pa.string()),
            "account_id": ident.id_array.take(acct),
            "product": pa.array(s["product"], type=pa.string()),
            "plan": pa.array(s["plan"], type=pa.string()),
            "start_date": dates(np.asarray(s["start"], dtype=np.int64)),
            "end_date": dates(ends, has_end),
            "mrr": money(np.asarray(s["mrr"], dtype=np.int64)),
            "quantity": pa.array(np.asarray(s["qty"], dtype=np.int64), type=pa.int64()),
            "currency": pa.array([cat.CURRENCY] * len(s["id"]), type=pa.string()),
            "contract_end_date": dates(np.asarray(s["cend"], dtype=np.int64)),
            "term": pa.array(s["term"], type=pa.string()),
            "pricing": pa.array(s["pricing"], type=pa.string()),
        }
    )


def _pay_table(rng: np.random.Generator, out: _Out, acc: Accounts, ident: Identity) -> pa.Table:
    p = out.pays
    acct = np.asarray(p["acct"], dtype=np.int64)
    paid_day = np.asarray(p["paid_day"], dtype=np.int64)
    paid = paid_day >= 0
    paid_ms = day_ms(np.maximum(paid_day, 0)) + local_time_ms(rng, acc.region[acct])
    status = np.asarray(p["status"], dtype=object)
    # a few paid invoices are refunded later (same payment, second row)
    refund = paid & (rng.random(acct.size) < 0.004)
    idx = np.concatenate([np.arange(acct.size), np.flatnonzero(refund)])
    status = np.concatenate([status, np.full(int(refund.sum()), "refunded", dtype=object)])
    order = np.lexsort((np.arange(idx.size), np.asarray(p["due"], dtype=np.int64)[idx], acct[idx]))
    idx, status = idx[order], status[order]
    return pa.table(
        {
            "account_id": ident.id_array.take(pa.array(acct[idx])),
            "due_date": dates(np.asarray(p["due"], dtype=np.int64)[idx]),
            "amount": money(np.asarray(p["cents"], dtype=np.int64)[idx]),
            "status": pa.array(status.tolist(), type=pa.string()),
            "paid_at": timestamps(paid_ms[idx], paid[idx]),
        }
    )


def _churn_table(out: _Out, ident: Identity) -> pa.Table:
    c = out.churn
    return pa.table(
        {
            "account_id": ident.id_array.take(pa.array(np.asarray(c["acct"], dtype=np.int64))),
            "churned_on": dates(np.asarray(c["day"], dtype=np.int64)),
            "churn_type": pa.array(c["type"], type=pa.string()),
            "reason": pa.array(c["reason"], type=pa.string()),
        }
    )
