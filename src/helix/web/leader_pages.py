"""The CS leader's pages: Renewals, Metrics and Health (server-rendered, Jinja2 + HTMX).

Each page shows what the matching CLI command and API route compute, through the same
library calls (`helix forecast renewals`, `helix metrics retention|cohorts|benchmark`,
`helix health model|backtest|fit`), and draws each chart from a Vega-Lite spec embedded
in the page, next to a table holding the same numbers.

* ``GET /renewals``: the renewals of the next months by month (or week) and by bucket,
  with the weighted total; ``POST /renewals/override`` puts one in a bucket, with a
  reason (anyone who may write; a CSM for the accounts of their book only).
* ``GET /metrics``: NRR/GRR/logo retention series, churn and expansion composition,
  cohorts and benchmark bands, for a chosen series, range and segment.
* ``GET /health``: the active model, its backtest (``GET /health/backtest`` fills it in
  once computed), and the stored weight proposal; leaders and admins compute a proposal
  (``POST /health/proposal``) and accept it (``POST /health/proposal/accept``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from helix.api.deps import PlatformDep, Principal, get_warehouse
from helix.api.problems import Problem
from helix.api.routes.health import can_manage_health
from helix.errors import UserError
from helix.web.pages import _csrf, _form_caller, _signed_in, templates

router = APIRouter(include_in_schema=False)

BUCKET_COLOURS = {"committed": "#12b76a", "likely": "#7cd4a3", "at_risk": "#f79009",
                  "critical": "#d92d20"}
HORIZONS = (3, 6, 9, 12)




def _page(
    request: Request, name: str, who: Principal, status_code: int = 200, **context: Any
) -> Response:
    return templates.TemplateResponse(request, name, {
        "who": who, "csrf": _csrf(request), "charts": True, **context}, status_code=status_code)


def _message(text: str) -> str:
    from urllib.parse import quote

    return quote(text[:180])


# -- renewals ---------------------------------------------------------------------------


def _period_key(day: date, by: str) -> tuple[str, date]:
    if by == "week":
        monday = day - timedelta(days=day.weekday())
        return f"week of {monday.isoformat()}", monday
    first = day.replace(day=1)
    return first.strftime("%Y-%m"), first


def renewal_calendar(items: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """The renewals grouped by month (or ISO week): count, ARR and expected ARR per bucket."""
    periods: dict[date, dict[str, Any]] = {}
    for r in items:
        label, start = _period_key(date.fromisoformat(r["renewal_date"]), by)
        p = periods.setdefault(start, {"label": label, "start": start, "renewals": [],
                                       "arr": 0.0, "expected_arr": 0.0,
                                       "by_bucket": defaultdict(float)})
        p["renewals"].append(r)
        p["arr"] += float(r["arr"] or 0)
        p["expected_arr"] += float(r["expected_arr"] or 0)
        p["by_bucket"][r["bucket"]] += float(r["arr"] or 0)
    return [periods[k] for k in sorted(periods)]


def renewals_chart(calendar: list[dict[str, Any]]) -> dict[str, Any]:
    """Stacked bars: renewing ARR per period, coloured by bucket."""
    values = [{"period": p["label"], "bucket": b, "arr": round(v, 2)}
              for p in calendar for b, v in p["by_bucket"].items()]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": "container", "height": 220,
        "data": {"values": values},
        "mark": "bar",
        "encoding": {
            "x": {"field": "period", "type": "ordinal", "sort": None, "title": None},
            "y": {"field": "arr", "type": "quantitative", "title": "ARR renewing", "stack": True},
            "color": {"field": "bucket", "type": "nominal",
                      "scale": {"domain": list(BUCKET_COLOURS),
                                "range": list(BUCKET_COLOURS.values())}},
            "tooltip": [{"field": "period"}, {"field": "bucket"},
                        {"field": "arr", "format": ",.0f"}],
        },
    }


def _owner_of(wh: Any, account_id: str) -> str | None:
    t = wh.table("account_summary")
    rows = t.filter(t.account_id == account_id).select("owner_email").to_pyarrow().to_pylist()
    return rows[0]["owner_email"] if rows else None


@router.get("/renewals", response_class=HTMLResponse)
def renewals_page(
    request: Request,
    platform: PlatformDep,
    months: Annotated[int, Query(ge=1, le=24)] = 9,
    by: Annotated[str, Query(pattern="^(month|week)$")] = "month",
    message: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The renewals of the next ``months`` months, by bucket and by period."""
    from helix.metrics.periods import add_months
    from helix.predict.forecast import BUCKETS
    from helix.predict.service import data_as_of, forecast_renewals

    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    for wh in get_warehouse(platform):
        as_of = data_as_of(wh)
        end = add_months(as_of, months)
        doc = forecast_renewals(platform, as_of, end, owner=who.book_owner)
    calendar = renewal_calendar(doc["items"], by)
    return _page(request, "renewals.html", who, doc=doc, calendar=calendar, by=by,
                 months=months, horizons=HORIZONS, buckets=BUCKETS, message=message,
                 chart=renewals_chart(calendar), can_override=who.can_write)


