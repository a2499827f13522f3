"""Activities, tickets and survey responses: the relationship and sentiment tables.

Counts come from the simulation (tickets by tone, NPS answers) or are drawn here from
its state (CSM activities follow the touch model and react to risk); rows get a
time inside the days the account was a customer, a contact who was present (and,
for meetings and surveys, preferably engaged), and text.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from helix.testing.demo import catalog as cat
from helix.testing.demo import text, text_cs
from helix.testing.demo.calendar import Calendar
from helix.testing.demo.contacts import Contacts
from helix.testing.demo.history import History
from helix.testing.demo.population import Accounts
from helix.testing.demo.tables.common import (
    HOUR_MS,
    Identity,
    day_ms,
    local_time_ms,
    strings,
    timestamps,
)

ACTIVITY_RATE = np.array([0.25, 1.4, 3.5])
"""Routine CSM activities per account-month by segment (tech, low and high touch)."""
KIND_MIX = np.array(
    [  # meeting, call, email (qbr, note and escalation are drawn separately)
        [0.05, 0.10, 0.70, 0.15],
        [0.20, 0.25, 0.40, 0.15],
        [0.35, 0.20, 0.30, 0.15],
    ]
)
_KIND_CODES = np.array([text_cs.MEETING, text_cs.CALL, text_cs.EMAIL, text_cs.NOTE])


@dataclass
class ContactBook:
    """The chunk's contacts, for choosing who took part in an interaction."""

    con: Contacts
    ids: list[str]
    names: list[str]
    kept: np.ndarray
    first: np.ndarray  # first contact index of each account
    stop: np.ndarray

    @classmethod
    def build(
        cls, con: Contacts, n: int, ids: list[str], names: list[str], kept: np.ndarray
    ) -> ContactBook:
        """Index contacts by account."""
        first = np.searchsorted(con.acct, np.arange(n), side="left")
        stop = np.searchsorted(con.acct, np.arange(n), side="right")
        return cls(con, ids, names, kept, first, stop)

    def choose(
        self, rng: np.random.Generator, acct: np.ndarray, day: np.ndarray, engaged_only: bool
    ) -> np.ndarray:
        """A contact present on ``day`` at each account (engaged ones favoured), -1 if none."""
        if acct.size == 0:
            return np.zeros(0, dtype=np.int64)
        width = int((self.stop - self.first).max(initial=0))
        if width == 0:
            return np.full(acct.size, -1, dtype=np.int64)
        cand = self.first[acct][:, None] + np.arange(width)
        valid = cand < self.stop[acct][:, None]
        cand = np.where(valid, cand, 0)
        c = self.con
        ok = (
            valid
            & self.kept[cand]
            & (c.start_day[cand] <= day[:, None])
            & (c.end_day[cand] > day[:, None])
        )
        weight = ok * np.where(c.engaged[cand], 8.0, 0.0 if engaged_only else 1.0)
        key = np.where(
            weight > 0, -np.log(rng.random(cand.shape)) / np.maximum(weight, 1e-12), np.inf
        )
        best = key.argmin(axis=1)
        found = np.isfinite(key[np.arange(acct.size), best])
        return np.where(found, cand[np.arange(acct.size), best], -1)


def paying_days(
    rng: np.random.Generator, cal: Calendar, hist: History, acct: np.ndarray, month: np.ndarray
) -> np.ndarray:
    """Absolute day numbers inside the paying days of each (account, month), weekdays favoured."""
    lo, hi = hist.lo[acct, month].astype(np.int64), hist.hi[acct, month].astype(np.int64)
    start = cal.month_start[month]
    day = lo + (rng.random(acct.size) * (hi - lo)).astype(np.int64)
    redraw = (cal.weekday(start + day) >= 5) & (rng.random(acct.size) < 0.8)
    day = np.where(redraw, lo + (rng.random(acct.size) * (hi - lo)).astype(np.int64), day)
    return start + day


def row_ids(prefix: str, ident: Identity, acct: np.ndarray, width: int) -> list[str]:
    rank = np.arange(acct.size) - np.searchsorted(acct, acct, side="left")
    return [
        f"{prefix}-{ident.ids[a][5:]}-{k + 1:0{width}d}"
        for a, k in zip(acct.tolist(), rank.tolist(), strict=True)
    ]


