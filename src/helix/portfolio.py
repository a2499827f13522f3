"""The portfolio: which accounts a person sees, with their commercial state, health and risk.

Reads what `helix run` writes: ``account_summary`` (ARR, segment, renewal),
``health_recent`` (the latest colour and score, and the trend: a slice of the daily
``health_scores`` history) and the
``predictions`` of the active churn model (the latest churn probability). A CSM sees
their own book; leaders, admins and viewers see every account.

The `portfolio` stage of `helix run` writes those joined once, to
``portfolio_accounts``; the page reads it while it is current and joins live otherwise
(same rows).

The joins, filters and the sort run in the warehouse as one Ibis expression, and only
the rows of the page shown are fetched; the health trend and the open-task counts (app
store) are then read for those rows only. So the first page costs the same with 100
accounts as with 100,000.

Definitions (also in ``docs/web.md``):

* **churn risk** is the churn probability within :data:`CHURN_HORIZON_DAYS` days of the
  latest prediction: ``high`` from :data:`HIGH_RISK` (the renewal forecast's "likely"
  boundary, a renewal probability below 70%), ``medium`` from :data:`MEDIUM_RISK`, else
  ``low``; ``None`` when the account has no prediction (no model trained yet).
* **at risk this quarter**: the account's next renewal falls on or before the last day
  of the calendar quarter holding the data's as-of date, and it is red or yellow or its
  churn risk is high.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import ibis
import ibis.expr.types as ir

from helix.errors import UserError
from helix.health.history import RECENT_WEEKS
from helix.warehouse import Warehouse

__all__ = [
    "SORTS",
    "COLOURS",
    "RISKS",
    "HIGH_RISK",
    "MEDIUM_RISK",
    "CHURN_HORIZON_DAYS",
    "TREND_WEEKS",
    "AccountPage",
    "PortfolioFilter",
    "list_accounts",
    "iter_accounts",
    "portfolio_choices",
    "live_join",
    "latest_dates",
    "quarter_end",
    "risk_band",
    "CSV_COLUMNS",
]

CHURN_HORIZON_DAYS = 90
HIGH_RISK = 0.30
MEDIUM_RISK = 0.10
TREND_WEEKS = RECENT_WEEKS
"""The health trend shows the score every 7 days over this many weeks."""

COLOURS = ("red", "yellow", "green")
RISKS = ("high", "medium", "low")

# sort name -> the keys, in order: (column, descending). Every key sorts nulls last and
# account_id breaks ties, so the order is total and a cursor can resume it.
SORTS: dict[str, tuple[tuple[str, bool], ...]] = {
    "arr": (("arr", True),),
    "name": (("name", False),),
    "renewal": (("next_renewal", False),),
    "risk": (("churn_probability", True), ("health_score", False)),
    "health": (("health_score", False),),
    "last_activity": (("last_event_at", True),),
}

CSV_COLUMNS = (
    "account_id",
    "name",
    "segment",
    "tier",
    "owner_email",
    "arr",
    "mrr",
    "seats",
    "health_color",
    "health_score",
    "health_change",
    "churn_probability",
    "churn_risk",
    "next_renewal",
    "open_tasks",
    "customer_since",
    "last_event_at",
)


def risk_band(probability: float | None) -> str | None:
    """``high`` / ``medium`` / ``low`` for a churn probability (None without one)."""
    if probability is None:
        return None
    if probability >= HIGH_RISK:
        return "high"
    if probability >= MEDIUM_RISK:
        return "medium"
    return "low"


def quarter_end(day: date) -> date:
    """The last day of the calendar quarter holding ``day``."""
    first_month_next = 3 * ((day.month - 1) // 3) + 4
    if first_month_next > 12:
        return date(day.year, 12, 31)
    return date(day.year, first_month_next, 1) - timedelta(days=1)


@dataclass(frozen=True)
class PortfolioFilter:
    """What the caller asked to see. ``book_owner`` is not a choice: it is the CSM's own
    book, set from who is asking; ``owner`` is a leader's filter on one CSM."""

    book_owner: str | None = None
    owner: str | None = None
    query: str | None = None
    tier: str | None = None
    segment: str | None = None
    color: str | None = None
    risk: str | None = None
    at_risk: bool = False
    active_only: bool = True

    def __post_init__(self) -> None:
        if self.color is not None and self.color not in (*COLOURS, "none"):
            raise UserError(
                f"unknown health colour {self.color!r}", hint="red, yellow, green or none"
            )
        if self.risk is not None and self.risk not in (*RISKS, "none"):
            raise UserError(f"unknown churn risk {self.risk!r}", hint="high, medium, low or none")

    def fingerprint(self) -> str:
        """A short hash of the filter, carried in cursors so one cannot resume another list."""
        text = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class AccountPage:
    """One page of the portfolio; ``next_cursor`` resumes right after its last row."""

    items: list[dict[str, Any]]
    total: int
    offset: int
    limit: int
    sort: str = "arr"
    as_of: date | None = None
    quarter_end: date | None = None
    next_cursor: str | None = None
    health_date: date | None = None
    prediction_date: date | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def next_offset(self) -> int | None:
        """The offset of the next page, or None on the last page."""
        nxt = self.offset + self.limit
        return nxt if nxt < self.total else None

    def to_dict(self) -> dict[str, Any]:
        """The page as a JSON-ready document (dates as ISO strings)."""
        return {
            "items": [_jsonable(r) for r in self.items],
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "next_offset": self.next_offset,
            "next_cursor": self.next_cursor,
            "sort": self.sort,
            "as_of": _iso(self.as_of),
            "quarter_end": _iso(self.quarter_end),
            "health_date": _iso(self.health_date),
            "prediction_date": _iso(self.prediction_date),
        }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in row.items()}


