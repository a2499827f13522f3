"""`helix demo ...`: the demo company.

``helix demo generate`` writes a realistic B2B SaaS company in the data-contract
format (see :func:`helix.testing.demo.generate_company`). ``helix demo`` on its own
generates, imports and serves a whole demo Helix.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from helix.cli.main import settings_of
from helix.cli.output import emit, err, out, progress_bar

demo_app = typer.Typer(
    name="demo",
    help="The demo company: generate it (`helix demo generate`), or run a whole demo Helix "
    "(`helix demo`).",
    invoke_without_command=True,
)


def register(app: typer.Typer) -> None:
    """Add the `demo` command group to ``app``."""
    app.add_typer(demo_app, name="demo")


@demo_app.callback(invoke_without_command=True)
def demo(
    ctx: typer.Context,
    accounts: Annotated[
        int, typer.Option("--accounts", min=1, help="Number of customer accounts.")
    ] = 3000,
    months: Annotated[int, typer.Option("--months", min=1, max=120, help="Months of history.")] = 24,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the company.")] = 7,
    end: Annotated[
        datetime | None,
        typer.Option("--end", formats=["%Y-%m-%d"], help="History ends here (default today, UTC)."),
    ] = None,
    train: Annotated[
        bool,
        typer.Option("--train/--no-train", help="Train the prediction models (about a minute)."),
    ] = True,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the app after the summary.")
    ] = True,
    host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8000,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON document on stdout.")
    ] = False,
) -> None:
    """Generate a demo company into the data directory, import it, run the pipeline and serve it.

    With a subcommand (``helix demo generate``) only that subcommand runs.
    """
    if ctx.invoked_subcommand is not None:
        return
    from helix.cli.serve import serve_app
    from helix.demo_setup import setup_demo
    from helix.platform import Platform

    settings = settings_of(ctx)
    end_date = end.date() if end is not None else datetime.now(UTC).date()
    with Platform(settings) as platform, progress_bar() as bar:
        task = bar.add_task("demo", total=100)

        def progress(message: str, fraction: float) -> None:
            bar.update(task, description=message, completed=int(fraction * 100))

        result = setup_demo(
            platform,
            accounts=accounts,
            months=months,
            seed=seed,
            end=end_date,
            train=train,
            progress=progress,
        )
    emit(result.to_dict(), as_json, _render_demo)
    if serve:
        serve_app(settings, host=host, port=port)


def _render_demo(data: dict[str, Any]) -> None:
    company, portfolio = data["company"], data["portfolio"]
    out.print(
        f"[bold]demo company[/bold]: {company['accounts']:,} accounts, {company['months']} months "
        f"to {company['end']} (seed {company['seed']})"
    )
    tiers = Table("tier", "active accounts", "ARR", title="portfolio at the end of the history")
    for tier, v in portfolio["by_tier"].items():
        tiers.add_row(tier, f"{v['accounts']:,}", f"${v['arr']:,.0f}")
    tiers.add_row("all", f"{portfolio['active_accounts']:,}", f"${portfolio['arr']:,.0f}")
    out.print(tiers)
    loaded = sum(t["loaded"] for t in data["import"].values())
    rejected = sum(t["rejected"] for t in data["import"].values())
    out.print(f"imported {loaded:,} rows ({rejected:,} rejected)")
    stages = ", ".join(f"{s['name']} {s['seconds']:.1f}s" for s in data["pipeline"]["stages"])
    out.print(f"pipeline: {stages}")
    for m in data.get("models", []):
        out.print(f"model {m['model']}: " + (m.get("version") or f"not trained ({m.get('note')})"))
    logins = Table("email", "role", title=f"demo logins (password: {data['password']})")
    for user in data["users"][:6]:
        logins.add_row(user["email"], user["role"])
    if len(data["users"]) > 6:
        logins.add_row(f"... and {len(data['users']) - 6} more CSMs", "csm")
    out.print(logins)


@demo_app.command("generate")
def generate(
    ctx: typer.Context,
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out", help="Directory to write the company into (replaced if it holds one)."
        ),
    ],
    accounts: Annotated[
        int, typer.Option("--accounts", min=1, help="Number of customer accounts.")
    ] = 3000,
    months: Annotated[
        int, typer.Option("--months", min=1, max=120, help="Months of history.")
    ] = 24,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same inputs, same bytes.")] = 7,
    end: Annotated[
        datetime | None,
        typer.Option(
            "--end",
            formats=["%Y-%m-%d"],
            help="History ends at this date, exclusive (default today, UTC).",
        ),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="File format: parquet or csv.", case_sensitive=False)
    ] = "parquet",
    event_scale: Annotated[
        float,
        typer.Option(
            "--event-scale",
            min=0.0,
            help="Usage events volume: extra events per active user and month (1 = default; "
            "every active user still logs in once a month).",
        ),
    ] = 1.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document on stdout.")
    ] = False,
) -> None:
    """Write a realistic B2B SaaS company (all nine contract tables) into a directory."""
    from helix.errors import UserError
    from helix.testing.demo import generate_company

    settings_of(ctx)  # resolves the global options like every command
    fmt_lower = fmt.lower()
    if fmt_lower not in ("parquet", "csv"):
        raise UserError(f"unknown format {fmt!r}", hint="use --format parquet or --format csv")
    file_format: Literal["parquet", "csv"] = "parquet" if fmt_lower == "parquet" else "csv"
    end_date = end.date() if end is not None else datetime.now(UTC).date()
    with progress_bar(enabled=err.is_terminal) as bar:
        task = bar.add_task("generating", total=accounts)

        def step(fraction: float, message: str) -> None:
            bar.update(
                task, completed=round(fraction * accounts), description=f"generating {message}"
            )

        summary = generate_company(
            out_dir,
            accounts=accounts,
            months=months,
            seed=seed,
            end=end_date,
            fmt=file_format,
            event_scale=event_scale,
            progress=step,
        )
    emit(summary.to_dict(), as_json, _render)


def _render(data: dict[str, Any]) -> None:
    out.print(
        f"wrote a demo company to [bold]{data['out_dir']}[/bold] "
        f"({data['accounts']:,} accounts, {data['months']} months to {data['end']}, "
        f"seed {data['seed']}, {data['seconds']} s)"
    )
    rows = Table("table", "rows", title="files")
    for name, count in data["tables"].items():
        rows.add_row(name, f"{count:,}")
    out.print(rows)
    seg = Table("segment", "accounts", "active at end", "ARR at end", title="segments")
    for label, count in data["segments"].items():
        seg.add_row(
            label,
            f"{count:,}",
            f"{data['active_accounts'][label]:,}",
            f"${data['arr_by_segment'][label]:,.0f}",
        )
    out.print(seg)
    out.print(
        f"{len(data['csms'])} CSMs, e.g. {data['csms'][0]['name']} <{data['csms'][0]['email']}>"
    )
