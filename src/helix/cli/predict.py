"""`helix predict`: churn, expansion and contraction predictions and their backtest."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from helix.cli.main import settings_of
from helix.cli.output import JsonOpt, emit, out
from helix.cli.output import figure as _f
from helix.platform import Platform
from helix.predict.training import TARGETS

predict_app = typer.Typer(
    help="Predict churn, expansion and contraction; backtest honestly.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add the `predict` command group (with `predict survival`) to ``app``."""
    from helix.cli import survival

    survival.register(predict_app)
    app.add_typer(predict_app, name="predict")


def _render(d: dict[str, Any]) -> None:
    out.print(
        f"[bold]predict backtest[/bold]: {d['target']} within {d['horizon_days']} days, "
        f"test dates {', '.join(d['test_dates'])}"
    )
    out.print(
        f"  trained on {d['n_train']:,} rows (last origin), tested on {d['n_test']:,}, "
        f"base rate {100 * d['base_rate']:.1f}%"
    )
    table = Table(title="test figures")
    for col in ("model", "AUC", "PR-AUC", "top-decile lift", "Brier", "ECE"):
        table.add_column(col)
    table.add_row(
        "chosen, calibrated",
        _f(d["auc"]),
        _f(d["pr_auc"]),
        _f(d["top_decile_lift"]),
        _f(d["brier"]),
        _f(d["ece"]),
    )
    for name, c in d["candidates"].items():
        table.add_row(
            name,
            _f(c["auc"]),
            _f(c["pr_auc"]),
            _f(c["top_decile_lift"]),
            _f(c["brier"]),
            _f(c["ece"]),
        )
    h = d["health_score"]
    table.add_row(
        "health score alone", _f(h["auc"]), _f(h["pr_auc"]), _f(h["top_decile_lift"]), "-", "-"
    )
    out.print(table)
    rel = Table(title="reliability: predicted vs observed")
    for col in ("predicted", "rows", "mean predicted", "observed"):
        rel.add_column(col)
    for r in d["reliability"]:
        rel.add_row(
            f"{r['low']:.1f}-{r['high']:.1f}",
            f"{r['n']:,}",
            _f(r["mean_predicted"]),
            _f(r["observed_rate"]),
        )
    out.print(rel)
    for o in d["origins"]:
        cands = ", ".join(f"{n} {_f(c['validation_auc'])}" for n, c in o["candidates"].items())
        out.print(
            f"  {o['test_date']}: chose {o['active']} (validation AUC {cands}), "
            f"calibration {o['calibration']}"
        )


@predict_app.command("backtest")
def backtest_cmd(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Option("--target", help=f"One of: {', '.join(TARGETS)}.")
    ] = "churn",
    horizon_days: Annotated[
        int, typer.Option("--horizon-days", min=7, max=730, help="Outcome within this many days.")
    ] = 90,
    as_json: JsonOpt = False,
) -> None:
    """Train on earlier observation dates, test on later ones, and report the figures."""
    from helix.predict.service import run_backtest

    _check_target(target)
    with Platform(settings_of(ctx)) as platform:
        result = run_backtest(platform, target, horizon_days)  # type: ignore[arg-type]
    emit(result, as_json, _render)


TargetOpt = Annotated[str, typer.Option("--target", help=f"One of: {', '.join(TARGETS)}.")]
HorizonOpt = Annotated[
    int, typer.Option("--horizon-days", min=7, max=730, help="Outcome within this many days.")
]


def _check_target(target: str) -> None:
    from helix.errors import UserError

    if target not in TARGETS:
        raise UserError(f"--target must be one of {', '.join(TARGETS)}, not {target!r}")


def _render_model(d: dict[str, Any]) -> None:
    b = d.get("backtest") or {}
    out.print(
        f"[bold]{d['target']} within {d['horizon_days']} days[/bold], version {d['version']}"
        f"{' (active)' if d['active'] else ''}: {d['candidate']}, calibration {d['calibration']}"
    )
    out.print(
        f"  trained {d['trained_at']} on {d['n_rows']:,} observations "
        f"{d['data_from']}..{d['data_to']}"
    )
    if b:
        out.print(
            f"  backtest AUC {_f(b.get('auc'))} (baseline {_f(b.get('baseline_auc'))}, "
            f"health score {_f(b.get('health_score_auc'))}), ECE {_f(b.get('ece'))}"
        )


@predict_app.command("train")
def train_cmd(
    ctx: typer.Context,
    target: TargetOpt = "churn",
    horizon_days: HorizonOpt = 90,
    no_backtest: Annotated[
        bool, typer.Option("--no-backtest", help="Skip the backtest (faster).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Train on every labelled observation, backtest, and register a new active version."""
    from helix.predict.service import run_train

    _check_target(target)
    with Platform(settings_of(ctx)) as platform:
        info = run_train(platform, target, horizon_days, with_backtest=not no_backtest)  # type: ignore[arg-type]
    emit(info, as_json, _render_model)
    if not as_json:
        out.print("  `helix run` now scores every account with it")


@predict_app.command("models")
def models_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every registered model version, with its backtest figures."""
    from helix.predict.registry import list_models

    models = [m.to_dict() for m in list_models(settings_of(ctx).home)]

    def render(rows: list[dict[str, Any]]) -> None:
        if not rows:
            out.print("no models yet: `helix predict train`")
        for r in rows:
            _render_model(r)

    emit(models, as_json, render)


@predict_app.command("accounts")
def accounts_cmd(
    ctx: typer.Context,
    target: TargetOpt = "churn",
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 20,
    account: Annotated[
        str | None, typer.Option("--account", help="One account's prediction history.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The latest predictions, most likely first, with the reasons."""
    from helix.predict.service import account_predictions

    _check_target(target)
    with Platform(settings_of(ctx)) as platform:
        rows = account_predictions(
            platform.warehouse, target=target, limit=limit, account_id=account
        )

    def render(rs: list[dict[str, Any]]) -> None:
        if not rs:
            out.print("no predictions yet: `helix predict train`, then `helix run`")
        for r in rs:
            why = "; ".join(f"{d['feature']} {d['direction']} it" for d in r["drivers"])
            out.print(f"{r['account_id']}  {r['score_date']}  {100 * r['probability']:.1f}%  {why}")

    emit(rows, as_json, render)


@predict_app.command("drift")
def drift_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """How far today's data has moved from each active model's training data (PSI per feature)."""
    from helix.predict.service import run_drift

    with Platform(settings_of(ctx)) as platform:
        doc = run_drift(platform)

    def render(d: dict[str, Any]) -> None:
        if not d["models"]:
            out.print("no models yet: `helix predict train`")
        for m in d["models"]:
            out.print(
                f"[bold]{m['target']} within {m['horizon_days']} days[/bold] ({m['version']}), "
                f"rows of {d['score_date']}: {m['verdict']} (largest PSI {m['max_psi']:.3f})"
            )
            for f in m["features"][:5]:
                out.print(f"  {f['feature']}: PSI {f['psi']:.3f} ({f['level']})")

    emit(doc, as_json, render)
