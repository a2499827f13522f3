"""`helix forecast`: the renewal forecast, its historical accuracy, and overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from helix.cli.admin import cli_actor
from helix.cli.main import settings_of
from helix.cli.output import JsonOpt, emit, out
from helix.platform import Platform

forecast_app = typer.Typer(
    help="Forecast renewals by bucket, and check past forecasts against what renewed.",
    no_args_is_help=True,
)

DateOpt = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"])]


def register(app: typer.Typer) -> None:
    """Add the `forecast` command group to ``app``."""
    app.add_typer(forecast_app, name="forecast")


def _money(x: Any) -> str:
    return "-" if x is None else f"{float(x):,.0f}"


def _pct(x: Any) -> str:
    return "-" if x is None else f"{100 * float(x):.0f}%"


def _render_renewals(d: dict[str, Any]) -> None:
    lo, hi = d["interval_90"]
    out.print(
        f"[bold]renewals {d['from']} .. {d['to']}[/bold] (as of {d['as_of']}): "
        f"{d['renewals']} renewals, ARR {_money(d['arr'])}, expected {_money(d['expected_arr'])} "
        f"(90% interval {_money(lo)} - {_money(hi)})"
    )
    t = Table(title="by bucket")
    for col in ("bucket", "renewals", "ARR", "probability", "expected ARR", "history"):
        t.add_column(col)
    for name, b in d["buckets"].items():
        c = d["calibration"][name]
        t.add_row(
            name,
            str(b["renewals"]),
            _money(b["arr"]),
            _pct(c["probability"]),
            _money(b["expected_arr"]),
            f"{c['renewed']}/{c['observed']} renewed",
        )
    out.print(t)
    items = Table(title="renewals")
    for col in ("date", "account", "owner", "ARR", "health", "model", "bucket", "expected"):
        items.add_column(col)
    for r in d["items"][:200]:
        health = "-" if r["health_score"] is None else f"{r['health_score']:.0f} {r['color']}"
        bucket = r["bucket"] + (" (override)" if r["override_reason"] else "")
        items.add_row(
            r["renewal_date"],
            r["name"] or r["account_id"],
            r["owner_email"] or "-",
            _money(r["arr"]),
            health,
            _pct(r["model_probability"]),
            bucket,
            _money(r["expected_arr"]),
        )
    out.print(items)


@forecast_app.command("renewals")
def renewals_cmd(
    ctx: typer.Context,
    start: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day.")],
    end: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day.")],
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="Default: the last `helix run`."),
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only this CSM's book.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every renewal in the period with its bucket, probability and expected ARR."""
    from helix.predict.service import forecast_renewals

    with Platform(settings_of(ctx)) as platform:
        result = forecast_renewals(
            platform,
            start.date(),
            end.date(),
            as_of=as_of.date() if as_of else None,
            owner=owner,
        )
    emit(result, as_json, _render_renewals)


def _render_accuracy(d: dict[str, Any]) -> None:
    o = d["overall"]
    out.print(
        f"[bold]forecast accuracy[/bold] as of {d['as_of']}: {o['renewals']} past renewals, "
        f"each judged by the forecast made {d['lead_days']}+ days before it "
        f"({d['snapshots']} snapshots stored)"
    )
    t = Table()
    for col in (
        "",
        "renewals",
        "forecast rate",
        "actual rate",
        "forecast ARR",
        "renewed ARR",
        "error",
    ):
        t.add_column(col)
    rows = [("overall", o), *d["buckets"].items(), *((q["quarter"], q) for q in d["quarters"])]
    for name, b in rows:
        err = "-" if b["error_pct"] is None else f"{b['error_pct']:+.1f}%"
        t.add_row(
            name,
            str(b["renewals"]),
            _pct(b["forecast_rate"]),
            _pct(b["actual_rate"]),
            _money(b["forecast_arr"]),
            _money(b["renewed_arr"]),
            err,
        )
    out.print(t)
    cal = ", ".join(f"{k} {_pct(v['probability'])}" for k, v in d["recalibrated"].items())
    out.print(f"  bucket probabilities recalibrated from this history: {cal}")


@forecast_app.command("accuracy")
def accuracy_cmd(
    ctx: typer.Context,
    start: Annotated[
        datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="Renewals from.")
    ] = None,
    end: Annotated[
        datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Renewals up to.")
    ] = None,
    lead_days: Annotated[
        int | None,
        typer.Option("--lead-days", min=0, max=365, help="Judge the forecast made this early."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Past forecasts against what actually renewed: per bucket, per quarter, overall."""
    from helix.predict.service import forecast_accuracy

    with Platform(settings_of(ctx)) as platform:
        result = forecast_accuracy(
            platform,
            start=start.date() if start else None,
            end=end.date() if end else None,
            lead_days=lead_days,
        )
    emit(result, as_json, _render_accuracy)


@forecast_app.command("override")
def override_cmd(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(help="The account renewing.")],
    renewal_date: Annotated[
        datetime, typer.Option("--renewal-date", formats=["%Y-%m-%d"], help="Its renewal date.")
    ],
    bucket: Annotated[
        str, typer.Option("--bucket", help="committed, likely, at_risk or critical.")
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why (required, kept in the audit log).")],
    as_json: JsonOpt = False,
) -> None:
    """Put one renewal in a bucket by hand, with the reason."""
    from helix.predict.service import record_override

    with Platform(settings_of(ctx)) as platform:
        row = record_override(
            platform, account_id, renewal_date.date(), bucket, reason, cli_actor()
        )
    emit(
        row, as_json, lambda r: out.print(f"override {r['id']}: {r['account_id']} -> {r['bucket']}")
    )
