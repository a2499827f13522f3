"""Playbook triggers: what happened to which account, and when, read from the warehouse.

A trigger turns warehouse history into *occurrences*: one row per thing that
happened to an account inside a window of dates, with a key the engine uses to
run a playbook exactly once per (playbook, account, occurrence). Every trigger
is an Ibis expression (DuckDB and PostgreSQL alike, no Python loop over
accounts) with exactly :data:`OCCURRENCE_COLUMNS`:

``account_id``
    the account (string)
``occurred_on``
    the day it happened (date), always within ``[start, end]``
``occurrence_key``
    identifies the occurrence within the account (string). It depends only on
    the history, never on the window, so re-evaluating an overlapping window
    finds the same key again.
``evidence``
    a short plain-language sentence with the numbers, for people

**Edge triggers** (``usage_plateau``, ``single_threaded``, ``onboarding_stalled``,
``first_value_reached``, ``renewal_approaching``) fire on the day ``d`` a
condition holds on an account's ``account_signals`` row while it did not hold on
the row of ``d - 1 day``. Only rows dated ``[start - 1 day, end]`` are read, so a
window costs the same however long the history is. The previous row is the row
of the day before, not the account's latest earlier row: an account with no row
on ``d - 1`` (new, or back after a gap in activity) counts as "did not hold", so
the condition fires again on its first row after the gap. This keeps every
occurrence a function of two days of history, identical in every window that
contains the day.

Use :func:`occurrences` to evaluate a trigger, :func:`validate_params` to check a
playbook's parameters without a warehouse, and :data:`TRIGGERS` to list them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any

import ibis
import ibis.expr.types as ir

from helix.warehouse import Warehouse

__all__ = [
    "OCCURRENCE_COLUMNS",
    "OCCURRENCE_SCHEMA",
    "TriggerSpec",
    "TRIGGERS",
    "trigger",
    "trigger_names",
    "validate_params",
    "occurrences",
    "empty_occurrences",
    "period_starts",
]

OCCURRENCE_COLUMNS = ("account_id", "occurred_on", "occurrence_key", "evidence")
OCCURRENCE_SCHEMA = ibis.schema(
    {
        "account_id": "string",
        "occurred_on": "date",
        "occurrence_key": "string",
        "evidence": "string",
    }
)

TriggerFn = Callable[[Warehouse, date, date, Mapping[str, Any]], ir.Table]

COLORS = ("green", "yellow", "red")
NPS_KINDS = {"detractor": (0, 6), "passive": (7, 8), "promoter": (9, 10)}
LEAD_SIGNALS = ("seats_near_limit", "usage_near_limit", "adoption_spreading", "predicted_expansion")
PERIODS = ("month", "week")
MAX_COMMENT = 200  # characters of a survey comment quoted in evidence


@dataclass(frozen=True)
class TriggerSpec:
    """One trigger: its contract name, meaning, source tables, parameters and query."""

    name: str
    description: str  # plain language, for people
    tables: tuple[str, ...]  # warehouse tables it needs (absent: no occurrences)
    params: Mapping[str, Any]  # parameter names -> default values
    fn: TriggerFn  # (warehouse, start, end, validated params) -> occurrences

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON-ready data (without the query)."""
        return {
            "name": self.name,
            "description": self.description,
            "tables": list(self.tables),
            "params": {k: list(v) if isinstance(v, tuple) else v for k, v in self.params.items()},
        }


# --------------------------------------------------------------------------- text helpers
# Casting numbers to text differs between backends (DuckDB writes 40.0, PostgreSQL 40;
# PostgreSQL rounds halves to even), so numbers are formatted from integers here.


def _iso(d: ir.DateValue) -> ir.StringValue:
    """A date as ISO text (YYYY-MM-DD)."""
    return d.strftime("%Y-%m-%d")