@router.post("/renewals/override")
def renewal_override_form(
    request: Request,
    platform: PlatformDep,
    account_id: Annotated[str, Form(min_length=1, max_length=255)],
    renewal_date: Annotated[date, Form()],
    bucket: Annotated[str, Form(pattern="^(committed|likely|at_risk|critical)$")],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    csrf: Annotated[str, Form()],
) -> Response:
    """Put one renewal in a bucket, with a reason (a CSM: accounts of their book only)."""
    from helix.predict.service import record_override

    who = _form_caller(request, platform, csrf, lambda p: p.can_write,
                       "this account may not change the forecast")
    if who is None:
        return RedirectResponse("/login", status_code=303)
    for wh in get_warehouse(platform):
        if who.book_owner is not None:
            owner = _owner_of(wh, account_id)
            if (owner or "").lower() != who.book_owner.lower():
                raise Problem(403, "Forbidden", f"account {account_id!r} is not in your book")
        record_override(platform, account_id, renewal_date, bucket, reason, who.name)
    text = f"{account_id} renewing {renewal_date.isoformat()} is now {bucket}"
    return RedirectResponse(f"/renewals?message={_message(text)}", status_code=303)


# -- metrics ----------------------------------------------------------------------------


def _f(x: Any) -> float | None:
    return None if x is None else float(x)


def retention_chart(windows: list[dict[str, Any]], bands: dict[str, list[float]]) -> dict[str, Any]:
    """NRR, GRR and logo retention per period, with the benchmark band edges as rules."""
    values = [{"period": w["period"], "measure": m, "value": _f(w[k])}
              for w in windows for m, k in (("NRR", "nrr"), ("GRR", "grr"),
                                            ("logo retention", "logo_retention"))]
    rules = [{"measure": m, "edge": e} for m, edges in bands.items() for e in edges]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": "container", "height": 240,
        "layer": [
            {"data": {"values": rules},
             "mark": {"type": "rule", "strokeDash": [4, 4], "opacity": .5},
             "encoding": {"y": {"field": "edge", "type": "quantitative"},
                          "color": {"field": "measure", "type": "nominal"}}},
            {"data": {"values": values}, "mark": {"type": "line", "point": True},
             "encoding": {
                 "x": {"field": "period", "type": "ordinal", "sort": None, "title": None},
                 "y": {"field": "value", "type": "quantitative", "axis": {"format": "%"},
                       "scale": {"zero": False}, "title": None},
                 "color": {"field": "measure", "type": "nominal"},
                 "tooltip": [{"field": "period"}, {"field": "measure"},
                             {"field": "value", "format": ".1%"}]}},
        ],
    }


COMPOSITION = (
    ("churn: voluntary", "churn_by_type", "voluntary", -1),
    ("churn: involuntary", "churn_by_type", "involuntary", -1),
    ("churn: unknown", "churn_by_type", "unknown", -1),
    ("downgrade", "churn_by_type", "downgrade", -1),
    ("expansion: seats", "expansion_by_type", "seats", 1),
    ("expansion: tier", "expansion_by_type", "tier", 1),
    ("expansion: cross-sell", "expansion_by_type", "cross_sell", 1),
    ("expansion: usage price", "expansion_by_type", "usage_price", 1),
)


def composition_chart(windows: list[dict[str, Any]]) -> dict[str, Any]:
    """Diverging stacked bars: MRR lost (churn kinds, downgrade) below zero, expansion above."""
    values = [{"period": w["period"], "kind": label, "mrr": sign * float(w[group][key])}
              for w in windows for label, group, key, sign in COMPOSITION]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": "container", "height": 240,
        "data": {"values": values},
        "mark": "bar",
        "encoding": {
            "x": {"field": "period", "type": "ordinal", "sort": None, "title": None},
            "y": {"field": "mrr", "type": "quantitative", "title": "MRR", "stack": True},
            "color": {"field": "kind", "type": "nominal", "sort": [c[0] for c in COMPOSITION]},
            "tooltip": [{"field": "period"}, {"field": "kind"}, {"field": "mrr", "format": ",.2f"}],
        },
    }


