"""`helix health`: backtest, fit, explain, model and signals."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from helix.cli.main import settings_of
from helix.cli.output import JsonOpt, emit, err, out
from helix.platform import Platform

HorizonOpt = Annotated[
    int, typer.Option("--horizon-days", min=7, max=730, help="Churn within this many days after a score.")
]

health_app = typer.Typer(
    help="Customer health: backtest the score, learn weights from churn, explain a score.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the `health` command group to ``app`` (once; calling again changes nothing)."""
    if any(group.typer_instance is health_app for group in app.registered_groups):
        return
    app.add_typer(health_app, name="health")


def _pct(x: Any) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _render_backtest(d: dict[str, Any]) -> None:
    out.print(f"[bold]health backtest[/bold], model {d['model_version']}, {d['horizon_days']}-day churn")
    out.print(f"  observations {d['n_observations']:,} over {len(d['dates'])} scoring dates, "
              f"churn rate {_pct(d['base_rate'])}")
    out.print(f"  AUC {d['auc']}  (usage-only baseline {d['baseline_auc']})")
    out.print(f"  lowest-scored decile churns {d['top_decile_lift']}x the average")
    table = Table(title="churn by colour")
    for col in ("colour", "accounts x dates", "churn rate"):
        table.add_column(col)
    for color in ("green", "yellow", "red"):
        table.add_row(color, f"{d['counts_by_color'][color]:,}", _pct(d["churn_rate_by_color"][color]))
    out.print(table)
    if d["red_green_ratio"] is not None:
        out.print(f"  red churns at {d['red_green_ratio']:.1f}x the rate of green")
    if d["calibration"]:
        cal = Table(title="calibration: churn by score band")
        for col in ("score", "accounts x dates", "churn rate"):
            cal.add_column(col)
        for b in d["calibration"]:
            cal.add_row(b["band"], f"{b['n']:,}", _pct(b["churn_rate"]))
        out.print(cal)
    if d["by_segment"]:
        seg = Table(title="by segment")
        for col in ("segment", "n", "churn", "AUC", "baseline", "red", "green"):
            seg.add_column(col)
        for name, s in d["by_segment"].items():
            seg.add_row(name, f"{s['n_observations']:,}", _pct(s["churn_rate"]), str(s["auc"]),
                        str(s["baseline_auc"]), _pct(s["churn_rate_by_color"]["red"]),
                        _pct(s["churn_rate_by_color"]["green"]))
        out.print(seg)


