"""`helix metrics ...` (retention economics) and `helix simulate ...` (scenarios).

Each command calls one function of :mod:`helix.metrics` and prints its
result: a table for people, or one JSON document with ``--json``. Money in
JSON is a number with at most two decimals; rates are fractions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from helix.cli.main import settings_of
from helix.cli.output import JsonOpt, emit, err, out
from helix.errors import UserError
from helix.platform import Platform

metrics_app = typer.Typer(
    name="metrics",
    help="Retention economics: NRR, GRR, MRR ledger, cohorts, CLTV, benchmarks.",
    no_args_is_help=True,
)
simulate_app = typer.Typer(
    name="simulate",
    help="Scenarios: what retention is worth over the years and to CLTV.",
    no_args_is_help=True,
)



def _date_option(flag: str, help_text: str) -> Any:
    """A ``YYYY-MM-DD`` option."""
    return typer.Option(flag, formats=["%Y-%m-%d"], help=help_text)


AsOfOpt = Annotated[
    datetime | None,
    typer.Option(
        "--as-of", formats=["%Y-%m-%d"], help="Measure as of this date (default today, UTC)."
    ),
]
SegmentOpt = Annotated[
    str | None, typer.Option("--segment", help="Only accounts whose segment is this label.")
]
MonthsOpt = Annotated[
    int, typer.Option("--months", min=1, max=120, help="Months of history to measure churn over.")
]
GrossMarginOpt = Annotated[
    float | None, typer.Option("--gross-margin", help="Gross margin as a fraction (0.75).")
]
CacOpt = Annotated[
    float | None, typer.Option("--cac", help="Fully loaded cost to acquire a customer.")
]
CsmCostOpt = Annotated[
    float | None, typer.Option("--csm-cost", help="Annual fully loaded cost of one CSM.")
]
CsmHeadcountOpt = Annotated[
    int | None, typer.Option("--csm-headcount", min=0, help="Number of CSMs.")
]
DiscountOpt = Annotated[
    float | None,
    typer.Option("--discount-rate", help="Annual cost of capital as a fraction (0.10)."),
]
LifespanOpt = Annotated[
    float | None,
    typer.Option("--lifespan-years", help="Customer lifespan for simple CLTV (default: measured)."),
]


def register(app: typer.Typer) -> None:
    """Add the `metrics` and `simulate` command groups to ``app``."""
    app.add_typer(metrics_app, name="metrics")
    app.add_typer(simulate_app, name="simulate")


def today_utc() -> date:
    """Today's date in UTC (the default as-of date)."""
    return datetime.now(UTC).date()


def _day(value: datetime | None, default: date | None = None) -> date | None:
    return value.date() if value is not None else default


def _money(value: Any) -> str:
    return "-" if value is None else f"{float(value):,.2f}"


def _pct(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value * 100:.{digits}f}%"


# -- retention ----------------------------------------------------------------


def _window_table(title: str, windows: list[tuple[str, dict[str, Any]]]) -> Table:
    table = Table(title=title)
    table.add_column("")
    for name, _ in windows:
        table.add_column(name, justify="right", overflow="fold")
    rows: list[tuple[str, Any]] = [
        ("window", lambda w: f"{w['start']} .. {w['end']}"),
        ("accounts at start", lambda w: f"{w['accounts_start']:,}"),
        ("accounts churned", lambda w: f"{w['accounts_churned']:,}"),
        ("logo retention", lambda w: _pct(w["logo_retention"])),
        ("start MRR", lambda w: _money(w["start_mrr"])),
        ("churned MRR", lambda w: _money(w["churned_mrr"])),
        ("contraction MRR", lambda w: _money(w["contraction_mrr"])),
        ("expansion MRR", lambda w: _money(w["expansion_mrr"])),
        ("end MRR", lambda w: _money(w["end_mrr"])),
        ("new MRR (not in NRR)", lambda w: _money(w["new_mrr"])),
        ("GRR", lambda w: _pct(w["grr"])),
        ("NRR", lambda w: _pct(w["nrr"])),
    ]
    for kind in ("voluntary", "involuntary", "unknown", "downgrade"):
        rows.append((f"  churn: {kind}", lambda w, k=kind: _money(w["churn_by_type"][k])))
    for kind in ("seats", "tier", "cross_sell", "usage_price"):
        rows.append((f"  expansion: {kind}", lambda w, k=kind: _money(w["expansion_by_type"][k])))
    for label, fn in rows:
        table.add_row(label, *(fn(w) for _, w in windows))
    return table


