"""The causal core: observable signals -> churn risk, contraction and expansion.

Every decision here reads only what a CS platform can see in the generated data
(active users vs seats, usage trend, breadth of use, champion departures, engaged
contacts, NPS answers, angry tickets, time to first value); the latent health that
produced those observables never enters a decision directly. Noise stands for
everything the data does not show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helix.testing.demo import catalog as cat
from helix.testing.demo import history as hs

RENEWAL_BASE = np.array([-3.5, -4.4, -5.9])
"""Log-odds of churning at an annual renewal for a customer with no risk signal, by segment."""
MONTHLY_BASE = -5.8
"""Log-odds of a month-to-month customer cancelling in a month with no risk signal."""
MIDTERM_BASE = -7.8
"""Log-odds of an annual customer terminating mid-term (rare, needs strong signals)."""

WEIGHTS = {
    hs.LOW_ADOPTION: 2.2,
    hs.USAGE_DECLINE: 1.3,
    hs.CHAMPION_LEFT: 2.2,
    hs.UNHAPPY: 1.0,
    hs.NO_VALUE: 1.5,
    hs.PLATEAU: 0.45,
}
"""Log-odds added by each signal at full strength."""


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Signals:
    """Observable risk and growth signals of every account in one month (0..1 strengths)."""

    util: np.ndarray  # active users / seats
    low_adoption: np.ndarray
    decline: np.ndarray
    plateau: np.ndarray
    champion_gap: np.ndarray
    single_threaded: np.ndarray
    detractor: np.ndarray
    promoter: np.ndarray
    angry: np.ndarray
    no_value: np.ndarray
    slow_ttv: np.ndarray
    fast_ttv: np.ndarray

    def risk(self, noise: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Risk log-odds (without the segment base) and the contribution of each cause."""
        n = self.util.size
        contrib = np.zeros((n, len(hs.CAUSES)))
        contrib[:, hs.LOW_ADOPTION] = WEIGHTS[hs.LOW_ADOPTION] * self.low_adoption
        contrib[:, hs.USAGE_DECLINE] = WEIGHTS[hs.USAGE_DECLINE] * self.decline
        contrib[:, hs.CHAMPION_LEFT] = WEIGHTS[hs.CHAMPION_LEFT] * self.champion_gap
        contrib[:, hs.UNHAPPY] = WEIGHTS[hs.UNHAPPY] * self.detractor + 0.5 * self.angry
        contrib[:, hs.NO_VALUE] = WEIGHTS[hs.NO_VALUE] * self.no_value + 0.6 * self.slow_ttv
        contrib[:, hs.PLATEAU] = WEIGHTS[hs.PLATEAU] * self.plateau
        z = (
            contrib.sum(axis=1)
            + 0.4 * self.single_threaded
            - 0.5 * self.promoter
            - 0.3 * self.fast_ttv
            + noise
        )
        return z, contrib


def churn_cause(rng: np.random.Generator, contrib: np.ndarray) -> np.ndarray:
    """The recorded cause of a voluntary churn: the strongest signal, or (often) something else.

    Recorded reasons are noisy in real companies: a third say "budget" or "competitor"
    whatever the signals showed.
    """
    n = contrib.shape[0]
    cause = contrib.argmax(axis=1)
    weak = contrib.max(axis=1) < 0.3
    noisy = weak | (rng.random(n) < 0.3)
    cause = np.where(noisy, rng.choice([hs.BUDGET, hs.COMPETITOR], size=n, p=[0.6, 0.4]), cause)
    return cause.astype(np.int8)


def addon_available(tier: np.ndarray) -> np.ndarray:
    """Which add-ons each tier can buy (shape (n, add-ons))."""
    return (cat.ADDON_PER_SEAT[None, :] > 0) | (cat.ADDON_FLAT.T[tier] > 0)


def pick_addon(rng: np.random.Generator, tier: np.ndarray, owned: np.ndarray) -> np.ndarray:
    """A new add-on to cross-sell to each account (-1 when none is left to buy)."""
    bits = (owned[:, None] >> np.arange(len(cat.ADDONS))) & 1
    w = cat.ADDON_WEIGHT[None, :] * addon_available(tier) * (bits == 0)
    total = w.sum(axis=1)
    cum = np.cumsum(w, axis=1)
    u = rng.random(tier.size) * total
    pick = (u[:, None] >= cum).sum(axis=1)
    return np.where(total > 0, np.minimum(pick, len(cat.ADDONS) - 1), -1)


def seat_expansion(sig: Signals, health: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Probability of buying more seats this month: near the seat limit and healthy."""
    near = sig.util >= 0.8
    boost = np.array([0.0, 0.8, 0.8])[seg]
    return sigmoid(-5.6 + 2.4 * near + 0.4 * health + boost - 0.8 * sig.champion_gap)


def seats_added(rng: np.random.Generator, seats: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """How many seats an expansion adds."""
    minimum = np.array([1, 5, 10])[seg]
    return np.maximum(minimum, np.rint(seats * rng.uniform(0.08, 0.3, seats.size))).astype(np.int64)


def contraction_at_renewal(sig: Signals, health: np.ndarray) -> np.ndarray:
    """Probability of cutting seats at renewal: unused seats get right-sized."""
    return np.where(sig.util < 0.55, sigmoid(-1.2 + 6.0 * (0.55 - sig.util) - 0.4 * health), 0.0)


def seats_after_cut(
    rng: np.random.Generator, seats: np.ndarray, users: np.ndarray, seg: np.ndarray
) -> np.ndarray:
    """Seats kept after a right-sizing: near the active users, never below the minimum."""
    floor = np.array([2, 10, 40])[seg]
    keep = np.ceil(seats * rng.uniform(0.65, 0.9, seats.size))
    keep = np.maximum(keep, np.ceil(users * 1.1))
    return np.maximum(np.minimum(keep, seats), floor).astype(np.int64)


def tier_upgrade(
    sig_breadth: np.ndarray, tier: np.ndarray, health: np.ndarray, at_renewal: np.ndarray
) -> np.ndarray:
    """Probability of moving up a tier: the account uses everything its tier offers."""
    full = sig_breadth >= cat.TIER_MAX_BREADTH[tier]
    base = np.where(at_renewal, -4.8, -7.6)
    p = sigmoid(base + 2.2 * full + 0.9 * health)
    return np.where(tier < cat.ENTERPRISE, p, 0.0)


def tier_downgrade(sig_breadth: np.ndarray, tier: np.ndarray, health: np.ndarray) -> np.ndarray:
    """Probability of moving down a tier at renewal: most of the tier goes unused."""
    unused = sig_breadth <= cat.TIER_MAX_BREADTH[np.maximum(tier - 1, 0)] - 2
    p = np.where(unused & (health < -0.2), 0.3, 0.02)
    return np.where(tier > cat.STARTER, p, 0.0)


def cross_sell(health: np.ndarray, breadth: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Monthly probability of buying an add-on: healthy accounts with broad adoption."""
    return sigmoid(-5.6 + 0.8 * health + 0.3 * seg + 0.8 * (breadth >= 7))
