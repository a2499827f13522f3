"""The front door: generate a whole demo company into a directory, chunk by chunk.

Accounts are processed in chunks of ``CHUNK`` consecutive account numbers. Each chunk
has its own generators, derived from ``(seed, chunk number)``: one for the simulation
and the small tables, one for the events (so ``event_scale`` changes the events and
nothing else). Output goes to a hidden sibling directory that replaces ``out_dir`` only
when every file is complete.
"""

from __future__ import annotations

import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from helix.errors import UserError
from helix.testing.demo import catalog as cat
from helix.testing.demo.calendar import Calendar, from_day
from helix.testing.demo.contacts import contact_signals, draw_contacts
from helix.testing.demo.cs_team import rescue_stalled_onboarding
from helix.testing.demo.model import simulate
from helix.testing.demo.population import build_roster, draw_accounts
from helix.testing.demo.tables.billing import build_billing
from helix.testing.demo.tables.common import account_ids, identities
from helix.testing.demo.tables.engagement import ContactBook, activities_table, tickets_table
from helix.testing.demo.tables.events import event_batches, user_pool
from helix.testing.demo.tables.people import (
    accounts_table,
    contact_ids,
    contact_people,
    contacts_table,
    last_days,
)
from helix.testing.demo.tables.surveys import surveys_table
from helix.testing.demo.writers import TABLES, Format, TableSink

CHUNK = 2_000
"""Accounts simulated and written together (bounded memory; fixed so output is stable)."""
MAX_ACCOUNTS = 2_000_000
MAX_MONTHS = 120

Progress = Callable[[float, str], None]


