"""Every warehouse table Helix knows: the data-contract tables and the derived ones.

One place defines the columns, types and keys; the importer validates against
it, the warehouse creates tables from it, and derived stages write to it.

Money is ``decimal(20, 6)`` in the warehouse (exact; rounded to the cent only
when shown). Timestamps are naive UTC. Identifiers are strings compared exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import ibis
import ibis.expr.datatypes as dt

MONEY = dt.Decimal(20, 6)
QUANTITY = dt.Decimal(20, 6)
CENTS = dt.Decimal(18, 2)
"""Amounts already rounded to the cent (the ledger's): exact, and 64-bit, so fast to
write and to sum; up to 10^16."""

Kind = Literal[
    "string", "date", "timestamp", "money", "cents", "decimal", "double", "integer", "flag"
]

_KIND_TYPES: dict[str, dt.DataType] = {
    "string": dt.string,
    "date": dt.date,
    "timestamp": dt.Timestamp(),
    "money": MONEY,
    "cents": CENTS,
    "decimal": QUANTITY,
    "double": dt.float64,
    "integer": dt.int64,
    "flag": dt.int8,  # 0 or 1
}


@dataclass(frozen=True)
class Column:
    """One column of a table, with the rules the importer enforces."""

    name: str
    kind: Kind
    required: bool = False
    description: str = ""
    choices: tuple[str, ...] | None = None  # allowed values (compared exactly)
    minimum: float | None = None
    maximum: float | None = None
    references: str | None = None  # "table.column" this value must exist in

    @property
    def dtype(self) -> dt.DataType:
        return _KIND_TYPES[self.kind]


@dataclass(frozen=True)
class TableSpec:
    """A warehouse table: columns, key and how re-imports merge."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    # "upsert": a row with an existing key replaces it; conflicting duplicates in one
    # file are rejected. "dedupe": rows equal on the key are one row (first wins).
    merge: Literal["upsert", "dedupe"] = "upsert"
    contract: bool = False  # part of the public data contract
    required: bool = False  # an import must provide it (only accounts, subscriptions)
    description: str = ""
    extra: tuple[Column, ...] = field(default=())  # stored columns not in the contract file
    # For "dedupe" tables whose key may be null (events without event_id): rows are
    # then identified by these columns instead (nulls compare equal).
    fallback_key: tuple[str, ...] = ()
    time_column: str | None = None  # lets merges compare only stored rows of the same time span

    def column(self, name: str) -> Column:
        for col in (*self.columns, *self.extra):
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def ibis_schema(self) -> ibis.Schema:
        """Schema of the stored table: contract columns, extras, and custom attributes."""
        cols = {c.name: c.dtype for c in (*self.columns, *self.extra)}
        if self.contract:
            cols[ATTRIBUTES] = dt.string
        return ibis.schema(cols)


ATTRIBUTES = "attributes"
"""Name of the JSON text column that keeps a contract row's extra (custom) columns."""

C = Column

ACCOUNTS = TableSpec(
    "accounts",
    (
        C("account_id", "string", True, "unique key"),
        C("name", "string", True, "display name"),
        C("created_at", "timestamp", description="when the relationship began"),
        C("segment", "string", description="the company's own segment label"),
        C("industry", "string"),
        C("region", "string"),
        C("owner_email", "string", description="the assigned CSM"),
        C("parent_account_id", "string", references="accounts.account_id"),
    ),
    key=("account_id",),
    contract=True,
    required=True,
    description="The customers.",
)

SUBSCRIPTIONS = TableSpec(
    "subscriptions",
    (
        C("subscription_id", "string", True, "unique key of the row"),
        C("account_id", "string", True, references="accounts.account_id"),
        C("product", "string", True, "product or add-on name"),
        C("plan", "string", description="tier name"),
        C("start_date", "date", True, "first day the terms apply"),
        C("end_date", "date", description="first day they no longer apply; null = ongoing"),
        C("mrr", "money", True, "monthly recurring revenue of the row", minimum=0),
        C("quantity", "decimal", description="licensed units (seats, credits)", minimum=0),
        C("currency", "string", description="ISO 4217"),
        C("contract_end_date", "date", description="when the committed term ends"),
    ),
    key=("subscription_id",),
    contract=True,
    required=True,
    description="Periods of constant subscription terms.",
)

EVENTS = TableSpec(
    "events",
    (
        C("account_id", "string", True, references="accounts.account_id"),
        C("event_time", "timestamp", True),
        C("event_type", "string", True),
        C("user_id", "string"),
        C("value", "double"),
        C("event_id", "string", description="de-duplication key when given"),
    ),
    key=("event_id",),
    fallback_key=("account_id", "event_time", "event_type", "user_id"),
    time_column="event_time",
    merge="dedupe",
    contract=True,
    description="Product usage telemetry.",
)

CONTACTS = TableSpec(
    "contacts",
    (
        C("contact_id", "string", True),
        C("account_id", "string", True, references="accounts.account_id"),
        C("name", "string", True),
        C("email", "string"),
        C("title", "string"),
        C(
            "role",
            "string",
            choices=("champion", "decision_maker", "executive_sponsor", "user", "other"),
        ),
        C("started_at", "date"),
        C("ended_at", "date"),
    ),
    key=("contact_id",),
    contract=True,
    description="The people at the customer.",
)

ACTIVITIES = TableSpec(
    "activities",
    (
        C("activity_id", "string", True),
        C("account_id", "string", True, references="accounts.account_id"),
        C("occurred_at", "timestamp", True),
        C(
            "kind",
            "string",
            True,
            choices=("meeting", "call", "email", "qbr", "note", "escalation"),
        ),
        C("contact_id", "string", references="contacts.contact_id"),
        C("direction", "string", choices=("inbound", "outbound")),
        C("summary", "string"),
    ),
    key=("activity_id",),
    contract=True,
    description="Interactions between the vendor and the customer.",
)

TICKETS = TableSpec(
    "tickets",
    (
        C("ticket_id", "string", True),
        C("account_id", "string", True, references="accounts.account_id"),
        C("created_at", "timestamp", True),
        C("resolved_at", "timestamp"),
        C("priority", "string", choices=("low", "normal", "high", "urgent")),
        C("status", "string"),
        C("subject", "string"),
        C("body", "string"),
        C("csat", "integer", minimum=1, maximum=5),
    ),
    key=("ticket_id",),
    contract=True,
    description="Support cases.",
)

SURVEY_RESPONSES = TableSpec(
    "survey_responses",
    (
        C("response_id", "string", True),
        C("account_id", "string", True, references="accounts.account_id"),
        C("contact_id", "string", references="contacts.contact_id"),
        C("responded_at", "timestamp", True),
        C("survey", "string", True, "nps, csat, onboarding, or a custom name"),
        C("score", "integer", True, "NPS 0-10, CSAT 1-5"),
        C("comment", "string"),
    ),
    key=("response_id",),
    contract=True,
    description="NPS, CSAT and other survey answers.",
)

CHURN_REASONS = TableSpec(
    "churn_reasons",
    (
        C("account_id", "string", True, references="accounts.account_id"),
        C("churned_on", "date", True),
        C("churn_type", "string", True, choices=("voluntary", "involuntary")),
        C("reason", "string"),
    ),
    key=("account_id", "churned_on"),
    contract=True,
    description="What the company recorded when a customer left.",
)

PAYMENTS = TableSpec(
    "payments",
    (
        C("account_id", "string", True, references="accounts.account_id"),
        C("due_date", "date", True),
        C("amount", "money", True, minimum=0),
        C("status", "string", True, choices=("paid", "failed", "refunded")),
        C("paid_at", "timestamp"),
    ),
    # A payment row has no id in the contract: retries on one due date are separate
    # facts, so rows are one payment only when every column is equal.
    key=("account_id", "due_date", "amount", "status", "paid_at"),
    merge="dedupe",
    contract=True,
    description="Billing outcomes.",
)

CONTRACT_TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        ACCOUNTS,
        SUBSCRIPTIONS,
        CONTACTS,
        EVENTS,
        ACTIVITIES,
        TICKETS,
        SURVEY_RESPONSES,
        CHURN_REASONS,
        PAYMENTS,
    )
}
"""Contract tables in load order (referenced tables before the tables that point at them)."""

