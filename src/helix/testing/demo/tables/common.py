"""Arrow builders shared by the table modules: exact money, dates, timestamps, identities."""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd

import numpy as np
import pyarrow as pa

from helix.testing.demo import catalog as cat
from helix.testing.demo.calendar import DAY_MS
from helix.testing.demo.population import Accounts, account_names

MONEY = pa.decimal128(18, 2)
TIMESTAMP = pa.timestamp("us")
HOUR_MS = 3_600_000
_HOUR_CDF = np.cumsum(cat.HOUR_WEIGHT) / cat.HOUR_WEIGHT.sum()
_HOUR_LUT = np.searchsorted(_HOUR_CDF, (np.arange(4096) + 0.5) / 4096, side="right").clip(0, 23)


def money(cents: np.ndarray) -> pa.Array:
    """Exact ``decimal(18, 2)`` values from integer cents (no float rounding involved)."""
    cents = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((cents.size, 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(MONEY, cents.size, [None, pa.py_buffer(words.tobytes())])


def dates(days: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """``date32`` values from day numbers (``valid`` False gives null)."""
    arr = np.asarray(days, dtype=np.int32)
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(arr, type=pa.date32(), mask=mask)


def timestamps(
    ms: np.ndarray, valid: np.ndarray | None = None, *, millis: bool = False
) -> pa.Array:
    """Naive UTC ``timestamp[us]`` values from milliseconds since the epoch.

    Whole seconds unless ``millis`` (product events keep their milliseconds).
    """
    arr = np.asarray(ms, dtype=np.int64)
    if not millis:
        arr = arr - arr % 1000
    arr = arr * 1000
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(arr, type=TIMESTAMP, mask=mask)


def local_time_ms(
    rng: np.random.Generator, region: np.ndarray, business: bool = True
) -> np.ndarray:
    """Milliseconds into a UTC day for a local time-of-day drawn from the usage profile."""
    n = region.size
    hour = _HOUR_LUT[rng.integers(0, 4096, n)] if business else rng.integers(0, 24, n)
    utc = (hour - cat.REGION_UTC_OFFSET[region]) % 24
    return utc * HOUR_MS + rng.integers(0, HOUR_MS - 1_000, n)


def day_ms(days: np.ndarray) -> np.ndarray:
    """Milliseconds since the epoch at the start of each day number."""
    return np.asarray(days, dtype=np.int64) * DAY_MS


def strings(values: list[str | None]) -> pa.Array:
    """A string array (``None`` is null)."""
    return pa.array(values, type=pa.string())


@dataclass
class Identity:
    """Names of a chunk's accounts: ids, company names, e-mail domains."""

    ids: list[str]
    names: list[str]
    domains: list[str]
    id_array: pa.Array


def account_ids(gidx: np.ndarray, id_width: int) -> list[str]:
    """The account ids of global account numbers ``gidx`` (``acct-000001``, ...)."""
    return [f"acct-{g + 1:0{id_width}d}" for g in gidx.tolist()]


def identities(acc: Accounts, seed: int, id_width: int) -> Identity:
    """Account ids, unique company names and domains (subsidiaries carry the parent's)."""
    names = account_names(acc.gidx, seed)
    domains = [f"{cat.slug(n)}.com" for n in names]
    for i in np.flatnonzero(acc.parent >= 0).tolist():
        p = int(acc.parent[i])
        division = cat.DIVISIONS[int(acc.division[i])]
        names[i] = f"{names[p]} {division}"
        domains[i] = f"{cat.slug(division)}.{domains[p]}"
    ids = account_ids(acc.gidx, id_width)
    return Identity(ids, names, domains, pa.array(ids, type=pa.string()))


def person_names(codes: np.ndarray) -> tuple[list[str], list[str]]:
    """Display names and e-mail local parts for name codes (first x last grid)."""
    nl = len(cat.LAST_NAMES)
    first, last = np.divmod(np.asarray(codes, dtype=np.int64), nl)
    f, lst = first.tolist(), last.tolist()
    names = [f"{cat.FIRST_NAMES[a]} {cat.LAST_NAMES[b]}" for a, b in zip(f, lst, strict=True)]
    locals_ = [f"{cat.FIRST_SLUGS[a]}.{cat.LAST_SLUGS[b]}" for a, b in zip(f, lst, strict=True)]
    return names, locals_


def user_codes(start: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Distinct name codes for the product users of an account (a stride through the grid)."""
    space = len(cat.FIRST_NAMES) * len(cat.LAST_NAMES)
    stride = 7_919
    while gcd(stride, space) != 1:
        stride += 2
    return (start + slots * stride) % space
