"""Commands that move data: init, import, run."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from helix.cli.admin import cli_actor
from helix.cli.main import settings_of
from helix.cli.output import JsonOpt, emit, err, out, progress_bar
from helix.platform import Platform


def register(app: typer.Typer) -> None:
    """Add `init`, `import` and `run` to ``app``."""
    app.command("init")(init)
    app.command("import")(import_cmd)
    app.command("run")(run_cmd)


def today_utc() -> date:
    """Today's date in UTC (the default as-of date)."""
    return datetime.now(UTC).date()


def init(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Create or migrate the warehouse and the app store in the data directory."""
    from helix.playbooks.engine import ensure_setup

    with Platform(settings_of(ctx)) as platform:
        info = platform.init()
        with platform.store.session() as session:  # the shipped playbooks, once
            ensure_setup(session, actor=cli_actor())
    emit(
        info,
        as_json,
        lambda d: out.print(f"initialised {d['home']}\n  {d['warehouse']}\n  {d['app_store']}"),
    )


def _render_import(report: dict[str, Any]) -> None:
    table = Table(title=f"import {report['import_id']}")
    for col in ("table", "read", "loaded", "rejected", "duplicates", "new", "updated", "unchanged"):
        table.add_column(col, justify="left" if col == "table" else "right")
    for name, r in report["tables"].items():
        table.add_row(
            name, *(f"{r[c]:,}" for c in ("read", "loaded", "rejected", "duplicates", "new", "updated", "unchanged"))
        )
    out.print(table)
    if report["error_count"]:
        out.print(f"[yellow]{report['error_count']} problems[/yellow] (first {len(report['errors'])}):")
        for e in report["errors"][:20]:
            out.print(f"  {e['file']} row {e['row']}, column {e['column']}: {e['reason']}", highlight=False)
        out.print(f"rejected rows and all reasons are in {report['report_dir']}")
    else:
        out.print("[green]no problems found[/green]")


def import_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A directory of <table>.csv/.parquet files, or one file.")],
    table: Annotated[
        str | None, typer.Option("--table", help="Contract table of a single file (default: its name).")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", help="YAML file mapping your column names onto the contract."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import data-contract files: bad rows are reported and quarantined, valid rows load.

    Re-importing the same files changes nothing. A file that cannot be read
    fails the whole import and leaves the warehouse as it was.
    """
    from helix.ingest.service import run_import

    with Platform(settings_of(ctx)) as platform, progress_bar() as bar:
        task = bar.add_task("importing", total=100)

        def progress(message: str, fraction: float) -> None:
            bar.update(task, description=message, completed=int(fraction * 100))

        report = run_import(platform, path, table=table, mapping_path=mapping, progress=progress)
        bar.update(task, description="imported", completed=100)
    emit(report.to_dict(), as_json, _render_import)


def _render_run(report: dict[str, Any]) -> None:
    table = Table(title=f"helix run as of {report['as_of']}")
    for col in ("stage", "status", "seconds", "rows"):
        table.add_column(col)
    for s in report["stages"]:
        rows = ", ".join(f"{k}={v:,}" for k, v in s["rows"].items())
        table.add_row(s["name"], s["status"], f"{s['seconds']:.2f}", rows)
    out.print(table)
    for s in report["stages"]:
        for note in s["notes"]:
            if s["status"] == "ran":
                out.print(f"[yellow]{s['name']}:[/yellow] {note}", highlight=False)
    if "playbooks" in report:
        from helix.cli.playbooks import render_run

        render_run(report["playbooks"])


def run_cmd(
    ctx: typer.Context,
    as_of: Annotated[
        datetime | None,
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="Compute as of this date (default today, UTC)."),
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="Rebuild every stage from scratch.")] = False,
    playbooks: Annotated[
        bool, typer.Option("--playbooks/--no-playbooks", help="Run the playbooks afterwards.")
    ] = True,
    stage: Annotated[
        list[str] | None, typer.Option("--stage", help="Run only this stage (repeatable).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the pipeline: checks, metrics, signals, scores, playbooks (those that exist).

    Each stage is incremental: it is skipped when its inputs and the as-of date
    are unchanged since its last run.
    """
    from helix.pipeline import registered_stages, run_pipeline

    day = as_of.date() if as_of else today_utc()
    known = [s.name for s in registered_stages()]
    for name in stage or []:
        if name not in known:
            raise typer.BadParameter(f"unknown stage {name!r}; stages: {', '.join(known)}")
    with Platform(settings_of(ctx)) as platform, progress_bar() as bar:
        def on_stage(s: Any) -> Any:
            task = bar.add_task(s.name, total=100)

            def progress(fraction: float, message: str) -> None:
                bar.update(task, description=f"{s.name}: {message}", completed=int(fraction * 100))

            return progress

        from helix.ingest.live import flush_spool

        live = flush_spool(platform)  # events received live first, so that this run sees them
        report = run_pipeline(
            platform.warehouse, as_of=day, full=full, only=stage, on_stage=on_stage,
            settings=platform.settings,
        ).to_dict()
        if live is not None:
            report["live_flush"] = live.to_dict()
        if playbooks and not stage:
            from helix.playbooks.service import run_playbooks

            task = bar.add_task("playbooks", total=None)
            report["playbooks"] = run_playbooks(platform, day, actor=cli_actor())
            bar.update(task, total=1, completed=1)
    emit(report, as_json, _render_run)
    if not as_json:
        err.print(f"pipeline finished for {day}")