# ---------------------------------------------------------------------------
# Derived tables (written by `helix run` stages)
# ---------------------------------------------------------------------------

ACCOUNT_SUMMARY = TableSpec(
    "account_summary",
    (
        C("account_id", "string", True),
        C("name", "string"),
        C("segment", "string"),
        C("tier", "string", description="enterprise, mid_market or smb, derived from ARR"),
        C("owner_email", "string"),
        C("mrr", "money", description="MRR on the as-of date"),
        C("arr", "money", description="12 x MRR"),
        C("active", "integer", description="1 when MRR > 0 on the as-of date"),
        C("customer_since", "date", description="first subscription start"),
        C("next_renewal", "date", description="earliest contract_end_date on or after as-of"),
        C("seats", "decimal", description="licensed quantity on the as-of date"),
        C("last_event_at", "timestamp", description="latest usage event before as-of"),
        C("as_of", "date"),
    ),
    key=("account_id",),
    description="One row per account: its commercial state on the as-of date.",
)

PORTFOLIO_ACCOUNTS = TableSpec(
    "portfolio_accounts",
    (
        *ACCOUNT_SUMMARY.columns,
        C("health_score", "double", description="health on the latest scoring date"),
        C("health_color", "string", choices=("green", "yellow", "red")),
        C("churn_probability", "double", description="latest churn prediction (90 days)"),
    ),
    key=("account_id",),
    description=(
        "account_summary joined with the latest health and churn prediction: the rows the "
        "portfolio filters and sorts (helix.portfolio)."
    ),
)

