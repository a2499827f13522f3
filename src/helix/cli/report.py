"""`helix report ...`: the documents a CS leader hands on (board slide, QBR deck,
business case, roadmap).

The group lives here; its commands live next to what they render, each module
adding its own with a ``register(report_app)`` function.
"""

from __future__ import annotations

import importlib

import typer

report_app = typer.Typer(help="Board slide, QBR decks, business case and roadmap.",
                         no_args_is_help=True)

COMMAND_MODULES = ("helix.cli.report_decks", "helix.cli.report_exec")


def register(app: typer.Typer) -> None:
    """Add the `report` group, with the commands of every present module, to ``app``."""
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(report_app)
    if report_app.registered_commands or report_app.registered_groups:
        app.add_typer(report_app, name="report")
