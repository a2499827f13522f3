"""Writing Matplotlib figures to PNG or SVG files (or bytes), headless, in one place.

Every chart Helix draws (the board's cohort chart, the health backtest) goes
through here: the file's suffix picks the format, and Matplotlib always uses
its non-interactive Agg backend, so nothing needs a display.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from helix.errors import UserError

__all__ = ["CHART_FORMATS", "chart_target", "figure", "save", "to_bytes"]

CHART_FORMATS = (".png", ".svg")


def chart_target(path: str | Path) -> Path:
    """``path`` as a chart file, or a clear error when its suffix is not .png or .svg."""
    target = Path(path)
    if target.suffix.lower() not in CHART_FORMATS:
        raise UserError(
            f"cannot write a chart to {target.name}", hint="give a file ending in .png or .svg"
        )
    return target


@contextmanager
def figure(**kwargs: Any) -> Iterator[tuple[Any, Any]]:
    """``(fig, axes)`` of a new figure (``plt.subplots(**kwargs)``), closed afterwards."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(**kwargs)
    try:
        yield fig, axes
    finally:
        plt.close(fig)


def save(fig: Any, target: Path) -> Path:
    """Write ``fig`` to ``target`` in the format its suffix names; return the path."""
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, format=target.suffix.lower().lstrip("."))
    return target


def to_bytes(fig: Any, fmt: str) -> bytes:
    """``fig`` as PNG or SVG bytes (for the API)."""
    if f".{fmt}" not in CHART_FORMATS:
        raise UserError(f"cannot draw a chart as {fmt!r}", hint="use png or svg")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    return buf.getvalue()