DATA_CHECKS = TableSpec(
    "data_checks",
    (
        C("check_name", "string", True),
        C("severity", "string", choices=("info", "warning", "error")),
        C("count", "integer"),
        C("message", "string"),
        C("as_of", "date"),
    ),
    key=("check_name",),
    description="Findings of the data-quality checks run on the imported data.",
)

MRR_MOVEMENTS = TableSpec(
    "mrr_movements",
    (
        C("account_id", "string", True),
        C("month", "date", True, "first day of the calendar month"),
        C("period_start", "date", description="window start: the month's first day"),
        C("period_end", "date", description="window end: next month's first day, or as_of"),
        C("complete", "flag", description="1 when the window is the whole month"),
        C("active_start", "flag", description="1 when MRR > 0 at period_start"),
        C("active_end", "flag", description="1 when MRR > 0 at period_end"),
        C("start_mrr", "cents", description="MRR at period_start, to the cent"),
        C("end_mrr", "cents", description="MRR at period_end, to the cent"),
        C("new_mrr", "cents", description="end MRR of a first-ever activation"),
        C("reactivation_mrr", "cents", description="end MRR of a returning account"),
        C("expansion_mrr", "cents", description="end - start when both active and end > start"),
        C("contraction_mrr", "cents", description="start - end when both active and end < start"),
        C("churned_mrr", "cents", description="start MRR when MRR falls to zero"),
        C(
            "movement",
            "string",
            choices=("new", "reactivation", "expansion", "contraction", "churn", "none"),
        ),
        C(
            "movement_type",
            "string",
            description="seats, tier, cross_sell, usage_price, product_dropped; "
            "voluntary, involuntary, unknown for churn",
        ),
        C("churn_date", "date", description="when MRR last fell to zero in the window"),
        C("as_of", "date"),
    ),
    key=("account_id", "month"),
    description="The MRR movements ledger: each account's movement in each month (helix.metrics).",
)

