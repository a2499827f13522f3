"""`helix expansion`: CS-qualified expansion leads, their detection and its settings."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from helix.cli.main import settings_of
from helix.cli.output import JsonOpt, emit, out
from helix.errors import UserError
from helix.platform import Platform
from helix.predict.expansion import MOTIONS, SIGNALS

expansion_app = typer.Typer(
    help="Expansion signals: seats or usage near the limit, adoption spreading, predicted "
    "expansion; each a lead with evidence and a suggested motion.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the `expansion` command group to ``app``."""
    app.add_typer(expansion_app, name="expansion")


def _check(name: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise UserError(f"--{name} must be one of {', '.join(allowed)}, not {value!r}")


def _render_leads(rows: list[dict[str, Any]]) -> None:
    if not rows:
        out.print("no expansion leads: `helix run` (or `helix expansion detect`) finds them")
        return
    out.print(f"[bold]{len(rows)} expansion lead(s)[/bold], strongest first")
    for r in rows:
        arr = "-" if r["arr"] is None else f"{r['arr']:,.0f}"
        out.print(
            f"[bold]{r['name'] or r['account_id']}[/bold] ({r['account_id']})  {r['detected_on']}  "
            f"{r['signal']} -> [bold]{r['suggested_motion']}[/bold]  strength {r['strength']:.2f}  "
            f"ARR {arr}  owner {r['owner_email'] or '-'}",
            highlight=False,
        )
        out.print(f"    {r['evidence']}", highlight=False)
        out.print(f"    why {r['suggested_motion']}: {r['motion_reason']}", highlight=False)


@expansion_app.command("leads")
def leads_cmd(
    ctx: typer.Context,
    motion: Annotated[
        str | None, typer.Option("--motion", help=f"One of: {', '.join(MOTIONS)}.")
    ] = None,
    signal: Annotated[
        str | None, typer.Option("--signal", help=f"One of: {', '.join(SIGNALS)}.")
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Only this CSM's book (email).")
    ] = None,
    account: Annotated[
        str | None, typer.Option("--account", help="One account's leads over time.")
    ] = None,
    on: Annotated[
        datetime | None,
        typer.Option(
            "--date", formats=["%Y-%m-%d"], help="Leads of this detection date (default latest)."
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The stored leads, strongest first, with evidence, suggested motion, ARR and owner."""
    from helix.predict.expansion import list_leads

    _check("motion", motion, MOTIONS)
    _check("signal", signal, SIGNALS)
    with Platform(settings_of(ctx)) as platform:
        rows = list_leads(
            platform.warehouse,
            on=on.date() if on else None,
            motion=motion,
            signal=signal,
            owner=owner,
            account_id=account,
            limit=limit,
        )
    emit(rows, as_json, _render_leads)


@expansion_app.command("detect")
def detect_cmd(
    ctx: typer.Context,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of", formats=["%Y-%m-%d"], help="Detect as of this date (default today, UTC)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run only the expansion detection (the `expansion` stage of `helix run`); store the leads."""
    from helix.cli.data import today_utc
    from helix.predict.expansion_service import run_detection

    with Platform(settings_of(ctx)) as platform:
        run = run_detection(platform, as_of.date() if as_of else today_utc())

    def render(d: dict[str, Any]) -> None:
        out.print(
            f"[bold]expansion leads detected on {d['detected_on']}[/bold]: {d['rows']} "
            f"({d['new']} new)"
        )
        for name in SIGNALS:
            out.print(f"  {name}: {d['by_signal'].get(name, 0)}")
        for note in d["notes"]:
            out.print(f"  note: {note}")

    emit(run.to_dict(), as_json, render)


@expansion_app.command("config")
def config_cmd(
    ctx: typer.Context,
    set_file: Annotated[
        Path | None,
        typer.Option(
            "--set",
            exists=True,
            dir_okay=False,
            help="Activate the settings in this YAML or JSON file.",
        ),
    ] = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Go back to the default thresholds.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show the thresholds of the expansion signals (or activate new ones)."""
    from helix.predict.expansion_service import config_info, set_config

    with Platform(settings_of(ctx)) as platform:
        info = (
            set_config(platform, set_file)
            if set_file is not None or reset
            else config_info(platform)
        )

    def render(d: dict[str, Any]) -> None:
        import yaml

        out.print(f"# expansion settings{' (defaults)' if d['default'] else ''}")
        out.print(yaml.safe_dump(d["config"], sort_keys=False), highlight=False)

    emit(info, as_json, render)
