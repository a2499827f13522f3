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
def demo(ctx: typer.Context) -> None:
    """Generate, import and serve a demo company; or use a subcommand."""
    if ctx.invoked_subcommand is not None:
        return
    run_default_demo(ctx)


def run_default_demo(ctx: typer.Context) -> None:
    """`helix demo` without a subcommand: generate, import and serve (wired by the lead)."""
    err.print("helix demo: generates, imports and serves (wired by the lead)")
    raise typer.Exit(0)


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
