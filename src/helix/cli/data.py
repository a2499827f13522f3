"""Commands that move data: init, import, run."""

from __future__ import annotations

from typing import Annotated

import typer

from helix.cli.main import settings_of
from helix.cli.output import emit, out
from helix.platform import Platform


def register(app: typer.Typer) -> None:
    """Add `init`, `import` and `run` to ``app``."""
    app.command("init")(init)


def init(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Create or migrate the warehouse and the app store in the data directory."""
    with Platform(settings_of(ctx)) as platform:
        info = platform.init()
    emit(info, as_json, lambda d: out.print(f"initialised {d['home']}\n  {d['warehouse']}\n  {d['app_store']}"))
