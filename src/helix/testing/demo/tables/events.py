"""Usage events: the high-volume table, generated fully vectorised in bounded batches.

Per active account-month the simulation fixed the active users ``A``, the usage
intensity and the breadth (how many event types, in adoption order, the account uses).
Every active user logs in at least once; on top come
``Poisson(A x intensity x BASE_RATE x event_scale)`` events spread over users with a
power-user skew and over the adopted event types. The month in which an account
reaches its first value moment gets one ``report_created`` event at that moment:
the first ``report_created`` of an account is its first value moment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helix.testing.demo import catalog as cat
from helix.testing.demo.calendar import Calendar
from helix.testing.demo.history import History
from helix.testing.demo.population import Accounts
from helix.testing.demo.tables.common import (
    Identity,
    day_ms,
    local_time_ms,
    person_names,
    timestamps,
    user_codes,
)

BASE_RATE = 0.6
"""Extra events per unit of usage (active user x intensity) per month at ``event_scale`` 1."""
BATCH_ROWS = 1_500_000
"""Upper bound of events materialised at once (one Parquet row group each)."""
_TIME_BITS = 42
_CUM_W = np.cumsum(cat.EVENT_WEIGHT)
_TYPES = pa.array(cat.EVENT_TYPES, type=pa.string())
_VALUES = {
    cat.EVENT_TYPES.index("api_call"): (60.0, 1.0),  # calls in the batch
    cat.EVENT_TYPES.index("integration_sync"): (200.0, 1.2),  # records synced
    cat.EVENT_TYPES.index("export"): (500.0, 1.0),  # rows exported
}
"""Events whose ``value`` is an amount (log-normal median and sigma); the others have 1."""


@dataclass
class UserPool:
    """The product users of a chunk: account ``a`` owns slots ``offset[a] .. offset[a]+size[a]``."""

    offset: np.ndarray
    size: np.ndarray
    ids: pa.Array


def _active_users(hist: History, cal: Calendar) -> np.ndarray:
    frac = (hist.hi - hist.lo) / cal.month_len[None, :]
    users = np.where(hist.active, np.maximum(1, np.rint(hist.users * frac)), 0)
    users[:, : cal.burn] = 0
    return users.astype(np.int64)


def user_pool(rng: np.random.Generator, hist: History, cal: Calendar, ident: Identity) -> UserPool:
    """Name every product user who is active in the window (e-mail addresses as user ids)."""
    size = np.maximum(_active_users(hist, cal).max(axis=1), 1)
    offset = np.concatenate([[0], np.cumsum(size)[:-1]])
    owner = np.repeat(np.arange(size.size), size)
    slot = np.arange(owner.size) - offset[owner]
    start = rng.integers(0, 1 << 30, size.size)
    _, local = person_names(user_codes(start[owner], slot))
    domains = ident.domains
    ids = [f"{lp}@{domains[a]}" for lp, a in zip(local, owner.tolist(), strict=True)]
    return UserPool(offset, size, pa.array(ids, type=pa.string()))


@dataclass
class _Rows:
    acct: np.ndarray
    month: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    logins: np.ndarray
    extra: np.ndarray
    breadth: np.ndarray
    ttv_off: np.ndarray  # day offset of the first value moment in this month, -1 if not here

    @property
    def total(self) -> np.ndarray:
        return self.logins + self.extra + (self.ttv_off >= 0)


def _rows(
    rng: np.random.Generator, acc: Accounts, hist: History, cal: Calendar, scale: float
) -> _Rows:
    users = _active_users(hist, cal)
    acct, month = np.nonzero(users)
    logins = users[acct, month]
    lam = logins * hist.intensity[acct, month] * BASE_RATE * scale
    extra = rng.poisson(lam)
    lo, hi = hist.lo[acct, month].astype(np.int64), hist.hi[acct, month].astype(np.int64)
    ttv = hist.ttv_day[acct] - cal.month_start[month]
    ttv_off = np.where((ttv >= lo) & (ttv < hi), ttv, -1)
    return _Rows(
        acct, month, lo, hi, logins, extra, hist.breadth[acct, month].astype(np.int64), ttv_off
    )


def _batches(total: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Split consecutive rows into runs of at most ``limit`` events (a big row stands alone)."""
    out: list[tuple[int, int]] = []
    cum = np.cumsum(total)
    start, base = 0, 0
    while start < total.size:
        stop = int(np.searchsorted(cum, base + limit, side="right"))
        stop = max(stop, start + 1)
        out.append((start, stop))
        base = int(cum[stop - 1])
        start = stop
    return out