# -- the expression ---------------------------------------------------------------------


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class _Base:
    expr: ir.Table | None  # None: only the dates were needed
    as_of: date | None
    health_date: date | None
    prediction_date: date | None


def _dates_of(base: _Base) -> tuple[date | None, date | None, date | None]:
    return base.as_of, base.health_date, base.prediction_date


def _churn(pr: ir.Table) -> ir.Table:
    return pr.filter((pr.target == "churn") & (pr.horizon_days == CHURN_HORIZON_DAYS))


def _health_table(wh: Warehouse) -> str | None:
    """Where the current health and its trend are read: ``health_recent`` (the slice of
    the history `helix run` keeps for this page), or the whole ``health_scores`` history
    of a warehouse whose health stage has not written that slice yet."""

    def where() -> str | None:
        if wh.has_table("health_recent"):

            def size() -> ir.Table:
                t = wh.table("health_recent")
                return t.aggregate(n=t.count())

            if wh.query("portfolio.recent_rows", size).column("n")[0].as_py():
                return "health_recent"
        return "health_scores" if wh.has_table("health_scores") else None

    return wh.memo("portfolio.health_table", where)  # type: ignore[no-any-return]


def _dates(wh: Warehouse) -> tuple[date | None, date | None, date | None]:
    """The as-of date of the last run and the latest health and churn-prediction dates,
    read in one query."""
    health, has_predictions = _health_table(wh), wh.has_table("predictions")

    def meta_of() -> ir.Table:
        summary = wh.table("account_summary")
        meta = summary.aggregate(as_of=summary.as_of.max())
        if health is not None:
            hs = wh.table(health)
            meta = meta.cross_join(hs.aggregate(health_date=hs.score_date.max()))
        if has_predictions:
            churn = _churn(wh.table("predictions"))
            meta = meta.cross_join(churn.aggregate(prediction_date=churn.score_date.max()))
        return meta

    key = f"portfolio.dates.{health}.{int(has_predictions)}"
    row = wh.memo(key, lambda: wh.query(key, meta_of).to_pylist()[0])
    return (
        _as_date(row["as_of"]),
        _as_date(row.get("health_date")),
        _as_date(row.get("prediction_date")),
    )


def _prejoined(wh: Warehouse) -> bool:
    """Whether ``portfolio_accounts`` holds what :func:`live_join` would give now: the
    portfolio stage of `helix run` ran on the present versions of its inputs (asked
    once per open warehouse, which no other process changes meanwhile)."""

    def current() -> bool:
        from helix.pipeline.runner import stage_is_current

        return wh.has_table("portfolio_accounts") and stage_is_current(wh, "portfolio")

    return bool(wh.memo("portfolio.prejoined", current))


