"""The signal registry: every signal's name, meaning, unit, group and the tables it needs.

The API and UI list it; a signal whose source tables are empty or absent is
reported as unavailable (its column is null) rather than failing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["SignalSpec", "SIGNALS", "signal", "signal_names", "GROUPS"]

Group = Literal["usage", "sentiment", "relationship", "onboarding", "commercial"]
Dtype = Literal["float64", "int64", "date", "string"]
GROUPS: tuple[str, ...] = ("usage", "sentiment", "relationship", "onboarding", "commercial")


@dataclass(frozen=True)
class SignalSpec:
    """One signal: a column of the ``account_signals`` table."""

    name: str
    group: Group
    description: str
    unit: str
    requires: tuple[str, ...]
    dtype: Dtype = "float64"
    any_source: bool = False  # computable from any one of ``requires`` (else all are needed)

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON-ready data."""
        data = asdict(self)
        data["requires"] = list(self.requires)
        return data


S = SignalSpec
_EV = ("events",)
_SUBS = ("subscriptions",)

SIGNALS: tuple[SignalSpec, ...] = (
    # usage
    S("active_users_30", "usage", "Distinct users with any product event in the last 30 days.", "users", _EV),
    S("licensed_seats", "usage", "Licensed quantity on the scoring date (subscriptions).", "seats", _SUBS),
    S("seat_utilisation", "usage", "Active users in the last 30 days per licensed seat.", "ratio", (*_EV, *_SUBS)),
    S("logins_30", "usage", "Login events in the last 30 days.", "logins", _EV),
    S("login_ratio", "usage", "Logins in the last 30 days vs the account's own monthly rate over the 90 days before.", "ratio", _EV),
    S("breadth_30", "usage", "Distinct event types (features) used in the last 30 days.", "event types", _EV),
    S("core_events_30", "usage", "Events of the configured core workflow types in the last 30 days.", "events", _EV),
    S("core_share_30", "usage", "Share of the last 30 days' events that are core workflow events.", "ratio", _EV),
    S("events_30", "usage", "All product events in the last 30 days.", "events", _EV),
    S("usage_trend_30", "usage", "Events in the last 30 days vs the 30 days before.", "ratio", _EV),
    S("usage_trend_90", "usage", "Events in the last 30 days vs the monthly average of the 90 days before.", "ratio", _EV),
    S("new_features_90", "usage", "Event types used for the first time in the last 90 days.", "event types", _EV),
    S("plateau", "usage", "1 when an account older than the plateau tenure adopted no new feature in 90 days and usage is not growing.", "flag", _EV),
    S("days_since_last_activity", "usage", "Days since the latest product event before the scoring date.", "days", _EV),
    # sentiment
    S("nps_latest", "sentiment", "Latest NPS answer (0-10) in the last 365 days.", "score 0-10", ("survey_responses",)),
    S("nps_detractor", "sentiment", "1 when the latest NPS answer is 0-6.", "flag", ("survey_responses",)),
    S("nps_promoter", "sentiment", "1 when the latest NPS answer is 9-10.", "flag", ("survey_responses",)),
    S("csat_latest", "sentiment", "Latest CSAT (1-5) from surveys or rated tickets in the last 365 days.", "score 1-5", ("survey_responses", "tickets"), any_source=True),
    S("tickets_90", "sentiment", "Support tickets opened in the last 90 days.", "tickets", ("tickets",)),
    S("ticket_trend", "sentiment", "Tickets in the last 30 days vs the monthly average of the 90 days before.", "ratio", ("tickets",)),
    S("urgent_tickets_90", "sentiment", "Urgent tickets opened in the last 90 days.", "tickets", ("tickets",)),
    S("text_sentiment_90", "sentiment", "Mean VADER compound score (-1..1) of ticket bodies, survey comments and activity summaries in the last 90 days.", "compound -1..1", ("text_sentiment",)),
    S("text_sentiment_trend", "sentiment", "Mean text sentiment of the last 30 days minus that of the 90 days before.", "compound delta", ("text_sentiment",)),
    S("escalations_90", "sentiment", "Escalation activities in the last 90 days.", "escalations", ("activities",)),
    # relationship
    S("engaged_contacts_90", "relationship", "Distinct contacts in activities or survey answers in the last 90 days.", "contacts", ("activities",)),
    S("multi_threaded", "relationship", "1 when at least two contacts were engaged in the last 90 days.", "flag", ("activities",)),
    S("champion_present", "relationship", "1 when a contact with role champion is in place on the scoring date.", "flag", ("contacts",)),
    S("champion_left_180", "relationship", "1 when a champion left in the last 180 days.", "flag", ("contacts",)),
    S("champion_left_on", "relationship", "Date the most recent champion left (last 365 days).", "date", ("contacts",), "date"),
    S("champion_left_name", "relationship", "Name of the most recent champion who left (last 365 days).", "name", ("contacts",), "string"),
    S("sponsor_present", "relationship", "1 when an executive sponsor is in place on the scoring date.", "flag", ("contacts",)),
    S("new_decision_maker_90", "relationship", "1 when a decision maker started in the last 90 days.", "flag", ("contacts",)),
    S("days_since_csm_contact", "relationship", "Days since the latest meaningful CSM contact (meeting, call, QBR by default) in the last 365 days; 365 when none.", "days", ("activities",)),
    # onboarding
    S("value_reached", "onboarding", "1 when the first value moment (configured event type by N users) happened before the scoring date.", "flag", _EV),
    S("time_to_value_days", "onboarding", "Days from the start of the relationship to the first value moment, once reached.", "days", _EV),
    S("onboarding_stalled", "onboarding", "1 when the first value moment is still not reached after the stall threshold.", "flag", _EV),
    # commercial
    S("tenure_days", "commercial", "Days since the relationship began.", "days", _SUBS),
    S("mrr", "commercial", "Monthly recurring revenue on the scoring date.", "money", _SUBS),
    S("days_to_renewal", "commercial", "Days until the earliest committed term end on or after the scoring date.", "days", _SUBS),
    S("failed_payments_90", "commercial", "Failed payments due in the last 90 days.", "payments", ("payments",)),
    S("contraction_90", "commercial", "1 when MRR is lower than 90 days before (still above zero).", "flag", _SUBS),
    S("mrr_change_90", "commercial", "MRR on the scoring date / MRR 90 days before.", "ratio", _SUBS),
)
"""Every signal, in column order of ``account_signals``."""

_BY_NAME = {s.name: s for s in SIGNALS}


def signal(name: str) -> SignalSpec:
    """The spec of one signal by name (KeyError when unknown)."""
    return _BY_NAME[name]


def signal_names() -> list[str]:
    """Names of all signals in column order."""
    return [s.name for s in SIGNALS]
