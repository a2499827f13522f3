"""How the CLI talks: data on stdout (one JSON document with --json), everything else on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

err = Console(stderr=True)
"""Console for progress, logs and human messages (stderr)."""

out = Console()
"""Console for human-readable data (stdout, without --json)."""


def figure(x: Any) -> str:
    """A model figure (AUC, Brier, ...) for people: three decimals, ``-`` when absent."""
    return "-" if x is None else f"{x:.3f}"


def _default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return float(obj)
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def to_json(data: Any) -> str:
    """Serialise ``data`` the way every `--json` command does."""
    return json.dumps(data, default=_default, indent=2, ensure_ascii=False)


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print ``data``: one JSON document on stdout, or ``render`` it for people."""
    if as_json:
        sys.stdout.write(to_json(data) + "\n")
        sys.stdout.flush()
    else:
        render(data)


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Progress]:
    """A Rich progress bar on stderr (hidden when stderr is not a terminal and disabled)."""
    bar = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not enabled,
    )
    with bar:
        yield bar


JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
"""The `--json` option every command that prints data takes."""