def retention(
    ctx: typer.Context,
    start: Annotated[datetime | None, _date_option("--start", "Window start (YYYY-MM-DD).")] = None,
    end: Annotated[
        datetime | None, _date_option("--end", "Window end, exclusive (YYYY-MM-DD).")
    ] = None,
    segment: SegmentOpt = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Also per group: segment, owner, product or cohort.")
    ] = None,
    series: Annotated[
        str | None, typer.Option("--series", help="A series instead: monthly, quarterly or t12m.")
    ] = None,
    first: Annotated[datetime | None, _date_option("--from", "First period of the series.")] = None,
    last: Annotated[
        datetime | None, _date_option("--to", "Last period of the series (its start).")
    ] = None,
    detail: Annotated[
        bool, typer.Option("--detail", help="Add new vs reactivation, contraction by type, counts.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """NRR, GRR, logo retention and their composition over [start, end).

    The cohort is the accounts with MRR > 0 at START; new-logo MRR is shown
    apart and never enters NRR or GRR. Without --start/--end: the twelve
    months up to the first day of the current month.
    """
    from helix.metrics.periods import add_months, month_start
    from helix.metrics.retention import retention_by, retention_series, retention_window

    with Platform(settings_of(ctx)) as platform:
        wh = platform.warehouse
        if series is not None:
            if series not in ("monthly", "quarterly", "t12m"):
                raise UserError(f"unknown series {series!r}", hint="use monthly, quarterly or t12m")
            if by is not None:
                raise UserError("--by and --series cannot be combined")
            to_day = _day(last) or add_months(month_start(today_utc()), -1)
            from_day = _day(first) or add_months(to_day, -11)
            result = retention_series(wh, series, from_day, to_day, segment=segment)  # type: ignore[arg-type]
            doc = result.to_dict(detail)
            emit(
                doc,
                as_json,
                lambda d: out.print(
                    _window_table(f"retention, {series}", [(w["period"], w) for w in d["windows"]])
                ),
            )
            return
        end_day = _day(end) or month_start(today_utc())
        start_day = _day(start) or add_months(end_day, -12)
        if by is not None:
            grouped = retention_by(wh, start_day, end_day, by, segment=segment)  # type: ignore[arg-type]
            doc = grouped.to_dict(detail)
            windows = [("total", doc["total"]), *doc["groups"].items()]
            emit(doc, as_json, lambda d: out.print(_window_table(f"retention by {by}", windows)))
            return
        window = retention_window(wh, start_day, end_day, segment=segment)
        doc = window.to_dict(detail)
        emit(doc, as_json, lambda d: out.print(_window_table("retention", [("", d)])))


# -- ledger ---------------------------------------------------------------------


_LEDGER_COLS = (
    "start_mrr",
    "new_mrr",
    "reactivation_mrr",
    "expansion_mrr",
    "contraction_mrr",
    "churned_mrr",
    "end_mrr",
)


_SHORT = {
    "start_mrr": "start",
    "new_mrr": "new",
    "reactivation_mrr": "react.",
    "expansion_mrr": "exp.",
    "contraction_mrr": "contr.",
    "churned_mrr": "churn",
    "end_mrr": "end",
}


def _ledger_table(title: str, rows: list[dict[str, Any]], first_col: str) -> Table:
    table = Table(title=title)
    table.add_column(first_col, no_wrap=True)
    for col in _LEDGER_COLS:
        table.add_column(_SHORT[col], justify="right", overflow="fold")
    has_movement = bool(rows) and "movement" in rows[0]
    if has_movement:
        table.add_column("movement")
    for r in rows:
        first = r[first_col]
        label = f"{first:%Y-%m}" if isinstance(first, date) else str(first)
        if first_col == "month" and isinstance(first, str):
            label = first[:7]
        cells = [label, *(_money(r[c]) for c in _LEDGER_COLS)]
        if has_movement:
            kind = r["movement"] + (f" ({r['movement_type']})" if r.get("movement_type") else "")
            cells.append(kind)
        table.add_row(*cells)
    return table


def ledger(
    ctx: typer.Context,
    account_id: Annotated[
        str | None, typer.Argument(help="An account: its month-by-month ledger.")
    ] = None,
    as_of: AsOfOpt = None,
    start: Annotated[
        datetime | None, _date_option("--start", "An arbitrary window's start.")
    ] = None,
    end: Annotated[
        datetime | None, _date_option("--end", "An arbitrary window's end (exclusive).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The MRR movements ledger: start, new, reactivation, expansion, contraction, churn, end.

    With ACCOUNT_ID: that account's months. Without: the monthly roll-forward
    of all accounts. With --start and --end: each account's movement over that
    one window (only ACCOUNT_ID's when given). Computed from the subscriptions.
    """
    from helix.metrics.mrr import account_ledger, rollforward, window_ledger
    from helix.metrics.mrr import ledger as build

    with Platform(settings_of(ctx)) as platform:
        wh = platform.warehouse
        if (start is None) != (end is None):
            raise UserError("give both --start and --end for a window ledger")
        if start is not None and end is not None:
            rows = window_ledger(wh, start.date(), end.date(), account_id=account_id)
            doc: dict[str, Any] = {
                "start": start.date().isoformat(),
                "end": end.date().isoformat(),
                "account_id": account_id,
                "rows": rows,
            }
            emit(
                doc,
                as_json,
                lambda d: out.print(_ledger_table("window ledger", d["rows"], "account_id")),
            )
            return
        day = _day(as_of, today_utc())
        assert day is not None
        if account_id is not None:
            subs = wh.table("subscriptions")
            if not subs.filter(subs.account_id == account_id).count().execute():
                raise UserError(
                    f"account {account_id!r} has no subscriptions",
                    hint="check the id (ids are compared exactly)",
                )
            rows = account_ledger(wh, account_id, day)
            doc = {"account_id": account_id, "as_of": day.isoformat(), "months": rows}
            emit(
                doc,
                as_json,
                lambda d: out.print(_ledger_table(f"ledger of {account_id}", d["months"], "month")),
            )
            return
        months = rollforward(build(wh, day)).to_pyarrow().to_pylist()
        from helix.metrics.periods import cents

        for r in months:
            for c in _LEDGER_COLS:
                r[c] = cents(r[c])
        doc = {"as_of": day.isoformat(), "months": months}
        emit(
            doc,
            as_json,
            lambda d: out.print(_ledger_table("MRR roll-forward", d["months"], "month")),
        )


# -- cohorts ----------------------------------------------------------------------


def cohorts(
    ctx: typer.Context,
    by: Annotated[str, typer.Option("--by", help="Cohort period: month or quarter.")] = "quarter",
    measure: Annotated[str, typer.Option("--measure", help="logo, grr or nrr.")] = "grr",
    as_of: AsOfOpt = None,
    since: Annotated[
        datetime | None, _date_option("--since", "Only cohorts acquired from this date.")
    ] = None,
    segment: SegmentOpt = None,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Also draw the board chart to FILE (.png or .svg)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Retention by acquisition cohort: rows = cohorts, columns = months since start."""
    from helix.metrics.charts import cohort_chart
    from helix.metrics.cohorts import cohort_table

    day = _day(as_of, today_utc())
    assert day is not None
    with Platform(settings_of(ctx)) as platform:
        table = cohort_table(
            platform.warehouse,
            day,
            by=by,
            measure=measure,
            segment=segment,
            since=_day(since),  # type: ignore[arg-type]
        )
    doc = table.to_dict()
    if chart is not None:
        written = cohort_chart(table, chart)
        doc["chart"] = str(written)
        err.print(f"chart written to {written}")

    def render(d: dict[str, Any]) -> None:
        step = 1 if by == "month" else 3
        cols = [c for c in d["columns"] if c % step == 0]
        t = Table(title=f"{measure} by {by} cohort, as of {d['as_of']}")
        t.add_column("cohort")
        t.add_column("accounts", justify="right", overflow="fold")
        for c in cols:
            t.add_column(f"m{c}", justify="right", overflow="fold")
        for r in d["rows"]:
            vals = [_pct(r["values"][c], 0) if c < len(r["values"]) else "" for c in cols]
            t.add_row(r["cohort"], f"{r['accounts']:,}", *vals)
        out.print(t)

    emit(doc, as_json, render)


# -- unit economics and benchmarks ------------------------------------------------


def _inputs(platform: Platform, **overrides: Any) -> Any:
    """Economics inputs: organisation settings from the app store, then the command's flags."""
    from helix.metrics.unit_economics import SETTING_KEYS, EconomicsInputs
    from helix.store.settings import get_setting

    with platform.store.session() as session:
        stored = {key: get_setting(session, key) for key in SETTING_KEYS.values()}
    return EconomicsInputs.from_settings(stored).overridden(**overrides)


def _render_unit_economics(d: dict[str, Any]) -> None:
    t = Table(
        title=f"unit economics as of {d['as_of']} "
        f"(churn over {d['window']['start']} .. {d['window']['end']})"
    )
    t.add_column("")
    t.add_column("value", justify="right", overflow="fold")
    t.add_row("active accounts", f"{d['accounts']:,}")
    t.add_row("ARR", _money(d["arr"]))
    t.add_row("ARR per account", _money(d["arpa"]))
    t.add_row("annual churn rate (logos)", _pct(d["annual_churn_rate"]))
    t.add_row(
        f"lifespan, years ({d['lifespan_source']})",
        "-" if d["lifespan_years"] is None else f"{d['lifespan_years']:.2f}",
    )
    for method, value in d["cltv"].items():
        t.add_row(f"CLTV {method.replace('_', '-')}", _money(value))
    for method, value in d["ltv_cac"].items():
        t.add_row(f"LTV:CAC {method.replace('_', '-')}", "-" if value is None else f"{value:.2f}")
    t.add_row("cost-to-serve (% of ARR)", _pct(d["cost_to_serve"]))
    t.add_row("GRR / NRR", f"{_pct(d['grr'])} / {_pct(d['nrr'])}")
    out.print(t)
    s = Table(title="by segment")
    for col in ("segment", "accounts", "ARR", "CSMs", "accounts/CSM", "ARR/CSM"):
        s.add_column(col, justify="left" if col == "segment" else "right")
    for name, r in d["csm_ratios"]["by_segment"].items():
        apc = "-" if r["accounts_per_csm"] is None else f"{r['accounts_per_csm']:.1f}"
        s.add_row(
            name,
            f"{r['accounts']:,}",
            _money(r["arr"]),
            str(r["csms"]),
            apc,
            _money(r["arr_per_csm"]),
        )
    out.print(s)
    for note in d["notes"]:
        err.print(f"[yellow]note:[/yellow] {note}", highlight=False)


def unit_economics_cmd(
    ctx: typer.Context,
    as_of: AsOfOpt = None,
    months: MonthsOpt = 12,
    segment: SegmentOpt = None,
    gross_margin: GrossMarginOpt = None,
    cac: CacOpt = None,
    csm_cost: CsmCostOpt = None,
    csm_headcount: CsmHeadcountOpt = None,
    discount_rate: DiscountOpt = None,
    lifespan_years: LifespanOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """CLTV (simple, churn-based, discounted), LTV:CAC, ARR by segment, cost-to-serve, CSM ratios.

    Inputs come from the organisation settings (`helix metrics settings`);
    each flag overrides its setting for this command only.
    """
    from helix.metrics.unit_economics import unit_economics

    day = _day(as_of, today_utc())
    assert day is not None
    with Platform(settings_of(ctx)) as platform:
        inputs = _inputs(
            platform,
            gross_margin=gross_margin,
            cac=cac,
            csm_cost=csm_cost,
            csm_headcount=csm_headcount,
            discount_rate=discount_rate,
            lifespan_years=lifespan_years,
        )
        result = unit_economics(platform.warehouse, day, inputs, months=months, segment=segment)
    emit(result.to_dict(), as_json, _render_unit_economics)


def benchmark_cmd(
    ctx: typer.Context,
    as_of: AsOfOpt = None,
    months: MonthsOpt = 12,
    segment: SegmentOpt = None,
    csm_cost: CsmCostOpt = None,
    csm_headcount: CsmHeadcountOpt = None,
    ttv_days: Annotated[
        float | None, typer.Option("--ttv-days", help="Median time-to-value, if you know it.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Place NRR, GRR, expansion share, CSM ratios and cost-to-serve in the published bands."""
    from helix.metrics.benchmarks import benchmark

    day = _day(as_of, today_utc())
    assert day is not None
    with Platform(settings_of(ctx)) as platform:
        inputs = _inputs(platform, csm_cost=csm_cost, csm_headcount=csm_headcount)
        doc = benchmark(
            platform.warehouse,
            day,
            inputs,
            months=months,
            segment=segment,
            time_to_value_days=ttv_days,
        )

    def render(d: dict[str, Any]) -> None:
        t = Table(title=f"benchmarks, {d['window']['start']} .. {d['window']['end']}")
        for col in ("metric", "scale", "value", "level", "range"):
            t.add_column(col)
        for p in d["placements"]:
            value = p["value"]
            shown = (
                "-"
                if value is None
                else (
                    f"{value:.1f}" if p["metric"].startswith(("accounts", "time")) else _pct(value)
                )
            )
            t.add_row(
                p["metric"], p["kind"], shown, p["level"] or f"({p['note']})", p["range"] or ""
            )
        out.print(t)

    emit(doc, as_json, render)


def settings_cmd(
    ctx: typer.Context,
    gross_margin: GrossMarginOpt = None,
    cac: CacOpt = None,
    csm_cost: CsmCostOpt = None,
    csm_headcount: CsmHeadcountOpt = None,
    discount_rate: DiscountOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the economics settings, or set those given (stored in the app store, audited)."""
    from helix.cli.admin import cli_actor
    from helix.metrics.unit_economics import SETTING_KEYS, EconomicsInputs
    from helix.store.settings import get_setting, set_setting

    given = {
        "gross_margin": gross_margin,
        "cac": cac,
        "csm_cost": csm_cost,
        "csm_headcount": csm_headcount,
        "discount_rate": discount_rate,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    EconomicsInputs(**changes)  # validate before writing anything
    with Platform(settings_of(ctx)) as platform, platform.store.session() as session:
        for field, value in changes.items():
            set_setting(session, SETTING_KEYS[field], value, actor=cli_actor())
        doc = {key: get_setting(session, key) for key in SETTING_KEYS.values()}

    def render(d: dict[str, Any]) -> None:
        for key, value in d.items():
            out.print(f"{key} = {'(not set)' if value is None else value}", highlight=False)

    emit(doc, as_json, render)


# -- simulate -------------------------------------------------------------------------


def simulate_retention_cmd(
    start_arr: Annotated[float, typer.Option("--start-arr", help="ARR of both companies today.")],
    new_arr_per_year: Annotated[
        float, typer.Option("--new-arr-per-year", help="New-logo ARR each company adds per year.")
    ],
    grr: Annotated[float, typer.Option("--grr", help="Gross retention of company A (0.85).")],
    grr_b: Annotated[float, typer.Option("--grr-b", help="Gross retention of company B (0.93).")],
    years: Annotated[int, typer.Option("--years", min=1, max=50)] = 5,
    timing: Annotated[
        str, typer.Option("--timing", help="New ARR booked at each year's 'end' or 'start'.")
    ] = "end",
    as_json: JsonOpt = False,
) -> None:
    """Two companies equal but for gross retention: ARR year by year and the gap."""
    from helix.metrics.scenarios import simulate_retention

    result = simulate_retention(start_arr, new_arr_per_year, grr, grr_b, years, timing)  # type: ignore[arg-type]

    def render(d: dict[str, Any]) -> None:
        t = Table(title=f"ARR with GRR {_pct(d['grr_a'])} (A) vs {_pct(d['grr_b'])} (B)")
        for col in ("year", "A", "B", "B - A"):
            t.add_column(col, justify="right", overflow="fold")
        for r in d["table"]:
            t.add_row(
                str(r["year"]), _money(r["arr_a"]), _money(r["arr_b"]), _money(r["difference"])
            )
        out.print(t)

    emit(result.to_dict(), as_json, render)


def simulate_cltv_cmd(
    arpa: Annotated[float, typer.Option("--arpa", help="Annual revenue per customer.")],
    gross_margin: Annotated[float, typer.Option("--gross-margin", help="Gross margin (0.75).")],
    retention_rate: Annotated[
        float, typer.Option("--retention", help="Annual customer retention today (0.90).")
    ],
    points: Annotated[
        str, typer.Option("--points", help="Comma-separated retention points to add.")
    ] = "1,2,3,4,5",
    discount_rate: DiscountOpt = None,
    arr: Annotated[
        float | None, typer.Option("--arr", help="ARR base: what the points keep in year one.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """CLTV sensitivity: what N points of retention are worth."""
    from helix.metrics.scenarios import cltv_sensitivity

    try:
        steps = [float(p) for p in points.split(",") if p.strip()]
    except ValueError as exc:
        raise UserError(f"--points takes numbers separated by commas, not {points!r}") from exc
    result = cltv_sensitivity(
        arpa, gross_margin, retention_rate, steps, discount_rate=discount_rate, arr=arr
    )

    def render(d: dict[str, Any]) -> None:
        t = Table(title="CLTV sensitivity to retention (churn-based CLTV)")
        cols = ["points", "retention", "lifespan (y)", "CLTV", "change"]
        if d["discount_rate"] is not None:
            cols.append("discounted")
        if d["arr"] is not None:
            cols.append("ARR kept, year 1")
        for col in cols:
            t.add_column(col, justify="right", overflow="fold")
        for r in d["rows"]:
            cells = [
                f"+{r['points']:g}",
                _pct(r["retention"]),
                f"{r['lifespan_years']:.1f}",
                _money(r["cltv"]),
                _pct(r["cltv_change"]),
            ]
            if "discounted_cltv" in r:
                cells.append(_money(r["discounted_cltv"]))
            if "arr_kept_first_year" in r:
                cells.append(_money(r["arr_kept_first_year"]))
            t.add_row(*cells)
        out.print(t)

    emit(result.to_dict(), as_json, render)


metrics_app.command("retention")(retention)
metrics_app.command("ledger")(ledger)
metrics_app.command("cohorts")(cohorts)
metrics_app.command("unit-economics")(unit_economics_cmd)
metrics_app.command("cltv", hidden=True)(unit_economics_cmd)
metrics_app.command("benchmark")(benchmark_cmd)
metrics_app.command("settings")(settings_cmd)
simulate_app.command("retention")(simulate_retention_cmd)
simulate_app.command("cltv")(simulate_cltv_cmd)
