"""`helix predict`: churn, expansion and contraction predictions and their backtest."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from helix.cli.main import settings_of
from helix.cli.output import emit, out
from helix.platform import Platform
from helix.predict.training import TARGETS

predict_app = typer.Typer(help="Predict churn, expansion and contraction; backtest honestly.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the `predict` command group to ``app`` (once)."""
    if any(group.typer_instance is predict_app for group in app.registered_groups):
        return
    app.add_typer(predict_app, name="predict")


def _f(x: Any) -> str:
    return "-" if x is None else f"{x:.3f}"


def _render(d: dict[str, Any]) -> None:
    out.print(f"[bold]predict backtest[/bold]: {d['target']} within {d['horizon_days']} days, "
              f"test dates {', '.join(d['test_dates'])}")
    out.print(f"  trained on {d['n_train']:,} rows (last origin), tested on {d['n_test']:,}, "
              f"base rate {100 * d['base_rate']:.1f}%")
    table = Table(title="test figures")
    for col in ("model", "AUC", "PR-AUC", "top-decile lift", "Brier", "ECE"):
        table.add_column(col)
    table.add_row("chosen, calibrated", _f(d["auc"]), _f(d["pr_auc"]), _f(d["top_decile_lift"]),
                  _f(d["brier"]), _f(d["ece"]))
    for name, c in d["candidates"].items():
        table.add_row(name, _f(c["auc"]), _f(c["pr_auc"]), _f(c["top_decile_lift"]), _f(c["brier"]), _f(c["ece"]))
    h = d["health_score"]
    table.add_row("health score alone", _f(h["auc"]), _f(h["pr_auc"]), _f(h["top_decile_lift"]), "-", "-")
    out.print(table)
    rel = Table(title="reliability: predicted vs observed")
    for col in ("predicted", "rows", "mean predicted", "observed"):
        rel.add_column(col)
    for r in d["reliability"]:
        rel.add_row(f"{r['low']:.1f}-{r['high']:.1f}", f"{r['n']:,}", _f(r["mean_predicted"]), _f(r["observed_rate"]))
    out.print(rel)
    for o in d["origins"]:
        cands = ", ".join(f"{n} {_f(c['validation_auc'])}" for n, c in o["candidates"].items())
        out.print(f"  {o['test_date']}: chose {o['active']} (validation AUC {cands}), calibration {o['calibration']}")


@predict_app.command("backtest")
def backtest_cmd(
    ctx: typer.Context,
    target: Annotated[str, typer.Option("--target", help=f"One of: {', '.join(TARGETS)}.")] = "churn",
    horizon_days: Annotated[
        int, typer.Option("--horizon-days", min=7, max=730, help="Outcome within this many days.")
    ] = 90,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Train on earlier observation dates, test on later ones, and report the figures."""
    from helix.errors import UserError
    from helix.predict import run_backtest

    if target not in TARGETS:
        raise UserError(f"--target must be one of {', '.join(TARGETS)}, not {target!r}")
    with Platform(settings_of(ctx)) as platform:
        result = run_backtest(platform, target, horizon_days)  # type: ignore[arg-type]
    emit(result, as_json, _render)