def latest_dates(wh: Warehouse) -> tuple[date | None, date | None, date | None]:
    """The as-of date of the last run, and the latest health and churn-prediction dates."""
    return _dates(wh)


def _joined(
    wh: Warehouse, health_date: ir.Value | None, prediction_date: ir.Value | None
) -> ir.Table:
    """The rows the portfolio filters: ``portfolio_accounts`` when it is current (the
    dates are then those it was joined with, the latest ones), else the live join."""
    if _prejoined(wh):
        return wh.table("portfolio_accounts")
    return live_join(wh, health_date, prediction_date)


def live_join(
    wh: Warehouse, health_date: ir.Value | None, prediction_date: ir.Value | None
) -> ir.Table:
    """account_summary with the health and churn prediction of the given dates (null
    columns where there is no such date)."""
    t = wh.table("account_summary")
    health = _health_table(wh)
    if health_date is not None and health is not None:
        hs = wh.table(health)
        latest = hs.filter(hs.score_date == health_date).select(
            "account_id", health_score=hs.score, health_color=hs.color
        )
        t = t.left_join(latest, t.account_id == latest.account_id).select(
            t, latest.health_score, latest.health_color
        )
    else:
        t = t.mutate(health_score=ibis.null("float64"), health_color=ibis.null("string"))
    if prediction_date is not None:
        churn = _churn(wh.table("predictions"))
        latest_p = churn.filter(churn.score_date == prediction_date).select(
            "account_id", churn_probability=churn.probability
        )
        t = t.left_join(latest_p, t.account_id == latest_p.account_id).select(
            t, latest_p.churn_probability
        )
    else:
        t = t.mutate(churn_probability=ibis.null("float64"))
    return t


def _base(wh: Warehouse) -> _Base:
    """account_summary with the latest health and churn prediction of every account."""
    as_of, health_date, prediction_date = _dates(wh)
    return _Base(_joined(wh, health_date, prediction_date), as_of, health_date, prediction_date)


_TEXT_FILTERS = ("book_owner", "owner", "query", "tier", "segment")
"""The filters whose values are bound as query parameters (the rest shape the query)."""


def _first_page(
    wh: Warehouse, base: _Base, f: PortfolioFilter, sort: str, limit: int, offset: int
) -> list[dict[str, Any]]:
    """The rows of a page without a cursor (``limit + 1`` of them, with ``_total``):
    compiled once per shape, the filter values and dates bound as parameters."""
    params: dict[str, Any] = {
        k: v
        for k in _TEXT_FILTERS
        if (v := getattr(f, k)) is not None and (k == "book_owner" or v != "")
    }
    prejoined = _prejoined(wh)
    if base.health_date is not None and not prejoined:
        params["health_date"] = base.health_date
    if base.prediction_date is not None and not prejoined:
        params["prediction_date"] = base.prediction_date
    fixed = replace(f, **{k: None for k in _TEXT_FILTERS})

    def page(**p: Any) -> ir.Table:
        symbolic = replace(fixed, **{k: p[k] for k in _TEXT_FILTERS if k in p})
        joined = (
            wh.table("portfolio_accounts")
            if prejoined
            else live_join(wh, p.get("health_date"), p.get("prediction_date"))
        )
        t = _filtered(_Base(joined, base.as_of, None, None), symbolic)
        counted = t.mutate(_total=t.account_id.count().over(ibis.window()))  # total, same query
        return counted.order_by(_order(counted, sort)).limit(limit + 1, offset=offset)

    source = "prejoined" if prejoined else _health_table(wh)
    shape = f"{fixed.fingerprint()}.{sorted(params)}.{sort}.{limit}.{offset}.{base.as_of}.{source}"
    return wh.query(f"portfolio.page.{shape}", page, **params).to_pylist()


def _given(value: Any) -> bool:
    """A filter value was given (an Ibis parameter always is; an empty string is not)."""
    return value is not None and not (isinstance(value, str) and not value)