def _grouped(n: ir.IntegerValue, groups: int) -> ir.StringValue:
    """A non-negative integer with thousands separators: 48000 -> '48,000'.

    Built from integer arithmetic, group by group: ``groups`` groups of three digits,
    the leading one unbounded (so ``groups=1`` gives plain digits), exact below 2**53.
    The SQL grows with ``groups``: callers ask for what their figures need.
    """
    n = n.cast("int64")
    text: ir.StringValue = ibis.literal("")
    for k in range(groups - 1, -1, -1):
        text = text + _group(n, k, top=k == groups - 1)
    return _unless_null(n, text)


def _group(n: ir.IntegerValue, k: int, *, top: bool) -> ir.StringValue:
    """Digits ``3k`` to ``3k + 2`` of ``n`` as shown in :func:`_grouped` ('' when above n)."""
    unit = 10 ** (3 * k)
    digits = n // unit if top else (n // unit) % 1000
    comma = "," if k else ""
    plain = ibis.ifelse((n >= unit) | (k == 0), digits.cast("string") + comma, "")
    if top:
        return plain
    return ibis.ifelse(n >= unit * 1000, _pad3(digits) + comma, plain)


def _pad3(g: ir.IntegerValue) -> ir.StringValue:
    """0 <= g < 1000 as three digits: 7 -> '007'."""
    return (g + 1000).cast("string").right(3)


