"""The people at each customer: who they are, when they arrive and when they leave.

Contacts are drawn up front for a chunk (their arrivals and departures are outside the
customer's control), then summarised per account and month into the relationship
signals the health dynamics and the churn hazard read: engaged contacts present,
a champion's departure, a new executive's arrival.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helix.testing.demo import catalog as cat
from helix.testing.demo.calendar import Calendar
from helix.testing.demo.population import Accounts

LEAVE_PER_MONTH = 0.014
"""Monthly hazard of a contact leaving the customer (~4% a quarter)."""
NEVER = np.iinfo(np.int64).max // 4


@dataclass
class Contacts:
    """Contacts of one chunk, in the order they are written (by account, then start)."""

    acct: np.ndarray
    role: np.ndarray
    engaged: np.ndarray
    start_day: np.ndarray
    end_day: np.ndarray  # NEVER when they have not left (by the end date)
    start_m: np.ndarray
    end_m: np.ndarray  # ``cal.total`` when they have not left
    name_code: np.ndarray
    title_code: np.ndarray

    @property
    def n(self) -> int:
        """Number of contacts."""
        return len(self.acct)


@dataclass
class ContactSignals:
    """Per account and month (shape ``(accounts, months)``) relationship facts."""

    n_present: np.ndarray
    n_engaged: np.ndarray
    champ_left: np.ndarray  # a champion left during the month
    exec_arrived: np.ndarray  # a new executive or decision maker arrived during the month


def _initial_roles(rng: np.random.Generator, seg: np.ndarray) -> np.ndarray:
    n = seg.size
    r = rng.random((n, 4))
    champ = 1 + ((seg == cat.ENT) & (r[:, 0] < 0.4))
    dm = np.select(
        [seg == cat.SMB, seg == cat.MM], [r[:, 1] < 0.5, np.ones(n)], 1 + (r[:, 1] < 0.5)
    )
    ex = np.select([seg == cat.SMB, seg == cat.MM], [r[:, 2] < 0.1, r[:, 2] < 0.5], np.ones(n))
    users = np.select(
        [seg == cat.SMB, seg == cat.MM],
        [rng.integers(0, 3, n), rng.integers(1, 4, n)],
        rng.integers(2, 7, n),
    )
    counts = np.stack([champ, dm, ex, users], axis=1).astype(np.int64)
    return counts


def draw_contacts(rng: np.random.Generator, acc: Accounts, cal: Calendar) -> Contacts:
    """Draw every contact of the chunk with its arrival and departure."""
    n = acc.n
    end_day = cal.end_day
    counts = _initial_roles(rng, acc.seg)
    per_acct = counts.sum(axis=1)
    acct0 = np.repeat(np.arange(n), per_acct)
    role0 = np.repeat(np.tile(np.arange(4), n), counts.ravel())
    start0 = acc.sign_day[acct0] - rng.integers(0, 45, acct0.size)

    # Later arrivals: new users and decision makers, and (mid-market, enterprise) executives.
    tenure = (end_day - acc.sign_day) / 30.4
    rate = np.array([0.015, 0.03, 0.06])[acc.seg]
    n_new = rng.poisson(rate * tenure)
    acct1 = np.repeat(np.arange(n), n_new)
    role1 = np.where(rng.random(acct1.size) < 0.7, cat.USER, cat.DECISION_MAKER)
    exec_rate = np.array([0.0, 0.008, 0.012])[acc.seg]
    n_exec = rng.poisson(exec_rate * tenure)
    acct2 = np.repeat(np.arange(n), n_exec)
    role2 = np.full(acct2.size, cat.EXEC_SPONSOR)
    acct12 = np.concatenate([acct1, acct2])
    span = np.maximum(end_day - acc.sign_day[acct12], 1)
    start12 = acc.sign_day[acct12] + (rng.random(acct12.size) * span).astype(np.int64)

    acct = np.concatenate([acct0, acct12])
    role = np.concatenate([role0, role1, role2]).astype(np.int64)
    start = np.concatenate([start0, start12])
    engaged = rng.random(acct.size) < cat.ROLE_ENGAGED[role]
    stay = rng.exponential(30.4 / LEAVE_PER_MONTH, acct.size).astype(np.int64) + 1
    leave = np.maximum(start, acc.sign_day[acct] + 30) + stay

    # A departed champion is replaced (by a new, engaged champion) about half the time.
    gone = (role == cat.CHAMPION) & (leave < end_day)
    replaced = gone & (rng.random(acct.size) < 0.55)
    acct3 = acct[replaced]
    start3 = leave[replaced] + rng.integers(20, 150, acct3.size)
    keep3 = start3 < end_day
    acct3, start3 = acct3[keep3], start3[keep3]
    leave3 = start3 + rng.exponential(30.4 / LEAVE_PER_MONTH, acct3.size).astype(np.int64) + 1

    acct = np.concatenate([acct, acct3])
    role = np.concatenate([role, np.full(acct3.size, cat.CHAMPION)])
    start = np.concatenate([start, start3])
    leave = np.concatenate([leave, leave3])
    engaged = np.concatenate([engaged, np.ones(acct3.size, dtype=bool)])
    leave = np.where(leave < end_day, leave, NEVER)

    order = np.lexsort((role, start, acct))
    acct, role, start, leave, engaged = (a[order] for a in (acct, role, start, leave, engaged))
    nf, nl = len(cat.FIRST_NAMES), len(cat.LAST_NAMES)
    start_m = np.clip(cal.month_of(start), 0, cal.total)
    end_m = np.where(leave == NEVER, cal.total, cal.month_of(np.minimum(leave, end_day)))
    return Contacts(
        acct=acct,
        role=role,
        engaged=engaged,
        start_day=start,
        end_day=leave,
        start_m=start_m,
        end_m=np.maximum(end_m, start_m),
        name_code=rng.integers(0, nf * nl, acct.size),
        title_code=rng.integers(0, 1_000, acct.size),
    )


def _presence(n: int, total: int, acct: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    diff = np.zeros((n, total + 1), dtype=np.int32)
    np.add.at(diff, (acct, lo), 1)
    np.add.at(diff, (acct, hi), -1)
    return np.cumsum(diff, axis=1)[:, :total]


def contact_signals(con: Contacts, n: int, cal: Calendar) -> ContactSignals:
    """Summarise contacts per account and month."""
    total = cal.total
    n_present = _presence(n, total, con.acct, con.start_m, con.end_m)
    e = con.engaged
    n_engaged = _presence(n, total, con.acct[e], con.start_m[e], con.end_m[e])
    champ_left = np.zeros((n, total), dtype=bool)
    gone = (con.role == cat.CHAMPION) & (con.end_m < total)
    champ_left[con.acct[gone], con.end_m[gone]] = True
    exec_arrived = np.zeros((n, total), dtype=bool)
    # Arrivals after the signup month are "new stakeholders".
    arr = (con.role <= cat.EXEC_SPONSOR) & (con.role >= cat.DECISION_MAKER)
    arr &= con.start_m < total
    exec_arrived[con.acct[arr], con.start_m[arr]] = True
    return ContactSignals(n_present, n_engaged, champ_left, exec_arrived)