def _filtered(base: _Base, f: PortfolioFilter) -> ir.Table:
    assert base.expr is not None
    t = base.expr
    if f.book_owner is not None:
        t = t.filter(t.owner_email.lower() == f.book_owner.lower())
    if _given(f.owner):
        t = t.filter(t.owner_email.lower() == f.owner.lower())
    if f.active_only:
        t = t.filter(t.active == 1)
    if _given(f.tier):
        t = t.filter(t.tier == f.tier)
    if _given(f.segment):
        t = t.filter(t.segment == f.segment)
    if _given(f.query):
        needle = f.query.lower()
        t = t.filter(t.name.lower().contains(needle) | t.account_id.lower().contains(needle))
    if f.color == "none":
        t = t.filter(t.health_color.isnull())
    elif f.color:
        t = t.filter(t.health_color == f.color)
    p = t.churn_probability
    if f.risk == "high":
        t = t.filter(p >= HIGH_RISK)
    elif f.risk == "medium":
        t = t.filter((p >= MEDIUM_RISK) & (p < HIGH_RISK))
    elif f.risk == "low":
        t = t.filter(p < MEDIUM_RISK)
    elif f.risk == "none":
        t = t.filter(p.isnull())
    if f.at_risk:
        if base.as_of is None:
            return t.filter(ibis.literal(False))
        end = quarter_end(base.as_of)
        t = t.filter(
            t.next_renewal.notnull()
            & (t.next_renewal <= end)
            & (t.health_color.isin(["red", "yellow"]) | (p >= HIGH_RISK)).fill_null(False)
        )
    return t


def _order(t: ir.Table, sort: str) -> list[Any]:
    keys: list[Any] = []
    for column, descending in SORTS[sort]:
        keys.append(t[column].isnull())  # nulls last, whatever the direction
        keys.append(ibis.desc(t[column]) if descending else ibis.asc(t[column]))
    keys.append(ibis.asc(t.account_id))
    return keys


def _after(t: ir.Table, sort: str, values: list[Any], last_id: str) -> ir.BooleanValue:
    """Rows strictly after (``values``, ``last_id``) in the order of ``sort`` (keyset)."""
    keys = SORTS[sort]
    clauses: list[ir.BooleanValue] = []
    equal: ir.BooleanValue = ibis.literal(True)
    for (column, descending), value in zip(keys, values, strict=True):
        col = t[column]
        if value is not None:
            beyond = (col < value) if descending else (col > value)
            clauses.append(equal & (beyond.fill_null(False) | col.isnull()))
            equal = equal & (col == value).fill_null(False)
        else:  # nulls are last: nothing comes after a null except other nulls
            equal = equal & col.isnull()
    clauses.append(equal & (t.account_id > last_id))
    out = clauses[0]
    for c in clauses[1:]:
        out = out | c
    return out


# -- cursors ----------------------------------------------------------------------------


def _encode_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"d": str(value)}
    if isinstance(value, datetime):
        return {"ts": value.isoformat()}
    if isinstance(value, date):
        return {"t": value.isoformat()}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "d" in value:
            return Decimal(value["d"])
        if "ts" in value:
            return datetime.fromisoformat(value["ts"])
        if "t" in value:
            return date.fromisoformat(value["t"])
        raise ValueError("unknown cursor value")
    if value is None or isinstance(value, str | int | float):
        return value
    raise ValueError("unknown cursor value")