TEXT_SENTIMENT = TableSpec(
    "text_sentiment",
    (
        C("source", "string", True, "tickets, survey_responses or activities"),
        C("source_id", "string", True, "key of the source row"),
        C("account_id", "string", True),
        C("occurred_at", "timestamp", description="when the text was written"),
        C("compound", "double", description="VADER compound score, -1 (negative) to 1 (positive)"),
        C("scored_at", "timestamp"),
    ),
    key=("source", "source_id"),
    description="Sentiment of each ticket, survey comment and activity summary, scored once (helix.signals).",
)

EVENT_SUMMARY_PARTS = TableSpec(
    "event_summary_parts",
    (
        C("part", "string", True, "file name of an events part (see helix.warehouse.parts)"),
        C("value_event_type", "string", description="the value event the part was summarised for"),
        C("summarised_at", "timestamp"),
    ),
    key=("part",),
    description="Events parts summarised into the event_* summary tables (helix.signals.event_summary).",
)

EVENT_TYPE_FIRSTS = TableSpec(
    "event_type_firsts",
    (
        C("part", "string", True),
        C("account_id", "string", True),
        C("event_type", "string"),
        C("first_day", "date", description="the part's first event of this type for the account"),
    ),
    description="First use of each event type per account, per events part (helix.signals.event_summary).",
)

EVENT_WEEK_LASTS = TableSpec(
    "event_week_lasts",
    (
        C("part", "string", True),
        C("account_id", "string", True),
        C("week", "integer", description="day number (days since 1970-01-01) // 7"),
        C("last_day", "date", description="the account's last event day of that week in the part"),
    ),
    description="Last active day per account and week, per events part (helix.signals.event_summary).",
)

EVENT_VALUE_FIRSTS = TableSpec(
    "event_value_firsts",
    (
        C("part", "string", True),
        C("account_id", "string", True),
        C("user_id", "string"),
        C("first_day", "date", description="the user's first value event in the part"),
    ),
    description="First value event per account and user, per events part (helix.signals.event_summary).",
)

ACCOUNT_SIGNALS = TableSpec(
    "account_signals",
    (
        C("account_id", "string", True),
        C("score_date", "date", True, "signals use only data strictly before this date"),
        C("active_users_30", "double", description="users"),
        C("licensed_seats", "double", description="seats"),
        C("seat_utilisation", "double", description="ratio"),
        C("logins_30", "double", description="logins"),
        C("login_ratio", "double", description="ratio"),
        C("breadth_30", "double", description="event types"),
        C("core_events_30", "double", description="events"),
        C("core_share_30", "double", description="ratio"),
        C("events_30", "double", description="events"),
        C("usage_trend_30", "double", description="ratio"),
        C("usage_trend_90", "double", description="ratio"),
        C("new_features_90", "double", description="event types"),
        C("plateau", "double", description="flag"),
        C("days_since_last_activity", "double", description="days"),
        C("nps_latest", "double", description="score 0-10"),
        C("nps_detractor", "double", description="flag"),
        C("nps_promoter", "double", description="flag"),
        C("csat_latest", "double", description="score 1-5"),
        C("tickets_90", "double", description="tickets"),
        C("ticket_trend", "double", description="ratio"),
        C("urgent_tickets_90", "double", description="tickets"),
        C("text_sentiment_90", "double", description="compound -1..1"),
        C("text_sentiment_trend", "double", description="compound delta"),
        C("escalations_90", "double", description="escalations"),
        C("engaged_contacts_90", "double", description="contacts"),
        C("multi_threaded", "double", description="flag"),
        C("champion_present", "double", description="flag"),
        C("champion_left_180", "double", description="flag"),
        C("champion_left_on", "date", description="date"),
        C("champion_left_name", "string", description="name"),
        C("sponsor_present", "double", description="flag"),
        C("new_decision_maker_90", "double", description="flag"),
        C("days_since_csm_contact", "double", description="days"),
        C("value_reached", "double", description="flag"),
        C("time_to_value_days", "double", description="days"),
        C("onboarding_stalled", "double", description="flag"),
        C("tenure_days", "double", description="days"),
        C("mrr", "double", description="money"),
        C("days_to_renewal", "double", description="days"),
        C("failed_payments_90", "double", description="payments"),
        C("contraction_90", "double", description="flag"),
        C("mrr_change_90", "double", description="ratio"),
    ),
    key=("account_id", "score_date"),
    description="Point-in-time health signals per active account and scoring date "
    "(helix.signals; meanings in its registry).",
)

