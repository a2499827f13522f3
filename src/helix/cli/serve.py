"""`helix serve`: the web app and API."""

from __future__ import annotations

from typing import Annotated

import typer

from helix.cli.main import settings_of
from helix.cli.output import err


def register(app: typer.Typer) -> None:
    """Add `serve` to ``app``."""
    app.command("serve")(serve)


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the Helix web app and API (http://127.0.0.1:8000 by default)."""
    serve_app(settings_of(ctx), host=host, port=port)


def serve_app(settings: object, *, host: str, port: int) -> None:
    """Run the app with uvicorn until interrupted.

    DuckDB runs each query on one thread here unless ``HELIX_DUCKDB_THREADS`` says
    otherwise: a server's queries are small and many at once, and splitting each over
    every core costs more CPU than it saves (measured in docs/web.md)."""
    import os

    import uvicorn

    from helix.warehouse.connection import THREADS_ENV

    os.environ.setdefault(THREADS_ENV, "1")

    from helix.api.app import create_app
    from helix.api.lease import SERVE_HOLD_SECONDS

    app = create_app(settings, scheduler=True, hold_warehouse_s=SERVE_HOLD_SECONDS)  # type: ignore[arg-type]
    err.print(f"Helix is serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