def encode_cursor(sort: str, fingerprint: str, row: dict[str, Any]) -> str:
    """An opaque cursor that resumes the list right after ``row``."""
    doc = {
        "s": sort,
        "f": fingerprint,
        "v": [_encode_value(row[c]) for c, _ in SORTS[sort]],
        "id": row["account_id"],
    }
    raw = json.dumps(doc, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str, fingerprint: str) -> tuple[list[Any], str]:
    """The sort values and account id a cursor points after; a clear error if it is not
    a cursor of this list (other sort, other filters, or garbled)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        doc = json.loads(raw)
        values = [_decode_value(v) for v in doc["v"]]
        last_id = doc["id"]
        if not isinstance(last_id, str) or doc.get("s") not in SORTS:
            raise ValueError
    except (
        ValueError,
        KeyError,
        TypeError,
        binascii.Error,
        InvalidOperation,
        UnicodeDecodeError,
    ) as exc:
        raise UserError(
            "the cursor is not valid", hint="use the next_cursor of a previous page"
        ) from exc
    if doc["s"] != sort or len(values) != len(SORTS[sort]):
        raise UserError(
            "the cursor belongs to another sort order",
            hint=f"send sort={doc['s']} with it, or start again without a cursor",
        )
    if doc.get("f") != fingerprint:
        raise UserError(
            "the cursor belongs to other filters",
            hint="send the same filters as for the first page, or start again",
        )
    return values, last_id


# -- the page ---------------------------------------------------------------------------


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    for money in ("mrr", "arr"):
        if row.get(money) is not None:
            row[money] = round(float(row[money]), 2)
    if row.get("seats") is not None:
        row["seats"] = float(row["seats"])
    if row.get("health_score") is not None:
        row["health_score"] = round(float(row["health_score"]), 1)
    if row.get("churn_probability") is not None:
        row["churn_probability"] = round(float(row["churn_probability"]), 4)
    row["churn_risk"] = risk_band(row.get("churn_probability"))
    return row


def _trends(wh: Warehouse, ids: list[str], latest: date | None) -> dict[str, list[dict[str, Any]]]:
    """Each account's health score every 7 days over :data:`TREND_WEEKS` weeks, oldest first."""
    if latest is None or not ids:
        return {}
    start = latest - timedelta(days=7 * TREND_WEEKS)

    health = _health_table(wh)
    if health is None:
        return {}

    def points(start: Any, latest: Any, **wanted: Any) -> ir.Table:
        hs = wh.table(health)
        mine = hs.account_id.isin(list(wanted.values()))
        return hs.filter(mine & (hs.score_date >= start) & (hs.score_date <= latest)).select(
            "account_id", "score_date", "score", "color"
        )

    wanted = {f"id{i}": a for i, a in enumerate(ids)}
    rows = wh.query(
        f"portfolio.trends.{health}.{len(ids)}", points, start=start, latest=latest, **wanted
    ).to_pylist()
    rows = [r for r in rows if (latest - _as_date(r["score_date"])).days % 7 == 0]  # type: ignore[operator]
    rows.sort(key=lambda r: (r["account_id"], r["score_date"]))
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r["account_id"], []).append(
            {
                "date": _as_date(r["score_date"]).isoformat(),
                "score": round(float(r["score"]), 1) if r["score"] is not None else None,
                "color": r["color"],
            }
        )
    return out


def _decorate(
    wh: Warehouse,
    rows: list[dict[str, Any]],
    base: _Base,
    open_tasks: dict[str, int] | None,
    *,
    trends: bool = True,
) -> None:
    ids = [r["account_id"] for r in rows]
    trend = _trends(wh, ids, base.health_date) if trends else {}
    for r in rows:
        _clean(r)
        points = trend.get(r["account_id"], [])
        r["health_trend"] = points
        first = points[0]["score"] if len(points) > 1 else None
        r["health_change"] = (
            round(r["health_score"] - first, 1)
            if first is not None and r.get("health_score") is not None
            else None
        )
        if open_tasks is not None:
            r["open_tasks"] = open_tasks.get(r["account_id"], 0)


OpenTasks = Callable[[list[str] | None], dict[str, int]]
"""Open-task counts of the given account ids (of every account with None)."""


