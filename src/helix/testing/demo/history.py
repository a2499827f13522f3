"""The record of a simulated chunk: what happened to each account in each month."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# churn kinds
VOLUNTARY, FAILED_PAYMENT, CLOSURE, ACQUIRED = 1, 2, 3, 4
INVOLUNTARY_KINDS = (FAILED_PAYMENT, CLOSURE, ACQUIRED)

# the signal that weighed most in a voluntary churn decision (drives the recorded reason)
CAUSES = (
    "low_adoption",
    "usage_decline",
    "champion_left",
    "unhappy",
    "no_value",
    "plateau",
    "budget",
    "competitor",
)
LOW_ADOPTION, USAGE_DECLINE, CHAMPION_LEFT, UNHAPPY, NO_VALUE, PLATEAU, BUDGET, COMPETITOR = range(
    8
)

# payment outcomes
PAID, PAID_AFTER_RETRY, FAILED = 0, 1, 2


def _arr(n: int, t: int, dtype: type, fill: float = 0) -> np.ndarray:
    return np.full((n, t), fill, dtype=dtype)


@dataclass
class History:
    """Per account (row) and month (column) facts of one simulated chunk.

    Day offsets are zero-based days inside the month; -1 means "did not happen".
    ``lo``/``hi`` bound the days the account was a paying customer in the month.
    Commercial terms (seats, tier, add-ons, API blocks) are the ones in force at the
    end of the month (or at churn); ``chg_day`` says when they last changed.
    """

    n: int
    t: int
    lo: np.ndarray = field(init=False)
    hi: np.ndarray = field(init=False)
    health: np.ndarray = field(init=False)
    users: np.ndarray = field(init=False)
    intensity: np.ndarray = field(init=False)
    breadth: np.ndarray = field(init=False)
    seats: np.ndarray = field(init=False)
    tier: np.ndarray = field(init=False)
    addons: np.ndarray = field(init=False)
    api: np.ndarray = field(init=False)
    chg_day: np.ndarray = field(init=False)
    renew_day: np.ndarray = field(init=False)
    churn_day: np.ndarray = field(init=False)
    churn_kind: np.ndarray = field(init=False)
    churn_cause: np.ndarray = field(init=False)
    react_day: np.ndarray = field(init=False)
    angry: np.ndarray = field(init=False)
    neutral: np.ndarray = field(init=False)
    happy: np.ndarray = field(init=False)
    pay_day: np.ndarray = field(init=False)
    pay_outcome: np.ndarray = field(init=False)
    pay_delay: np.ndarray = field(init=False)
    risk: np.ndarray = field(init=False)
    ttv_day: np.ndarray = field(init=False)  # (n,) day number of the first value moment
    nps_acct: list[np.ndarray] = field(default_factory=list)
    nps_month: list[np.ndarray] = field(default_factory=list)
    nps_score: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        n, t = self.n, self.t
        i16, i32, f32 = np.int16, np.int32, np.float32
        self.lo, self.hi = _arr(n, t, i16), _arr(n, t, i16)
        self.health, self.intensity = _arr(n, t, f32), _arr(n, t, f32)
        self.users, self.breadth = _arr(n, t, i32), _arr(n, t, np.int8)
        self.seats, self.api = _arr(n, t, i32), _arr(n, t, i32)
        self.tier, self.addons = _arr(n, t, np.int8), _arr(n, t, np.int8)
        self.chg_day, self.renew_day = _arr(n, t, i16, -1), _arr(n, t, i16, -1)
        self.churn_day, self.react_day = _arr(n, t, i16, -1), _arr(n, t, i16, -1)
        self.churn_kind, self.churn_cause = _arr(n, t, np.int8), _arr(n, t, np.int8)
        self.angry, self.neutral, self.happy = (_arr(n, t, i16) for _ in range(3))
        self.pay_day, self.pay_delay = _arr(n, t, i16, -1), _arr(n, t, i16)
        self.pay_outcome = _arr(n, t, np.int8)
        self.risk = _arr(n, t, f32)
        self.ttv_day = np.zeros(n, dtype=np.int64)

    @property
    def active(self) -> np.ndarray:
        """Whether the account was a customer for part of each month."""
        return self.hi > self.lo

    def nps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All NPS answers drawn: account, month, score."""
        if not self.nps_acct:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        return (
            np.concatenate(self.nps_acct),
            np.concatenate(self.nps_month),
            np.concatenate(self.nps_score),
        )