@health_app.command("backtest")
def backtest_cmd(
    ctx: typer.Context,
    horizon_days: HorizonOpt = 90,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Also draw churn by colour and by score band to FILE (.png or .svg)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """How the active model's score ranked the accounts that churned within the horizon."""
    from helix.charting import chart_target
    from helix.health.charts import backtest_chart
    from helix.health.service import run_backtest

    if chart is not None:
        chart_target(chart)  # a wrong suffix fails before the work
    with Platform(settings_of(ctx)) as platform:
        result = run_backtest(platform, horizon_days).to_dict()
    if chart is not None:
        err.print(f"chart written to {backtest_chart(result, chart)}")
    emit(result, as_json, _render_backtest)


def _render_fit(d: dict[str, Any]) -> None:
    out.print(f"[bold]health fit[/bold]: {d['target']} within {d['horizon_days']} days")
    out.print(f"  fitted on {d['fit_dates'][0]}..{d['fit_dates'][1]} ({d['n_fit']:,} rows, "
              f"outcome rate {_pct(d['outcome_rate_fit'])})")
    out.print(f"  validated on {d['validation_dates'][0]}..{d['validation_dates'][1]} "
              f"({d['n_validation']:,} rows, outcome rate {_pct(d['outcome_rate_validation'])})")
    v = d["validation_auc"]
    out.print(f"  validation AUC: current {v['current']}, proposed {v['proposed']}, "
              f"regression {v['regression']}, naive usage baseline {v.get('baseline')}")
    groups = Table(title="group weights")
    for col in ("group", "current", "proposed"):
        groups.add_column(col)
    for g in d["groups"]:
        groups.add_row(g["group"], str(g["current_weight"]), str(g["proposed_weight"]))
    out.print(groups)
    table = Table(title="measures (most protective first)")
    for col in ("group", "signal", "current", "proposed", "coef", "AUC alone", "coverage"):
        table.add_column(col)
    for m in d["measures"]:
        table.add_row(m["group"], m["signal"], str(m["current_weight"]), str(m["proposed_weight"]),
                      str(m["coefficient"]), str(m["univariate_auc"]), _pct(m["coverage"]))
    out.print(table)
    c = d["colors"]
    out.print(f"  colours: green from {c['proposed']['green_from']} (now {c['current']['green_from']}), "
              f"red below {c['proposed']['red_below']} (now {c['current']['red_below']})")
    vc = d["validation_by_color"]
    out.print("  validation churn by proposed colour: "
              + ", ".join(f"{k} {_pct(v['rate'])} of {v['n']:,}" for k, v in vc.items()))
    if d["accepted"]:
        out.print(f"[green]accepted[/green]: the active model is now version {d['proposed_version']}")
    else:
        out.print("run again with --accept to make the proposal the active model")


@health_app.command("fit")
def fit_cmd(
    ctx: typer.Context,
    horizon_days: HorizonOpt = 90,
    target: Annotated[
        str, typer.Option("--target", help="churn, or churn_or_contraction.")
    ] = "churn",
    accept: Annotated[bool, typer.Option("--accept", help="Make the proposed weights the active model.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Learn measure and group weights from past churn and propose them next to the current ones.

    A regularised logistic regression on the measure points as of many past dates,
    fitted on the earlier dates and validated on the later ones.
    """
    from helix.health.service import run_fit

    if target not in ("churn", "churn_or_contraction"):
        raise typer.BadParameter("--target must be churn or churn_or_contraction")
    with Platform(settings_of(ctx)) as platform:
        report, accepted = run_fit(platform, horizon_days, target=target, accept=accept)  # type: ignore[arg-type]
    emit({**report.to_dict(), "accepted": accepted}, as_json, _render_fit)
    if accepted and not as_json:
        err.print("the next `helix run` scores new dates with the new version")


def _render_explain(d: dict[str, Any]) -> None:
    out.print(f"[bold]{d['account_id']}[/bold] on {d['score_date']}: "
              f"score {d['score']} ({d['color']}), model {d['model_version']}")
    if d["response"]:
        r = d["response"]
        out.print(f"  response: {r['owner_role']} - {r['action']} (within {r['deadline_days']} days)")
    table = Table(title="measures")
    for col in ("group", "signal", "value", "points", "weight", "adds to score"):
        table.add_column(col)
    for g in d["groups"]:
        table.add_row(f"[bold]{g['group']}[/bold]", f"group score {g['score']}", "", "", str(g["weight"]), "")
        for m in g["measures"]:
            value = "no data" if m["value"] is None else f"{m['value']:.3g}"
            pts = "missing" if m["points"] is None else str(m["points"])
            table.add_row("", m["signal"], value, pts, str(m["weight"]), str(m["score_points"]))
    out.print(table)
    if d["missing"]:
        out.print(f"  no data (weight redistributed): {', '.join(d['missing'])}")
    if d["compared_with"]:
        c = d["compared_with"]
        out.print(f"  since {c['score_date']} (score {c['score']}, {c['color']}):")
        for ch in d["changes"][:8]:
            out.print(f"    {ch['text']} (score {ch['score_delta']:+.1f})", highlight=False)
        if not d["changes"]:
            out.print("    nothing moved")


@health_app.command("explain")
def explain_cmd(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(help="The account to explain.")],
    on: Annotated[
        datetime | None,
        typer.Option("--date", formats=["%Y-%m-%d"], help="Explain the score of this date (default latest)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """One account's score: groups, measures with raw value, points and weight, and what changed."""
    from helix.health.service import explain_account

    with Platform(settings_of(ctx)) as platform:
        result = explain_account(platform, account_id, on.date() if on else None)
    emit(result, as_json, _render_explain)


@health_app.command("model")
def model_cmd(
    ctx: typer.Context,
    set_file: Annotated[
        Path | None, typer.Option("--set", exists=True, dir_okay=False, help="Activate the model in this YAML file.")
    ] = None,
    reset: Annotated[bool, typer.Option("--reset", help="Activate the shipped default model.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show the active health model (or activate one from YAML as a new version)."""
    from helix.health.service import model_info, set_model

    with Platform(settings_of(ctx)) as platform:
        if set_file is not None or reset:
            set_model(platform, set_file)
        info = model_info(platform)

    def render(d: dict[str, Any]) -> None:
        import yaml

        out.print(f"# health model version {d['version_id']}")
        out.print(yaml.safe_dump(d["model"], sort_keys=False), highlight=False)

    emit(info, as_json, render)


@health_app.command("signals")
def signals_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The signal registry: every signal, its meaning and unit, and whether its data is present."""
    from helix.health.service import signal_registry

    with Platform(settings_of(ctx)) as platform:
        rows = signal_registry(platform.warehouse)

    def render(data: list[dict[str, Any]]) -> None:
        table = Table(title="health signals")
        for col in ("group", "name", "unit", "available", "description"):
            table.add_column(col)
        for s in data:
            table.add_row(s["group"], s["name"], s["unit"], "yes" if s["available"] else "[red]no[/red]",
                          s["description"])
        out.print(table)

    emit(rows, as_json, render)


def _register_with_main() -> None:
    """`helix.cli.main` imports this module while registering its commands; join it then."""
    from helix.cli.main import app

    register(app)


_register_with_main()