def list_accounts(
    wh: Warehouse,
    *,
    owner_email: str | None = None,
    owner: str | None = None,
    query: str | None = None,
    tier: str | None = None,
    segment: str | None = None,
    color: str | None = None,
    risk: str | None = None,
    at_risk: bool = False,
    active_only: bool = True,
    sort: str = "arr",
    offset: int = 0,
    limit: int = 50,
    cursor: str | None = None,
    open_tasks: OpenTasks | None = None,
) -> AccountPage:
    """A page of accounts from the latest `helix run`, filtered and sorted.

    ``owner_email`` limits the list to one CSM's book (the caller's own); ``owner`` is a
    filter a leader chooses. With ``cursor`` (a previous page's ``next_cursor``) the page
    starts right after that page's last row and ``offset`` is ignored. ``open_tasks``,
    given a list of account ids, returns their open-task counts (the app store's).
    """
    if sort not in SORTS:
        raise UserError(f"unknown sort {sort!r}", hint=", ".join(SORTS))
    if limit < 1 or offset < 0:
        raise UserError("limit must be at least 1 and offset at least 0")
    f = PortfolioFilter(
        book_owner=owner_email,
        owner=owner,
        query=query or None,
        tier=tier or None,
        segment=segment or None,
        color=color or None,
        risk=risk or None,
        at_risk=at_risk,
        active_only=active_only,
    )
    as_of, health_date, prediction_date = _dates(wh)
    base = _Base(None, as_of, health_date, prediction_date)  # the expression when needed

    def filtered() -> ir.Table:
        return _filtered(_Base(_joined(wh, health_date, prediction_date), *_dates_of(base)), f)

    if cursor:
        t = filtered()
        values, last_id = decode_cursor(cursor, sort, f.fingerprint())
        counted = t.mutate(_total=t.account_id.count().over(ibis.window()))  # total, same query
        page_expr = counted.filter(_after(counted, sort, values, last_id))
        offset = 0
        rows = wh.run(page_expr.order_by(_order(page_expr, sort)).limit(limit + 1)).to_pylist()
    else:
        rows = _first_page(wh, base, f, sort, limit, offset)
    # past the end (or nothing matches), the total is counted on its own
    total = int(rows[0]["_total"]) if rows else int(wh.run(filtered().count()))
    for r in rows:
        del r["_total"]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(sort, f.fingerprint(), rows[-1]) if more and rows else None
    counts = open_tasks([r["account_id"] for r in rows]) if open_tasks is not None else None
    _decorate(wh, rows, base, counts)
    return AccountPage(
        items=rows,
        total=total,
        offset=offset,
        limit=limit,
        sort=sort,
        as_of=base.as_of,
        quarter_end=quarter_end(base.as_of) if base.as_of else None,
        next_cursor=next_cursor,
        health_date=base.health_date,
        prediction_date=base.prediction_date,
    )


def iter_accounts(
    wh: Warehouse,
    *,
    filters: PortfolioFilter,
    sort: str = "arr",
    open_tasks: OpenTasks | None = None,
    batch: int = 5000,
) -> Iterator[dict[str, Any]]:
    """Every account of the filtered list in ``sort`` order (for the CSV export), fetched
    ``batch`` rows at a time by keyset, without the per-row health trend."""
    if sort not in SORTS:
        raise UserError(f"unknown sort {sort!r}", hint=", ".join(SORTS))
    base = _base(wh)
    t = _filtered(base, filters)
    counts = open_tasks(None) if open_tasks is not None else None
    after: tuple[list[Any], str] | None = None
    while True:
        q = t.filter(_after(t, sort, *after)) if after else t
        rows = wh.run(q.order_by(_order(q, sort)).limit(batch)).to_pylist()
        if not rows:
            return
        after = ([rows[-1][c] for c, _ in SORTS[sort]], rows[-1]["account_id"])
        _decorate(wh, rows, base, counts, trends=False)
        for r in rows:
            r["health_change"] = None
            yield r
        if len(rows) < batch:
            return


def portfolio_choices(wh: Warehouse, book_owner: str | None = None) -> dict[str, list[str]]:
    """The segments, tiers and owners present (for the filter menus), in the caller's book."""

    def present(column: str) -> Callable[..., ir.Table]:
        def values(**p: Any) -> ir.Table:
            t = wh.table("account_summary")
            if "owner" in p:
                t = t.filter(t.owner_email.lower() == p["owner"].lower())
            return t.select(column).distinct()

        return values

    params = {"owner": book_owner} if book_owner is not None else {}

    def choices() -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for column in ("segment", "tier", "owner_email"):
            got = wh.query(f"portfolio.choices.{column}.{bool(params)}", present(column), **params)
            out[column] = sorted(v for v in got[column].to_pylist() if v)
        return out

    got: dict[str, list[str]] = wh.memo(f"portfolio.choices.{book_owner!r}", choices)
    return {k: list(v) for k, v in got.items()}  # the caller's own copy