@dataclass
class DemoSummary:
    """What a generation run produced."""

    out_dir: Path
    accounts: int
    months: int
    seed: int
    end: date
    format: str
    event_scale: float
    cs_plays: bool = False
    tables: dict[str, int] = field(default_factory=dict)
    csms: list[dict[str, str]] = field(default_factory=list)
    segments: dict[str, int] = field(default_factory=dict)
    active_accounts: dict[str, int] = field(default_factory=dict)
    arr_by_segment: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (paths and dates as strings)."""
        data = asdict(self)
        data["out_dir"] = str(self.out_dir)
        data["end"] = self.end.isoformat()
        data["window"] = {
            "start": _window_start(self.end, self.months),
            "end": self.end.isoformat(),
        }
        data["total_arr"] = round(sum(self.arr_by_segment.values()), 2)
        data["seconds"] = round(self.seconds, 2)
        return data


def _window_start(end: date, months: int) -> str:
    cal = Calendar.build(end, months, burn=0)
    return from_day(int(cal.month_start[0])).isoformat()


def _check_target(out_dir: Path) -> None:
    if out_dir.exists():
        if not out_dir.is_dir():
            raise UserError(
                f"{out_dir} exists and is not a directory", hint="choose a new directory"
            )
        known = {f"{t}.{ext}" for t in TABLES for ext in ("parquet", "csv")}
        strangers = sorted(p.name for p in out_dir.iterdir() if p.name not in known)
        if strangers:
            raise UserError(
                f"{out_dir} holds files the generator did not write ({', '.join(strangers[:3])})",
                hint="choose an empty or new directory; a previous demo company is replaced",
            )


def _validate(accounts: int, months: int, event_scale: float, fmt: str) -> None:
    if not 1 <= accounts <= MAX_ACCOUNTS:
        raise UserError(f"--accounts must be between 1 and {MAX_ACCOUNTS:,}, got {accounts}")
    if not 1 <= months <= MAX_MONTHS:
        raise UserError(f"--months must be between 1 and {MAX_MONTHS}, got {months}")
    if not 0.0 <= event_scale <= 1_000.0:
        raise UserError(f"--event-scale must be between 0 and 1000, got {event_scale}")
    if fmt not in ("parquet", "csv"):
        raise UserError(f"--format must be parquet or csv, got {fmt}")


def generate_company(
    out_dir: Path,
    *,
    accounts: int = 3000,
    months: int = 24,
    seed: int = 7,
    end: date,
    fmt: Format = "parquet",
    event_scale: float = 1.0,
    cs_salt: str | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Write a complete demo B2B SaaS company in the data-contract format to ``out_dir``.

    ``months`` of history end at ``end`` (exclusive). The same arguments always give
    byte-identical files. ``event_scale`` multiplies the product-usage volume (every
    active user still logs in at least once a month). ``progress`` is called with the
    fraction done and a short message after every chunk.

    With ``cs_salt`` (an organisation's playbook holdout salt) the company's CS team has
    been running Helix's shipped playbooks, holding out the accounts Helix holds out with
    that salt, and the treated customers responded (:mod:`helix.testing.demo.cs_team`).
    """
    _validate(accounts, months, event_scale, fmt)
    out_dir = Path(out_dir).expanduser().resolve()
    _check_target(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    cal = Calendar.build(end, months)
    roster = build_roster(accounts, seed)
    summary = DemoSummary(out_dir, accounts, months, seed, end, fmt, event_scale,
                          cs_plays=cs_salt is not None)
    summary.csms = [c.to_dict() for c in roster]
    for label in cat.SEGMENTS:
        summary.segments[label] = 0
        summary.active_accounts[label] = 0
        summary.arr_by_segment[label] = 0.0
    tmp = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        sink = TableSink(tmp, fmt)
        try:
            _write_chunks(sink, summary, cal, roster, event_scale, cs_salt, progress)
        finally:
            sink.close()
        summary.tables = dict(sink.rows)
        _replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    summary.arr_by_segment = {k: round(v, 2) for k, v in summary.arr_by_segment.items()}
    summary.seconds = time.perf_counter() - started
    return summary


def _write_chunks(
    sink: TableSink,
    summary: DemoSummary,
    cal: Calendar,
    roster: list,
    event_scale: float,
    cs_salt: str | None,
    progress: Progress | None,
) -> None:
    accounts, seed = summary.accounts, summary.seed
    width = max(6, len(str(accounts)))
    chunks = (accounts + CHUNK - 1) // CHUNK
    next_event = 0
    for c in range(chunks):
        first = c * CHUNK
        count = min(CHUNK, accounts - first)
        # a fourth child for the CS team's plays: the first three are the same with or without
        sim_seq, table_seq, event_seq, cs_seq = np.random.SeedSequence([seed, c]).spawn(4)
        rng = np.random.default_rng(sim_seq)
        acc = draw_accounts(rng, first, count, cal, roster)
        if cs_salt is not None:
            acc.ttv_days = rescue_stalled_onboarding(
                np.random.default_rng(cs_seq), account_ids(acc.gidx, width), acc.ttv_days, cs_salt
            )
        con = draw_contacts(rng, acc, cal)
        signals = contact_signals(con, acc.n, cal)
        hist = simulate(rng, acc, signals, cal, roster)

        rng = np.random.default_rng(table_seq)
        r = random.Random(int(rng.integers(1 << 62)))
        ident = identities(acc, seed, width)
        billing = build_billing(rng, acc, hist, cal, ident)
        last = last_days(hist, cal, billing.mrr_end)
        ids = contact_ids(con, ident)
        people = contact_people(con)
        contacts, kept = contacts_table(con, ident, ids, people, last)
        book = ContactBook.build(con, acc.n, ids, people[0], kept)
        activities, qbrs = activities_table(rng, r, acc, hist, cal, ident, book, signals.champ_left)
        sink.write("accounts", accounts_table(rng, acc, ident, roster))
        sink.write("subscriptions", billing.subscriptions)
        sink.write("contacts", contacts)
        sink.write("activities", activities)
        sink.write("tickets", tickets_table(rng, r, acc, hist, cal, ident))
        sink.write("survey_responses", surveys_table(rng, r, acc, hist, cal, ident, book, qbrs))
        sink.write("churn_reasons", billing.churn_reasons)
        sink.write("payments", billing.payments)

        rng = np.random.default_rng(event_seq)
        pool = user_pool(rng, hist, cal, ident)
        for batch in event_batches(rng, acc, hist, cal, ident, pool, event_scale, next_event):
            sink.write("events", batch)
            next_event += batch.num_rows

        for s, label in enumerate(cat.SEGMENTS):
            mask = acc.seg == s
            summary.segments[label] += int(mask.sum())
            summary.active_accounts[label] += int((billing.mrr_end[mask] > 0).sum())
            summary.arr_by_segment[label] += float(billing.mrr_end[mask].sum()) * 12 / 100
        if progress is not None:
            progress((c + 1) / chunks, f"{first + count:,} of {accounts:,} accounts")


def _replace(tmp: Path, out_dir: Path) -> None:
    """Swap the finished directory in; a previous demo company at ``out_dir`` is removed."""
    _check_target(out_dir)
    if out_dir.exists():
        trash = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
        os.replace(out_dir, trash)
        os.replace(tmp, out_dir)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, out_dir)