def cohort_chart(table: dict[str, Any]) -> dict[str, Any]:
    """A heat map: cohorts down, months since the baseline across."""
    values = [{"cohort": r["cohort"], "month": k, "value": v}
              for r in table["rows"] for k, v in enumerate(r["values"]) if v is not None]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": "container", "height": {"step": 22},
        "data": {"values": values},
        "mark": "rect",
        "encoding": {
            "x": {"field": "month", "type": "ordinal", "title": "months since start"},
            "y": {"field": "cohort", "type": "ordinal", "title": None},
            "color": {"field": "value", "type": "quantitative", "legend": {"format": "%"},
                      "scale": {"scheme": "blues"}},
            "tooltip": [{"field": "cohort"}, {"field": "month"},
                        {"field": "value", "format": ".1%"}],
        },
    }


def _band_edges() -> dict[str, list[float]]:
    from helix.metrics.benchmarks import SCALES

    return {name: list(SCALES[(metric, "band")].bounds)
            for name, metric in (("NRR", "nrr"), ("GRR", "grr"))}


def metrics_view(
    wh: Any, platform: Any, *, series: str, first: date, last: date, segment: str | None,
    cohort_by: str, cohort_measure: str, as_of: date,
) -> dict[str, Any]:
    """Everything the metrics page shows, from the library calls behind `helix metrics`."""
    from helix.metrics import EconomicsInputs, benchmark, cohort_table, retention_series
    from helix.metrics.unit_economics import SETTING_KEYS
    from helix.store.settings import get_setting

    doc = retention_series(wh, series, first, last, segment=segment).to_dict()  # type: ignore[arg-type]
    cohorts = cohort_table(wh, as_of, by=cohort_by, measure=cohort_measure,  # type: ignore[arg-type]
                           segment=segment).to_dict()
    with platform.store.session() as session:
        stored = {key: get_setting(session, key) for key in SETTING_KEYS.values()}
    bench = benchmark(wh, as_of, EconomicsInputs.from_settings(stored), segment=segment)
    return {"series": doc, "cohorts": cohorts, "benchmark": bench,
            "retention_chart": retention_chart(doc["windows"], _band_edges()),
            "composition_chart": composition_chart(doc["windows"]),
            "cohort_chart": cohort_chart(cohorts), "composition": COMPOSITION}


@router.get("/metrics", response_class=HTMLResponse)
def metrics_page(
    request: Request,
    platform: PlatformDep,
    series: Annotated[str, Query(pattern="^(monthly|quarterly|t12m)$")] = "monthly",
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
    segment: Annotated[str | None, Query(max_length=100)] = None,
    cohort_by: Annotated[str, Query(pattern="^(month|quarter)$")] = "quarter",
    cohort_measure: Annotated[str, Query(pattern="^(logo|grr|nrr)$")] = "grr",
) -> Response:
    """Retention economics for the chosen series and range (default: the last 12 months
    of data, as `helix metrics retention --series monthly` measures them)."""
    from helix.metrics.periods import add_months, month_start
    from helix.predict.service import data_as_of

    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    segment = segment or None
    error = None
    for wh in get_warehouse(platform):
        as_of = data_as_of(wh)
        to_day = last or add_months(month_start(as_of), -1)
        from_day = first or add_months(to_day, -11)
        try:
            view = metrics_view(wh, platform, series=series, first=from_day, last=to_day,
                                segment=segment, cohort_by=cohort_by,
                                cohort_measure=cohort_measure, as_of=as_of)
        except UserError as exc:
            view, error = None, exc.for_people()
    return _page(request, "metrics.html", who, view=view, error=error, series=series,
                 first=from_day, last=to_day, segment=segment or "", cohort_by=cohort_by,
                 cohort_measure=cohort_measure, as_of=as_of,
                 status_code=400 if error else 200)


# -- health -----------------------------------------------------------------------------