def _mood(rng: np.random.Generator, health: np.ndarray) -> np.ndarray:
    mood = np.where(health < -0.4, 0, np.where(health > 0.6, 2, 1))
    shift = rng.choice([-1, 0, 1], size=health.size, p=[0.08, 0.84, 0.08])
    return np.clip(mood + shift, 0, 2)


def _order(acct: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.lexsort((np.arange(acct.size), t, acct))


def activities_table(
    rng: np.random.Generator, r: random.Random, acc: Accounts, hist: History, cal: Calendar,
    ident: Identity, book: ContactBook, champ_left: np.ndarray,
) -> tuple[pa.Table, dict[str, np.ndarray]]:  # fmt: skip
    """CSM interactions, and the business reviews (for the CSAT surveys that follow them)."""
    act = hist.active.copy()
    act[:, : cal.burn] = False
    a, m = np.nonzero(act)
    seg = acc.seg[a]
    frac = (hist.hi[a, m] - hist.lo[a, m]) / cal.month_len[m]
    lam = ACTIVITY_RATE[seg] * (1.0 + 0.5 * (hist.risk[a, m] > 1.0)) * frac
    routine = rng.poisson(lam)
    tenure = m - acc.sign_m[a]
    qbr = np.where(seg == cat.ENT, (tenure % 3 == 2) & (rng.random(a.size) < 0.85), False)
    qbr |= (seg == cat.MM) & (tenure % 6 == 5) & (rng.random(a.size) < 0.7)
    esc = (hist.angry[a, m] > 0) & (rng.random(a.size) < np.array([0.1, 0.4, 0.6])[seg])
    note = champ_left[a, m] & (rng.random(a.size) < np.array([0.3, 0.7, 0.9])[seg])

    rows = np.repeat(np.arange(a.size), routine)
    cum = np.cumsum(KIND_MIX, axis=1)[seg[rows]]
    kind = _KIND_CODES[(rng.random(rows.size)[:, None] > cum).sum(axis=1).clip(0, 3)]
    extra = [(qbr, text_cs.QBR), (esc, text_cs.ESCALATION), (note, text_cs.NOTE)]
    for mask, code in extra:
        idx = np.flatnonzero(mask)
        rows = np.concatenate([rows, idx])
        kind = np.concatenate([kind, np.full(idx.size, code)])
    is_left_note = np.zeros(rows.size, dtype=bool)
    is_left_note[rows.size - int(note.sum()) :] = True

    acct, month = a[rows], m[rows]
    day = paying_days(rng, cal, hist, acct, month)
    t = day_ms(day) + local_time_ms(rng, acc.region[acct])
    contact = book.choose(rng, acct, day, engaged_only=True)
    fallback = (contact < 0) & (rng.random(acct.size) < 0.5)
    contact = np.where(fallback, book.choose(rng, acct, day, engaged_only=False), contact)
    contact = np.where((kind == text_cs.NOTE) & (rng.random(acct.size) < 0.3), -1, contact)
    if is_left_note.any():
        contact[is_left_note] = _departed_champion(book, acct[is_left_note], month[is_left_note])

    out_p = np.select(
        [kind == text_cs.EMAIL, kind == text_cs.CALL, kind == text_cs.ESCALATION],
        [0.75, 0.7, 0.4],
        1.0,
    )
    outbound = rng.random(acct.size) < out_p
    direction = np.where(kind == text_cs.NOTE, None, np.where(outbound, "outbound", "inbound"))
    mood = _mood(rng, hist.health[acct, month])
    first_names = [book.names[c].split(" ")[0] if c >= 0 else "" for c in contact.tolist()]
    summary = text_cs.summaries(r, kind, mood, first_names)
    for j in np.flatnonzero(is_left_note).tolist():
        summary[j] = text_cs.champion_left_note(
            r, book.names[contact[j]] if contact[j] >= 0 else "our champion"
        )

    o = _order(acct, t)
    acct, t, kind, contact, direction, mood = (
        acct[o],
        t[o],
        kind[o],
        contact[o],
        direction[o],
        mood[o],
    )
    table = pa.table(
        {
            "activity_id": strings(row_ids("act", ident, acct, 4)),
            "account_id": ident.id_array.take(pa.array(acct)),
            "occurred_at": timestamps(t),
            "kind": strings([text_cs.ACTIVITY_KINDS[k] for k in kind.tolist()]),
            "contact_id": strings([book.ids[c] if c >= 0 else None for c in contact.tolist()]),
            "direction": strings(direction.tolist()),
            "summary": strings([summary[j] for j in o.tolist()]),
        }
    )
    q = kind == text_cs.QBR
    return table, {"acct": acct[q], "t": t[q], "contact": contact[q], "mood": mood[q]}


def _departed_champion(book: ContactBook, acct: np.ndarray, month: np.ndarray) -> np.ndarray:
    c = book.con
    out = np.full(acct.size, -1, dtype=np.int64)
    for j, (a, m) in enumerate(zip(acct.tolist(), month.tolist(), strict=True)):
        for k in range(int(book.first[a]), int(book.stop[a])):
            if c.role[k] == cat.CHAMPION and c.end_m[k] == m and book.kept[k]:
                out[j] = k
                break
    return out


def tickets_table(
    rng: np.random.Generator,
    r: random.Random,
    acc: Accounts,
    hist: History,
    cal: Calendar,
    ident: Identity,
) -> pa.Table:
    """Support tickets with tone-dependent topic, text, priority, resolution time and CSAT."""
    counts = np.stack([hist.angry, hist.neutral, hist.happy], axis=2)
    counts[:, : cal.burn] = 0
    a, m, tone = np.nonzero(counts)
    rep = counts[a, m, tone]
    a, m, tone = np.repeat(a, rep), np.repeat(m, rep), np.repeat(tone, rep)
    day = paying_days(rng, cal, hist, a, m)
    t = day_ms(day) + local_time_ms(rng, acc.region[a])
    o = _order(a, t)
    a, m, tone, t = a[o], m[o], tone[o], t[o]
    n = a.size
    subjects, bodies, _ = text.tickets(rng, r, tone)
    pri_cum = np.cumsum(
        np.array([[0.0, 0.25, 0.7, 1.0], [0.2, 0.8, 0.97, 1.0], [0.5, 0.98, 1.0, 1.0]]), axis=1
    )
    priority = (
        (rng.random(n)[:, None] > pri_cum[tone][:, :3]).sum(axis=1) if n else np.zeros(0, int)
    )
    hours = np.array([60.0, 30.0, 12.0, 4.0])[priority] * np.where(tone == 0, 1.6, 1.0)
    resolve = t + (hours * np.exp(0.8 * rng.normal(size=n)) * HOUR_MS).astype(np.int64)
    resolved = resolve < day_ms(np.full(n, cal.end_day))
    status = np.where(resolved, np.where(rng.random(n) < 0.7, "solved", "closed"),
                      np.where(rng.random(n) < 0.6, "open", "pending"))  # fmt: skip
    rated = resolved & (rng.random(n) < 0.45)
    csat_by_tone = [
        ([1, 2, 3], [0.55, 0.35, 0.1]),
        ([2, 3, 4, 5], [0.05, 0.2, 0.45, 0.3]),
        ([4, 5], [0.3, 0.7]),
    ]
    csat = np.zeros(n, dtype=np.int64)
    for k, (vals, p) in enumerate(csat_by_tone):
        sel = tone == k
        csat[sel] = rng.choice(vals, size=int(sel.sum()), p=p)
    return pa.table(
        {
            "ticket_id": strings(row_ids("tkt", ident, a, 4)),
            "account_id": ident.id_array.take(pa.array(a)),
            "created_at": timestamps(t),
            "resolved_at": timestamps(resolve, resolved),
            "priority": strings(
                [("low", "normal", "high", "urgent")[p] for p in priority.tolist()]
            ),
            "status": strings(status.tolist()),
            "subject": strings(subjects),
            "body": strings(bodies),
            "csat": pa.array(csat, type=pa.int64(), mask=~rated),
        }
    )