HEALTH_SCORES = TableSpec(
    "health_scores",
    (
        C("account_id", "string", True),
        C("score_date", "date", True),
        C("score", "double", description="overall health 0-100"),
        C("color", "string", choices=("green", "yellow", "red")),
        C("usage_score", "double"),
        C("sentiment_score", "double"),
        C("relationship_score", "double"),
        C("onboarding_score", "double"),
        C("commercial_score", "double"),
        C("group_scores", "string", description="JSON: every group's score, custom groups included"),
        C("model_version", "string", description="version and content hash of the health model"),
        C("drivers", "string", description="JSON: the measures that moved the score most since ~30 days before"),
        C("missing", "string", description="JSON: measures without data whose weight was redistributed"),
        C("computed_at", "timestamp"),
    ),
    key=("account_id", "score_date"),
    description="Daily health history: score, colour, group scores and drivers (helix.health).",
)

HEALTH_RECENT = TableSpec(
    "health_recent",
    (
        C("account_id", "string", True),
        C("score_date", "date", True),
        C("score", "double", description="overall health 0-100"),
        C("color", "string", choices=("green", "yellow", "red")),
    ),
    key=("account_id", "score_date"),
    description=(
        "The latest scoring date's scores and those of every 7 days before it over 12 weeks "
        "(a slice of health_scores the portfolio reads; helix.health)."
    ),
)

HEALTH_LATEST = TableSpec(
    "health_latest",
    HEALTH_SCORES.columns,
    key=("account_id",),
    description=(
        "Each account's latest daily score row, in full (the Customer 360 header reads it "
        "instead of the daily history; helix.health)."
    ),
)

HEALTH_EVENTS = TableSpec(
    "health_events",
    (
        C("account_id", "string", True),
        C("event_date", "date", True),
        C("event", "string", True, "turned_green, turned_yellow or turned_red"),
        C("from_color", "string"),
        C("to_color", "string"),
        C("score", "double"),
        C("model_version", "string"),
        C("owner_role", "string", description="who responds (from the model's responses)"),
        C("action", "string", description="the defined response"),
        C("due_date", "date", description="respond by"),
        C("drivers", "string", description="JSON: what moved the score"),
    ),
    key=("account_id", "event_date"),
    description="Colour changes of the health score, consumed by the playbook engine (helix.health).",
)

PREDICTIONS = TableSpec(
    "predictions",
    (
        C("account_id", "string", True),
        C("score_date", "date", True, "predicted from data strictly before this date"),
        C("target", "string", True, choices=("churn", "expansion", "contraction")),
        C("horizon_days", "integer", True),
        C("probability", "double", description="calibrated probability of the outcome within the horizon"),
        C("model_version", "string", description="the registered model that made it"),
        C("candidate", "string", description="lightgbm or logistic"),
        C("drivers", "string", description="JSON: the features that moved this prediction most"),
        C("computed_at", "timestamp"),
    ),
    key=("account_id", "score_date", "target", "horizon_days"),
    description="Daily predictions of the active models, with their drivers (helix.predict).",
)