def backtest_chart(doc: dict[str, Any]) -> dict[str, Any]:
    """Churn rate by colour and by score band (the calibration of the score)."""
    colours = [{"label": c, "rate": doc["churn_rate_by_color"].get(c), "kind": "by colour"}
               for c in ("green", "yellow", "red")]
    bands = [{"label": b["band"], "rate": b["churn_rate"], "kind": "by score band"}
             for b in doc.get("calibration") or []]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "hconcat": [
            {"width": 200, "height": 200, "title": "churn by colour",
             "data": {"values": colours}, "mark": "bar",
             "encoding": {
                 "x": {"field": "label", "type": "nominal", "sort": None, "title": None},
                 "y": {"field": "rate", "type": "quantitative", "axis": {"format": "%"},
                       "title": f"churn within {doc['horizon_days']} days"},
                 "color": {"field": "label", "type": "nominal", "legend": None,
                           "scale": {"domain": ["green", "yellow", "red"],
                                     "range": ["#12b76a", "#fdb022", "#d92d20"]}}}},
            {"width": 360, "height": 200, "title": "churn by score band",
             "data": {"values": bands}, "mark": "bar",
             "encoding": {
                 "x": {"field": "label", "type": "ordinal", "sort": None, "title": "score"},
                 "y": {"field": "rate", "type": "quantitative", "axis": {"format": "%"},
                       "title": None}}},
        ],
    }


def weights_chart(report: dict[str, Any]) -> dict[str, Any]:
    """Current against proposed group weights."""
    values = [{"group": g["group"], "weights": kind, "weight": g[key]}
              for g in report["groups"]
              for kind, key in (("current", "current_weight"), ("proposed", "proposed_weight"))]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": "container", "height": 200,
        "data": {"values": values}, "mark": "bar",
        "encoding": {
            "y": {"field": "group", "type": "nominal", "title": None},
            "yOffset": {"field": "weights"},
            "x": {"field": "weight", "type": "quantitative", "title": "group weight"},
            "color": {"field": "weights", "type": "nominal"},
        },
    }


@router.get("/health", response_class=HTMLResponse)
def health_page(
    request: Request,
    platform: PlatformDep,
    message: Annotated[str | None, Query(max_length=200)] = None,
    horizon_days: Annotated[int, Query(ge=7, le=730)] = 90,
) -> Response:
    """The active model, its backtest (loaded after the page) and the weight proposal."""
    from helix.health.proposal import get_proposal
    from helix.health.service import model_info

    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    info = model_info(platform)
    proposal = get_proposal(platform)
    return _page(request, "health.html", who, info=info, proposal=proposal, message=message,
                 horizon_days=horizon_days, can_manage=can_manage_health(who),
                 weights_chart=weights_chart(proposal["report"]) if proposal else None)


@router.get("/health/backtest", response_class=HTMLResponse)
def health_backtest_fragment(
    request: Request,
    platform: PlatformDep,
    horizon_days: Annotated[int, Query(ge=7, le=730)] = 90,
) -> Response:
    """The backtest panel (HTMX swaps it in: computing it may take a while)."""
    from helix.health.service import run_backtest

    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    error, doc = None, None
    for _ in get_warehouse(platform):
        try:
            doc = run_backtest(platform, horizon_days).to_dict()
        except UserError as exc:
            error = exc.for_people()
    return templates.TemplateResponse(request, "health_backtest.html", {
        "doc": doc, "error": error, "chart": backtest_chart(doc) if doc else None})


@router.post("/health/proposal")
def health_propose_form(
    request: Request,
    platform: PlatformDep,
    csrf: Annotated[str, Form()],
    horizon_days: Annotated[int, Form(ge=7, le=730)] = 90,
    target: Annotated[str, Form(pattern="^(churn|churn_or_contraction)$")] = "churn",
) -> Response:
    """Fit the weights again (as `helix health fit`) and store the proposal."""
    from helix.health.proposal import propose

    who = _form_caller(request, platform, csrf, can_manage_health,
                       "only leaders and admins may change the health model")
    if who is None:
        return RedirectResponse("/login", status_code=303)
    try:
        for _ in get_warehouse(platform):
            propose(platform, horizon_days, target=target, actor=who.name)  # type: ignore[arg-type]
    except UserError as exc:
        return RedirectResponse(f"/health?message={_message(exc.message)}", status_code=303)
    return RedirectResponse("/health?message=New+proposal+computed", status_code=303)


@router.post("/health/proposal/accept")
def health_accept_form(
    request: Request, platform: PlatformDep, csrf: Annotated[str, Form()]
) -> Response:
    """Make the stored proposal the active model, as `helix health fit --accept` does."""
    from helix.health.proposal import accept_proposal

    who = _form_caller(request, platform, csrf, can_manage_health,
                       "only leaders and admins may change the health model")
    if who is None:
        return RedirectResponse("/login", status_code=303)
    try:
        for _ in get_warehouse(platform):
            new = accept_proposal(platform, actor=who.name)
    except UserError as exc:
        return RedirectResponse(f"/health?message={_message(exc.message)}", status_code=303)
    text = f"Model {new['version_id']} is active; the next helix run scores with it"
    return RedirectResponse(f"/health?message={_message(text)}", status_code=303)
