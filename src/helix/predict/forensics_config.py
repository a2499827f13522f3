"""Thresholds of churn forensics, in one place (see ``docs/forensics.md``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["ForensicsConfig", "DEFAULT_CONFIG"]


@dataclass(frozen=True)
class ForensicsConfig:
    """What counts as a warning, and how churns are sorted into patterns.

    Every field has a default; pass another instance to change one.
    """

    lookback_days: int = 365
    """How far before the churn date the timeline and the warnings look."""
    usage_down_below: float = 0.7
    """``usage_trend_90`` below this is a usage-down warning (30% below the prior months)."""
    low_utilisation_below: float = 0.3
    """``seat_utilisation`` below this is a low-utilisation warning."""
    churn_probability_at_least: float = 0.2
    """A churn prediction at or above this probability is a warning."""
    healthy_utilisation: float = 0.4
    """Mean seat utilisation over the last ``recent_days`` at or above this is healthy usage."""
    recent_days: int = 180
    """The stretch before the churn over which usage counts as healthy or not."""
    early_warning_days: int = 90
    """The summary reports the share of churns warned at least this many days ahead."""
    reason_match_days: int = 90
    """A churn_reasons record explains a churn when recorded within this many days of it
    (the same reach as the MRR ledger's churn typing)."""
    consolidation_words: tuple[str, ...] = (
        "consolidat",
        "budget",
        "cost",
        "price",
        "cheaper",
        "vendor",
        "bundle",
        "merger",
    )
    """Words of a recorded reason that mean the customer consolidated or cut spend."""
    outgrew_words: tuple[str, ...] = (
        "outgrew",
        "outgrown",
        "grow with",
        "needs",
        "capab",
        "competitor",
        "switched",
        "alternative",
    )
    """Words of a recorded reason that mean the customer moved to something more capable."""

    def to_dict(self) -> dict[str, Any]:
        """The thresholds as JSON-ready data."""
        data = asdict(self)
        data["consolidation_words"] = list(self.consolidation_words)
        data["outgrew_words"] = list(self.outgrew_words)
        return data


DEFAULT_CONFIG = ForensicsConfig()
