"""The demo company's CS team has been running Helix's shipped playbooks: what that changed.

A generated company can carry the effect of past CS work, so that `helix playbooks
impact` has something real to measure on a fresh demo. The effect is simulated in the
world (the customers' behaviour), never written into Helix's results: Helix still finds
the occurrences with its own triggers, draws its own holdout, and reads the outcomes
from the imported files.

The link between the two is the holdout. Helix holds an account out of a playbook when
:func:`helix.playbooks.engine.holdout_draw` of (the organisation's salt, the playbook,
the account) is below the playbook's ``holdout``; that draw does not depend on the date.
Given the organisation's salt, the generator knows which accounts the CS team left
alone, and only the others get the play's effect.

Simulated play:

* **onboarding-stall** (goal: activation). Helix's ``onboarding_stalled`` signal turns
  on the day an account has been a customer for more than
  ``signals.onboarding_stall_days`` (60) without its first value moment. For a treated
  account the nudge email and the call that follows unblock onboarding with probability
  :data:`RESCUE_P`: the first value moment comes :data:`RESCUE_DAYS` after the stall,
  unless it was coming sooner anyway. Held-out accounts keep the time to value they
  were drawn with.

Everything downstream (usage, health, NPS, churn) follows from the earlier first value
moment through the ordinary simulation.
"""

from __future__ import annotations

import numpy as np

from helix.playbooks.catalog import library
from helix.playbooks.engine import holdout_draw
from helix.signals.config import SignalConfig

ONBOARDING_PLAY = "onboarding-stall"
RESCUE_P = 0.5
"""Chance that the nudge and the call bring a stalled onboarding to its first value."""
RESCUE_DAYS = (7, 50)
"""Days after the stall within which a rescued account reaches first value (uniform)."""


def holdout_of(playbook: str) -> float:
    """The shipped library's holdout fraction for ``playbook``."""
    for pb in library():
        if pb.name == playbook:
            return pb.holdout
    raise KeyError(playbook)


def treated(salt: str, playbook: str, account_ids: list[str]) -> np.ndarray:
    """Whether Helix's engine treats (does not hold out) each account in ``playbook``."""
    cut = holdout_of(playbook)
    return np.array([holdout_draw(salt, playbook, a) >= cut for a in account_ids], dtype=bool)


def rescue_stalled_onboarding(
    rng: np.random.Generator, account_ids: list[str], ttv_days: np.ndarray, salt: str
) -> np.ndarray:
    """Days from signup to first value after the onboarding-stall play (``inf``: never).

    An account stalls when its first value would come after the stall threshold; a
    treated one is rescued with probability :data:`RESCUE_P`. The draws are made for every
    account, so the result for one account does not depend on the others."""
    stall = SignalConfig().onboarding_stall_days
    n = len(account_ids)
    lucky = rng.random(n) < RESCUE_P
    delay = rng.integers(RESCUE_DAYS[0], RESCUE_DAYS[1] + 1, n)
    stalled = ttv_days > stall
    rescued = stalled & lucky & treated(salt, ONBOARDING_PLAY, account_ids)
    return np.where(rescued, np.minimum(ttv_days, stall + 1 + delay), ttv_days)
