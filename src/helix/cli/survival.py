"""`helix predict survival`: time to churn ("likely to churn within ~4 months")."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from helix.cli.main import settings_of
from helix.cli.output import JsonOpt, emit, out
from helix.cli.output import figure as _f
from helix.platform import Platform

survival_app = typer.Typer(
    help="Time to churn: a survival model, its backtest, and each account's estimate.",
    no_args_is_help=True,
)


def register(predict_app: typer.Typer) -> None:
    """Add the `survival` group under `helix predict`."""
    predict_app.add_typer(survival_app, name="survival")


def _render_backtest(d: dict[str, Any]) -> None:
    out.print(
        f"[bold]survival backtest[/bold]: trained before {d['cutoff']} ({d['n_train']:,} rows, "
        f"{d['events_train']} churns; outcomes censored there), tested from it "
        f"({d['n_test']:,} rows, {d['events_test']} churns)"
    )
    health = _f(d["health_score_concordance"])
    out.print(
        f"  concordance {_f(d['concordance'])} (health score alone {health}); "
        f"P(churn within 90 days) mean {_f(d['p_churn_90_mean'])} "
        f"vs observed {_f(d['churn_90_rate'])}, ECE {_f(d['ece_90'])}; "
        f"ridge penalty {d['penalizer']}"
    )


@survival_app.command("backtest")
def backtest_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Fit on earlier observation dates, test the order and timing of churn on later ones."""
    from helix.predict.service import run_survival_backtest

    with Platform(settings_of(ctx)) as platform:
        emit(run_survival_backtest(platform), as_json, _render_backtest)


@survival_app.command("train")
def train_cmd(
    ctx: typer.Context,
    backtest: Annotated[bool, typer.Option("--backtest/--no-backtest")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Train and store a survival model; `helix run` then estimates each account's time to churn."""
    from helix.predict.service import run_survival_train

    with Platform(settings_of(ctx)) as platform:
        meta = run_survival_train(platform, with_backtest=backtest)

    def render(m: dict[str, Any]) -> None:
        out.print(
            f"survival model {m['version']}: {m['n_rows']:,} rows, {m['events']} churns, "
            f"{m['data_from']} .. {m['data_to']}, penalty {m['penalizer']}"
        )
        if m["backtest"]:
            _render_backtest(m["backtest"])

    emit(meta, as_json, render)


@survival_app.command("accounts")
def accounts_cmd(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 20,
    account: Annotated[str | None, typer.Option("--account", help="One account's history.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The latest time-to-churn estimates, soonest first."""
    from helix.predict.service import churn_timing

    with Platform(settings_of(ctx)) as platform:
        rows = churn_timing(platform.warehouse, limit=limit, account_id=account)

    def render(rs: list[dict[str, Any]]) -> None:
        if not rs:
            out.print("no estimates yet: `helix predict survival train`, then `helix run`")
        for r in rs:
            out.print(
                f"{r['account_id']}  {r['score_date']}  {r['summary']}  "
                f"(90d {100 * r['p_churn_90']:.0f}%, 180d {100 * r['p_churn_180']:.0f}%, "
                f"365d {100 * r['p_churn_365']:.0f}%)"
            )

    emit(rows, as_json, render)