def event_batches(
    rng: np.random.Generator,
    acc: Accounts,
    hist: History,
    cal: Calendar,
    ident: Identity,
    pool: UserPool,
    scale: float,
    first_event: int,
) -> Iterator[pa.Table]:
    """Yield the chunk's events as Arrow tables of at most ``BATCH_ROWS`` rows, in account order."""
    rows = _rows(rng, acc, hist, cal, scale)
    total = rows.total
    seq = first_event
    for start, stop in _batches(total, BATCH_ROWS):
        table = _batch(rng, acc, cal, ident, pool, rows, slice(start, stop), total[start:stop], seq)
        seq += table.num_rows
        yield table


def _batch(
    rng: np.random.Generator,
    acc: Accounts,
    cal: Calendar,
    ident: Identity,
    pool: UserPool,
    rows: _Rows,
    sel: slice,
    total: np.ndarray,
    seq: int,
) -> pa.Table:
    n = int(total.sum())
    row = np.repeat(np.arange(total.size), total)
    pos = np.arange(n) - np.repeat(np.cumsum(total) - total, total)
    acct = rows.acct[sel][row]
    logins = rows.logins[sel][row]
    ttv_off = rows.ttv_off[sel][row]
    is_login = pos < logins
    is_value = (ttv_off >= 0) & (pos == total[row] - 1)

    # who: every active user logs in once; other events favour power users
    power = np.floor(logins * np.square(rng.random(n, dtype=np.float32))).astype(np.int64)
    slot = np.where(is_login, pos, np.minimum(power, logins - 1))
    slot[is_value] = 0
    user = pool.offset[acct] + slot

    # what: logins, then the adopted event types in proportion to their weights
    breadth = rows.breadth[sel][row]
    pick = np.searchsorted(
        _CUM_W, rng.random(n, dtype=np.float32) * _CUM_W[breadth - 1], side="right"
    )
    etype = np.where(is_login, 0, np.minimum(pick, breadth - 1))
    etype[is_value] = cat.VALUE_EVENT

    # when: a weekday-heavy day inside the paying days, at a local business hour
    lo = rows.lo[sel][row]
    span = (rows.hi[sel] - rows.lo[sel])[row].astype(np.float32)
    day = lo + (rng.random(n, dtype=np.float32) * span).astype(np.int64)
    month_start = cal.month_start[rows.month[sel]][row]
    redraw = (cal.weekday(month_start + day) >= 5) & (rng.random(n, dtype=np.float32) < 0.7)
    day[redraw] = lo[redraw] + (
        rng.random(int(redraw.sum()), dtype=np.float32) * span[redraw]
    ).astype(np.int64)
    day[is_value] = ttv_off[is_value]
    t = day_ms(month_start + day) + local_time_ms(rng, acc.region[acct])

    # unique (account, time): sort and make times strictly increasing within each account
    base = day_ms(cal.month_start[cal.burn])
    key = (acct.astype(np.int64) << _TIME_BITS) + (t - base)
    order = np.argsort(key)
    key = key[order]
    ramp = np.arange(n, dtype=np.int64)
    key = np.maximum.accumulate(key - ramp) + ramp
    t = (key & ((1 << _TIME_BITS) - 1)) + base
    acct, user, etype = acct[order], user[order], etype[order]

    value = np.ones(n)
    for code, (median, sigma) in _VALUES.items():
        hit = np.flatnonzero(etype == code)
        value[hit] = np.maximum(1.0, np.rint(rng.lognormal(np.log(median), sigma, hit.size)))

    ids = pa.array(np.arange(seq, seq + n, dtype=np.int64)).cast(pa.string())
    return pa.table(
        {
            "account_id": pa.DictionaryArray.from_arrays(
                pa.array(acct.astype(np.int32)), ident.id_array
            ),
            "event_time": timestamps(t, millis=True),
            "event_type": pa.DictionaryArray.from_arrays(pa.array(etype.astype(np.int32)), _TYPES),
            "user_id": pa.DictionaryArray.from_arrays(pa.array(user.astype(np.int32)), pool.ids),
            "value": pa.array(value, type=pa.float64()),
            "event_id": pc.binary_join_element_wise("ev_", ids, ""),
        }
    )