RENEWAL_FORECASTS = TableSpec(
    "renewal_forecasts",
    (
        C("forecast_date", "date", True, "the forecast was made with data up to this date"),
        C("account_id", "string", True),
        C("renewal_date", "date", True),
        C("source", "string", choices=("contract", "inferred"), description="contract_end_date or anniversary"),
        C("arr", "cents", description="ARR at stake on the forecast date"),
        C("health_score", "double"),
        C("color", "string"),
        C("model_probability", "double", description="1 - churn probability of the active model"),
        C("bucket", "string", choices=("committed", "likely", "at_risk", "critical")),
        C("probability", "double", description="the bucket's calibrated renewal probability"),
        C("expected_arr", "cents"),
        C("override_reason", "string", description="why a person set the bucket, if one did"),
        C("override_by", "string"),
        C("computed_at", "timestamp"),
    ),
    key=("forecast_date", "account_id"),
    description="Daily snapshots of the renewal forecast, judged later by `helix forecast accuracy`.",
)

EXPANSION_LEADS = TableSpec(
    "expansion_leads",
    (
        C("account_id", "string", True),
        C("detected_on", "date", True, "detected from data strictly before this date"),
        C("first_detected_on", "date", description="start of the unbroken run of this lead"),
        C(
            "signal",
            "string",
            True,
            choices=(
                "seats_near_limit", "usage_near_limit", "adoption_spreading", "predicted_expansion",
            ),
        ),
        C("suggested_motion", "string", choices=("seats", "tier", "cross_sell", "usage")),
        C("evidence", "string", description="what was seen, in words, with the numbers"),
        C("motion_reason", "string", description="why this motion is suggested"),
        C("value", "double", description="the measured figure compared with the threshold"),
        C("threshold", "double", description="the configured threshold it reached"),
        C("used", "double", description="active users or usage (limit signals; else null)"),
        C("licensed", "double", description="licensed seats or allowance (limit signals)"),
        C("strength", "double", description="value / threshold (>= 1): for ordering"),
        C("arr", "money", description="12 x MRR on detected_on"),
        C("owner_email", "string", description="the account's CSM when detected"),
        C("detail", "string", description="JSON: facts of the signal (event types, model ...)"),
        C("computed_at", "timestamp"),
    ),
    key=("account_id", "detected_on", "signal"),
    description="CS-qualified expansion leads per detection date, consumed by playbooks "
    "(helix.predict.expansion; docs/expansion.md).",
)

CHURN_TIMING = TableSpec(
    "churn_timing",
    (
        C("account_id", "string", True),
        C("score_date", "date", True, "predicted from data strictly before this date"),
        C("p_churn_90", "double", description="probability of churning within 90 days"),
        C("p_churn_180", "double", description="probability of churning within 180 days"),
        C("p_churn_365", "double", description="probability of churning within 365 days"),
        C("months_to_churn", "integer", description="first month by which churn is more likely than not; null: not within 12"),
        C("model_version", "string", description="the survival model that made it"),
        C("computed_at", "timestamp"),
    ),
    key=("account_id", "score_date"),
    description="Time to churn from the active survival model, daily (helix.predict.survival).",
)

DERIVED_TABLES: dict[str, TableSpec] = {
    t.name: t for t in (ACCOUNT_SUMMARY, DATA_CHECKS, MRR_MOVEMENTS,
        TEXT_SENTIMENT, EVENT_SUMMARY_PARTS, EVENT_TYPE_FIRSTS, EVENT_WEEK_LASTS, EVENT_VALUE_FIRSTS,
        ACCOUNT_SIGNALS, HEALTH_SCORES, HEALTH_RECENT, HEALTH_LATEST, HEALTH_EVENTS, PORTFOLIO_ACCOUNTS, PREDICTIONS, RENEWAL_FORECASTS, CHURN_TIMING,
        EXPANSION_LEADS)
}

ALL_TABLES: dict[str, TableSpec] = {**CONTRACT_TABLES, **DERIVED_TABLES}


def spec(name: str) -> TableSpec:
    """The spec of a warehouse table by name."""
    return ALL_TABLES[name]
