"""Point-in-time customer signals: usage, sentiment, relationship, onboarding, commercial.

Every signal of an account on a scoring date D is computed strictly from data
before D, as Ibis expressions that run on any warehouse backend::

    from helix.signals import Sources, compute_signals, scoring_dates
    expr = compute_signals(Sources(wh), scoring_dates(start, as_of))

The registry (:data:`SIGNALS`) names, describes and groups every signal.
"""

from helix.signals.compute import KEY, active_keys, available_signals, compute_signals, mrr_on
from helix.signals.config import SignalConfig
from helix.signals.dates import dates_table, scoring_dates
from helix.signals.registry import GROUPS, SIGNALS, SignalSpec, signal, signal_names
from helix.signals.sources import Sources
from helix.signals.text import TEXT_SENTIMENT, score_text, update_text_sentiment

__all__ = [
    "KEY",
    "GROUPS",
    "SIGNALS",
    "SignalConfig",
    "SignalSpec",
    "Sources",
    "TEXT_SENTIMENT",
    "active_keys",
    "available_signals",
    "compute_signals",
    "dates_table",
    "mrr_on",
    "score_text",
    "scoring_dates",
    "signal",
    "signal_names",
    "update_text_sentiment",
]
