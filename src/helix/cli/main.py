"""The `helix` command: one Typer app, thin over the library.

Exit codes: 0 success, 1 a problem the user can fix (message, no traceback),
2 an internal error (traceback with --debug).
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import click
import typer

try:  # Typer 0.2x ships its own copy of click; its exceptions are not click's
    from typer._click import exceptions as _typer_click
except ImportError:  # pragma: no cover - older Typer uses click itself
    _typer_click = click.exceptions  # type: ignore[assignment]

_EXIT = (click.exceptions.Exit, typer.Exit)
_ABORT = (click.exceptions.Abort, typer.Abort)
_USAGE = (click.ClickException, _typer_click.ClickException)

from helix.cli.output import err
from helix.config import Settings
from helix.errors import HelixError

app = typer.Typer(
    name="helix",
    help="Helix, the open-source Customer Success Platform.\n\n"
    "Import your customer data, compute retention economics and health, and serve the app. "
    "All data lives in one data directory (--home, HELIX_HOME, default ./helix-data).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)

_state: dict[str, bool] = {"debug": False}


@app.callback()
def main(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            envvar="HELIX_HOME",
            help="Data directory holding the warehouse and the app store.",
            show_default="./helix-data",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    """Helix, the open-source Customer Success Platform."""
    _state["debug"] = debug
    ctx.obj = Settings.load(home)


def settings_of(ctx: typer.Context) -> Settings:
    """The settings resolved by the global options."""
    obj = ctx.find_root().obj
    assert isinstance(obj, Settings)
    return obj


def _register_commands() -> None:
    from helix.cli import (
        admin,
        data,
        demo,
        expansion,
        forecast,
        forensics,
        health,
        metrics,
        playbooks,
        predict,
        serve,
        settings,
    )

    data.register(app)
    demo.register(app)
    serve.register(app)
    admin.register(app)
    metrics.register(app)
    health.register(app)
    predict.register(app)
    expansion.register(app)
    forecast.register(app)
    forensics.register(app)
    playbooks.register(app)
    settings.register(app)
    for name in OPTIONAL_COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(app)


# Command groups of capabilities that may be absent from a build; each module
# has a ``register(app)`` function.
OPTIONAL_COMMANDS = (
    "helix.cli.report",
    "helix.cli.notes",
    "helix.cli.assess",
    "helix.cli.voice",
    "helix.cli.live",
)


_register_commands()


def run() -> None:
    """Console-script entry point: runs the app and maps errors to exit codes."""
    debug = "--debug" in sys.argv or os.environ.get("HELIX_DEBUG") == "1"
    try:
        rv = app(standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
    except _EXIT as exc:
        code = exc.exit_code
    except _ABORT:
        err.print("[red]aborted[/red]")
        code = 1
    except _USAGE as exc:  # usage errors: bad option, missing argument
        exc.show(file=sys.stderr)
        code = 1
    except HelixError as exc:
        if debug:
            traceback.print_exc()
        err.print(f"[bold red]error:[/bold red] {exc.for_people()}", highlight=False)
        code = exc.exit_code
    except KeyboardInterrupt:
        err.print("[red]interrupted[/red]")
        code = 1
    except Exception as exc:  # a bug: say so plainly
        if debug:
            traceback.print_exc()
        err.print(
            f"[bold red]internal error:[/bold red] {type(exc).__name__}: {exc}\n"
            "  run again with --debug for the traceback, and please report it",
            highlight=False,
        )
        code = 2
    sys.exit(code)