def _number(x: ir.NumericValue, places: int = 1, *, groups: int = 1) -> ir.StringValue:
    """``x`` rounded half up to ``places`` decimals, trailing zeros dropped: 38.25 -> '38.3'.

    ``groups`` > 1 separates thousands (see :func:`_grouped`).
    """
    scale = 10**places
    scaled = (x.abs() * scale + 0.5).floor().cast("int64")
    whole_text = _grouped(scaled // scale, groups)
    sign = ibis.ifelse((x < 0) & (scaled > 0), "-", "")
    if not places:
        return _unless_null(x, sign + whole_text)
    frac = (scaled % scale).cast("string").lpad(places, "0").re_replace(r"0+$", "")
    return _unless_null(x, sign + whole_text + ibis.ifelse(frac == "", "", "." + frac))


def _cents(x: ir.NumericValue) -> ir.StringValue:
    """An amount with exactly two decimals and no separators: 99.5 -> '99.50' (for keys)."""
    scaled = (x.abs() * 100 + 0.5).floor().cast("int64")
    sign = ibis.ifelse((x < 0) & (scaled > 0), "-", "")
    text = sign + (scaled // 100).cast("string") + "." + (scaled % 100).cast("string").lpad(2, "0")
    return _unless_null(x, text)


def _money(x: ir.NumericValue) -> ir.StringValue:
    """An amount for people: 48000 -> '$48,000', 1200.5 -> '$1,200.50'."""
    scaled = (x.abs() * 100 + 0.5).floor().cast("int64")
    sign = ibis.ifelse((x < 0) & (scaled > 0), "-", "")
    frac = scaled % 100
    cents = ibis.ifelse(frac == 0, "", "." + frac.cast("string").lpad(2, "0"))
    return _unless_null(x, sign + "$" + _grouped(scaled // 100, 5) + cents)


def _plural(n: ir.NumericValue, word: str) -> ir.StringValue:
    """'1 contact', '3 contacts' (``n`` a whole number)."""
    return _unless_null(n, _number(n, 0) + " " + ibis.ifelse(n == 1, word, word + "s"))


def _opt(*parts: ir.StringValue | str) -> ir.StringValue:
    """The concatenation of ``parts``, or '' when any of them is null.

    Explicit, because null text does not propagate alike everywhere (Ibis compiles some
    string functions to DuckDB's CONCAT, which skips nulls).
    """
    text: ir.StringValue = ibis.literal("")
    missing: ir.BooleanValue = ibis.literal(False)
    for p in parts:
        text = text + p
        if not isinstance(p, str):
            missing = missing | p.isnull()
    return ibis.ifelse(missing, "", text)


def _unless_null(x: ir.Value, text: ir.StringValue) -> ir.StringValue:
    """``text``, or null where ``x`` is null (whatever the backend's concatenation does)."""
    return ibis.ifelse(x.isnull(), ibis.null("string"), text)


def _nonblank(s: ir.StringValue) -> ir.StringValue:
    """``s`` trimmed, with empty text as null."""
    return s.strip().nullif("")


def _shape(
    t: ir.Table,
    account_id: ir.Value,
    occurred_on: ir.Value,
    key: ir.Value,
    evidence: ir.Value,
) -> ir.Table:
    """Rows of ``t`` as occurrences, with the column types of :data:`OCCURRENCE_SCHEMA`."""
    return t.select(
        account_id=account_id.cast("string"),
        occurred_on=occurred_on.cast("date"),
        occurrence_key=key.cast("string"),
        evidence=evidence.cast("string"),
    )


def empty_occurrences() -> ir.Table:
    """A table with no occurrences and the occurrence schema."""
    return ibis.memtable(OCCURRENCE_SCHEMA.to_pyarrow().empty_table())


# --------------------------------------------------------------------------- edge triggers


def _edges(
    wh: Warehouse,
    start: date,
    end: date,
    held: Callable[[ir.Table], ir.BooleanValue],
    key: Callable[[ir.Table], ir.StringValue],
    evidence: Callable[[ir.Table], ir.StringValue],
) -> ir.Table:
    """Days in ``[start, end]`` when ``held`` is true on a row but not on the day before's.

    Only ``account_signals`` rows dated ``[start - 1 day, end]`` are read; a missing
    row on the day before counts as "did not hold" (see the module docstring).
    """
    t = wh.table("account_signals")
    now = t.filter(t.score_date.between(start, end))
    now = now.filter(held(now).fill_null(False))
    before = t.filter(t.score_date.between(start - timedelta(days=1), end - timedelta(days=1)))
    before = before.filter(held(before).fill_null(False))
    before = before.select(
        _acc=before.account_id, _next=(before.score_date + ibis.interval(days=1)).cast("date")
    )
    fired = now.anti_join(before, [now.account_id == before._acc, now.score_date == before._next])
    return _shape(fired, fired.account_id, fired.score_date, key(fired), evidence(fired))


def _edge_key(t: ir.Table) -> ir.StringValue:
    return _iso(t.score_date)


def _usage_plateau(wh: Warehouse, start: date, end: date, p: Mapping[str, Any]) -> ir.Table:
    def evidence(t: ir.Table) -> ir.StringValue:
        return (
            "usage plateaued: no new feature used in 90 days"
            + _opt(", ", _number(t.events_30, 0, groups=4), " events in the last 30 days")
            + _opt(" (", _number(t.usage_trend_30, 2), "x the 30 days before)")
        )

    return _edges(wh, start, end, lambda t: t.plateau == 1, _edge_key, evidence)


def _single_threaded(wh: Warehouse, start: date, end: date, p: Mapping[str, Any]) -> ir.Table:
    def evidence(t: ir.Table) -> ir.StringValue:
        n = t.engaged_contacts_90
        return (
            "single-threaded: "
            + ibis.ifelse(
                n.isnull(), "fewer than 2 contacts", _plural(n, "engaged contact")
            ).fill_null("")
            + " in the last 90 days"
        )

    return _edges(wh, start, end, lambda t: t.multi_threaded == 0, _edge_key, evidence)


def _onboarding_stalled(wh: Warehouse, start: date, end: date, p: Mapping[str, Any]) -> ir.Table:
    def evidence(t: ir.Table) -> ir.StringValue:
        return "onboarding stalled: first value moment not reached" + _opt(
            " after ", _plural(t.tenure_days, "day"), " as a customer"
        )

    return _edges(wh, start, end, lambda t: t.onboarding_stalled == 1, _edge_key, evidence)


def _first_value_reached(wh: Warehouse, start: date, end: date, p: Mapping[str, Any]) -> ir.Table:
    def evidence(t: ir.Table) -> ir.StringValue:
        return "first value moment reached" + _opt(" after ", _plural(t.time_to_value_days, "day"))

    return _edges(wh, start, end, lambda t: t.value_reached == 1, _edge_key, evidence)


def _renewal_date(t: ir.Table) -> ir.DateValue:
    days = t.days_to_renewal.cast("int64")
    return (t.score_date + days.as_interval("D")).cast("date")


def _renewal_approaching(wh: Warehouse, start: date, end: date, p: Mapping[str, Any]) -> ir.Table:
    days = int(p["days"])

    def held(t: ir.Table) -> ir.BooleanValue:
        return t.days_to_renewal.between(0, days)

    def key(t: ir.Table) -> ir.StringValue:
        return _iso(_renewal_date(t)) + f":{days}"

    def evidence(t: ir.Table) -> ir.StringValue:
        return (
            "renewal on "
            + _iso(_renewal_date(t))
            + " in "
            + _plural(t.days_to_renewal, "day")
            + _opt(", ARR ", _money(t.mrr * 12))
        )

    found = _edges(wh, start, end, held, key, evidence)
    return _long_terms(wh, found, int(p["min_term_days"]))


def _long_terms(wh: Warehouse, found: ir.Table, min_days: int) -> ir.Table:
    """Only renewals ending a committed term of at least ``min_days`` (the term starts at
    the earliest start of the subscriptions committed to that end date): a 30-day notice
    of a monthly term would fire every month."""
    if min_days <= 0 or not wh.has_table("subscriptions"):
        return found
    subs = wh.table("subscriptions")
    terms = subs.filter(subs.contract_end_date.notnull()).group_by(
        "account_id", "contract_end_date"
    ).aggregate(term_start=subs.start_date.min())
    renewal = found.occurrence_key.substr(0, 10).cast("date")
    tagged = found.mutate(renewal_on=renewal)
    j = tagged.join(terms, (tagged.account_id == terms.account_id)
                    & (tagged.renewal_on == terms.contract_end_date))
    long_enough = j.filter(j.renewal_on.delta(j.term_start, unit="day") >= min_days)
    return long_enough.select(*OCCURRENCE_COLUMNS)


# --------------------------------------------------------------------------- event triggers


def _driver(drivers: ir.StringValue, n: int) -> ir.StringValue:
    """The ``signal`` of the ``n``-th (1-based) item of a drivers JSON list, or null.

    Plain regular expressions (no JSON functions, no look-arounds) so that DuckDB
    and PostgreSQL read it alike; the items are flat objects written by helix.health.
    """
    pattern = r"^[^{]*" + r"\{[^}]*\}[^{]*" * (n - 1) + r'\{[^}]*"signal"\s*:\s*"([^"]+)"'
    return drivers.re_extract(pattern, 1).nullif("")


def _health_turned(wh: Warehouse, start: date, end: date, p: Mapping[str, Any]) -> ir.Table:
    t = wh.table("health_events")
    t = t.filter(t.event_date.between(start, end), t.to_color == p["color"])
    d1, d2, d3 = (_driver(t.drivers, n) for n in (1, 2, 3))
    drivers = _opt("; top drivers: ", d1) + _opt(", ", d2) + _opt(", ", d3)
    score, was = t.score.notnull(), t.from_color.notnull()
    details = (
        ibis.ifelse(score | was, " (", "")
        + _opt("score ", _number(t.score, 1))
        + ibis.ifelse(score & was, ", ", "")
        + _opt("was ", t.from_color)
        + ibis.ifelse(score | was, ")", "")
    )
    evidence = "health turned " + t.to_color + details + drivers
    return _shape(t, t.account_id, t.event_date, _iso(t.event_date), evidence)


def _champion_left(wh: Warehouse, start: date, end: date, p: Mapping[str, Any]) -> ir.Table:
    t = wh.table("account_signals")
    # champion_left_on < score_date (signals use data strictly before their date), so a
    # departure shows first in the next day's row: re-evaluate windows with some overlap
    t = t.filter(t.score_date >= start, t.champion_left_on.between(start, end))
    name = _nonblank(t.champion_left_name)
    key = _iso(t.champion_left_on) + ":" + t.champion_left_name.fill_null("")
    evidence = (
        ibis.ifelse(name.isnull(), "a champion", "champion " + name).fill_null("")
        + " left on "
        + _iso(t.champion_left_on)
    )
    return _shape(t, t.account_id, t.champion_left_on, key, evidence)


def _new_decision_maker(wh: Warehouse, start: date, end: date, p: Mapping[str, Any]) -> ir.Table:
    c = wh.table("contacts")
    c = c.filter(c.role == "decision_maker", c.started_at.between(start, end))
    who = _nonblank(c.name).fill_null("someone") + _opt(" (", _nonblank(c.title), ")")
    evidence = "new decision maker " + who + " started on " + _iso(c.started_at)
    return _shape(c, c.account_id, c.started_at, c.contact_id, evidence)


def _quoted(comment: ir.StringValue) -> ir.StringValue:
    """A comment in quotes, cut to :data:`MAX_COMMENT` characters."""
    text = _nonblank(comment)
    short = ibis.ifelse(text.length() > MAX_COMMENT, text.substr(0, MAX_COMMENT - 3) + "...", text)
    return _opt(': "', short, '"')


def _nps_response(wh: Warehouse, start: date, end: date, p: Mapping[str, Any]) -> ir.Table:
    low, high = NPS_KINDS[p["kind"]]
    s = wh.table("survey_responses")
    s = s.filter(
        s.survey.lower() == "nps",
        s.score.between(low, high),
        s.responded_at >= datetime.combine(start, time()),
        s.responded_at < datetime.combine(end + timedelta(days=1), time()),
    )
    who: ir.StringValue = ibis.literal("")
    if wh.has_table("contacts"):  # optional: the respondent's name
        c = wh.table("contacts")
        c = c.group_by(_cid=c.contact_id).aggregate(_cname=c.name.min())
        s = s.left_join(c, s.contact_id == c._cid)
        who = _opt(" from ", _nonblank(s._cname))
    evidence = "NPS " + s.score.cast("string") + who + _quoted(s.comment)
    return _shape(s, s.account_id, s.responded_at.date(), s.response_id, evidence)


def _expansion_lead(wh: Warehouse, start: date, end: date, p: Mapping[str, Any]) -> ir.Table:
    t = wh.table("expansion_leads")
    t = t.filter(
        t.signal.isin(list(p["signals"])),
        t.detected_on == t.first_detected_on,
        t.first_detected_on.between(start, end),
    )
    key = t.signal + ":" + _iso(t.first_detected_on)
    evidence = _nonblank(t.evidence).fill_null(
        "expansion lead (" + t.signal.replace("_", " ") + ")"
    )
    return _shape(t, t.account_id, t.first_detected_on, key, evidence)


def _payment_failed(wh: Warehouse, start: date, end: date, p: Mapping[str, Any]) -> ir.Table:
    t = wh.table("payments")
    t = t.filter(t.status == "failed", t.due_date.between(start, end))
    key = _iso(t.due_date) + ":" + _cents(t.amount).fill_null("")
    amount = _money(t.amount).fill_null("an unknown amount")
    evidence = "payment of " + amount + " due on " + _iso(t.due_date) + " failed"
    return _shape(t, t.account_id, t.due_date, key, evidence)


def _new_account(wh: Warehouse, start: date, end: date, p: Mapping[str, Any]) -> ir.Table:
    t = wh.table("account_summary")
    t = t.filter(t.customer_since.between(start, end))
    evidence = "new customer since " + _iso(t.customer_since) + _opt(" (ARR ", _money(t.arr), ")")
    return _shape(t, t.account_id, t.customer_since, ibis.literal("welcome"), evidence)


def period_starts(every: str, start: date, end: date) -> list[date]:
    """Starts of the periods within ``[start, end]``: 1sts of months, or Mondays."""
    if every == "week":
        first = start + timedelta(days=(7 - start.weekday()) % 7)
        return [first + timedelta(days=7 * i) for i in range((end - first).days // 7 + 1)]
    out = []
    d = start if start.day == 1 else _next_month(start)
    while d <= end:
        out.append(d)
        d = _next_month(d)
    return out


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def _schedule(wh: Warehouse, start: date, end: date, p: Mapping[str, Any]) -> ir.Table:
    every = p["every"]
    days = period_starts(every, start, end)
    if not days:
        return empty_occurrences()
    periods = ibis.memtable({"_day": days}, schema=ibis.schema({"_day": "date"}))
    # a customer on the period's first day: a signal row that day with MRR (not today's
    # active flag, which would enrol in past periods accounts that signed up since)
    s = wh.table("account_signals")
    s = s.filter(s.score_date.between(days[0], days[-1]) & (s.mrr > 0))
    j = s.join(periods, s.score_date == periods._day).select(
        "account_id", "_day", arr=s.mrr * 12)
    label = "monthly" if every == "month" else "weekly"
    evidence = f"scheduled {label} touch for " + _iso(j._day) + _opt(" (ARR ", _money(j.arr), ")")
    return _shape(j, j.account_id, j._day, f"{every}:" + _iso(j._day), evidence)


# --------------------------------------------------------------------------- parameters


def _check_color(v: Any) -> str:
    if v not in COLORS:
        raise ValueError(f"color must be one of {', '.join(COLORS)}, not {v!r}")
    return str(v)


def _check_days(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ValueError(f"days must be a positive whole number of days, not {v!r}")
    return v


def _check_kind(v: Any) -> str:
    if v not in NPS_KINDS:
        raise ValueError(f"kind must be one of {', '.join(NPS_KINDS)}, not {v!r}")
    return str(v)


def _check_signals(v: Any) -> tuple[str, ...]:
    items = [v] if isinstance(v, str) else v
    if not isinstance(items, list | tuple) or not items:
        known = ", ".join(LEAD_SIGNALS)
        raise ValueError(f"signals must be a non-empty list of {known}, not {v!r}")
    unknown = [s for s in items if s not in LEAD_SIGNALS]
    if unknown:
        raise ValueError(
            f"unknown expansion signal(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(LEAD_SIGNALS)}"
        )
    return tuple(dict.fromkeys(items))


def _check_every(v: Any) -> str:
    if v not in PERIODS:
        raise ValueError(f"every must be one of {', '.join(PERIODS)}, not {v!r}")
    return str(v)


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "color": _check_color,
    "days": _check_days,
    "min_term_days": lambda v: _check_days(v) if v != 0 else 0,
    "kind": _check_kind,
    "signals": _check_signals,
    "every": _check_every,
}
"""Validation and normalisation of each parameter name used by a trigger."""


# --------------------------------------------------------------------------- registry


def _spec(
    name: str, description: str, tables: tuple[str, ...], fn: TriggerFn, **params: Any
) -> TriggerSpec:
    return TriggerSpec(name, description, tables, MappingProxyType(params), fn)


_SIG = ("account_signals",)

TRIGGERS: dict[str, TriggerSpec] = {
    s.name: s
    for s in (
        _spec(
            "health_turned",
            "The health score changed colour to the given colour (green, yellow or red).",
            ("health_events",),
            _health_turned,
            color="red",
        ),
        _spec(
            "usage_plateau",
            "Usage started to plateau: no new feature in 90 days and usage not growing.",
            _SIG,
            _usage_plateau,
        ),
        _spec(
            "single_threaded",
            "The account became single-threaded: fewer than two contacts engaged in 90 days.",
            _SIG,
            _single_threaded,
        ),
        _spec(
            "champion_left",
            "A contact with the champion role left the account.",
            _SIG,
            _champion_left,
        ),
        _spec(
            "new_decision_maker",
            "A new decision maker started at the account.",
            ("contacts",),
            _new_decision_maker,
        ),
        _spec(
            "onboarding_stalled",
            "Onboarding stalled: the first value moment is still not reached after the "
            "stall threshold.",
            _SIG,
            _onboarding_stalled,
        ),
        _spec(
            "first_value_reached",
            "The account reached its first value moment.",
            _SIG,
            _first_value_reached,
        ),
        _spec(
            "nps_response",
            "An NPS answer of the given kind arrived: detractor (0-6), passive (7-8) or "
            "promoter (9-10).",
            ("survey_responses",),
            _nps_response,
            kind="detractor",
        ),
        _spec(
            "renewal_approaching",
            "A renewal came within the given number of days (of a committed term of at "
            "least min_term_days: monthly terms are not announced).",
            _SIG,
            _renewal_approaching,
            days=90,
            min_term_days=60,
        ),
        _spec(
            "expansion_lead",
            "A new expansion lead of the given signals was detected (start of its run).",
            ("expansion_leads",),
            _expansion_lead,
            signals=("seats_near_limit", "usage_near_limit"),
        ),
        _spec(
            "payment_failed",
            "A payment failed.",
            ("payments",),
            _payment_failed,
        ),
        _spec(
            "new_account",
            "The account became a customer (its first subscription started).",
            ("account_summary",),
            _new_account,
        ),
        _spec(
            "schedule",
            "A recurring date for every account that is a customer on it (MRR above zero): "
            "the 1st of each month or each Monday.",
            _SIG,
            _schedule,
            every="month",
        ),
    )
}
"""Every trigger by its contract name."""


def trigger_names() -> list[str]:
    """Names of all triggers."""
    return list(TRIGGERS)


def trigger(name: str) -> TriggerSpec:
    """The spec of trigger ``name``; ValueError listing the known names when unknown."""
    try:
        return TRIGGERS[name]
    except KeyError:
        raise ValueError(
            f"unknown trigger {name!r}; known triggers: {', '.join(TRIGGERS)}"
        ) from None


def validate_params(name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The parameters of trigger ``name``: ``params`` checked and normalised, defaults filled.

    Raises ValueError for an unknown trigger, an unknown parameter (naming the known
    ones) or a bad value.
    """
    spec = trigger(name)
    given = dict(params or {})
    unknown = [k for k in given if k not in spec.params]
    if unknown:
        known = ", ".join(spec.params) if spec.params else "none"
        raise ValueError(
            f"trigger {name!r} has no parameter {', '.join(map(repr, unknown))}; "
            f"its parameters: {known}"
        )
    values = {**spec.params, **given}
    try:
        return {k: _CHECKS[k](v) for k, v in values.items()}
    except ValueError as exc:
        raise ValueError(f"trigger {name!r}: {exc}") from None


def _check_window(start: date, end: date) -> None:
    for label, d in (("start", start), ("end", end)):
        if isinstance(d, datetime) or not isinstance(d, date):
            raise ValueError(f"{label} must be a date, not {d!r}")
    if start > end:
        raise ValueError(f"the window starts after it ends ({start} > {end})")


def occurrences(
    wh: Warehouse,
    name: str,
    start: date,
    end: date,
    params: Mapping[str, Any] | None = None,
) -> ir.Table:
    """Occurrences of trigger ``name`` with ``start <= occurred_on <= end``.

    Returns an Ibis table with exactly :data:`OCCURRENCE_COLUMNS`, one row per
    (account_id, occurrence_key). When a table the trigger needs is absent the
    result is empty (with the same schema).
    """
    values = validate_params(name, params)
    _check_window(start, end)
    spec = TRIGGERS[name]
    if not all(wh.has_table(t) for t in spec.tables):
        return empty_occurrences()
    t = spec.fn(wh, start, end, values)
    t = t.filter(
        t.occurred_on.between(start, end), t.account_id.notnull(), t.occurrence_key.notnull()
    )
    w = ibis.window(group_by=[t.account_id, t.occurrence_key], order_by=[t.occurred_on, t.evidence])
    t = t.mutate(_rn=ibis.row_number().over(w))
    return t.filter(t._rn == 0).select(*OCCURRENCE_COLUMNS)
