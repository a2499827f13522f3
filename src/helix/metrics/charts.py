"""The board's cohort chart: one line per acquisition cohort, retention against months since start.

Written with Matplotlib's non-interactive Agg backend to PNG or SVG (chosen
by the file's suffix). Older cohorts are drawn darker, so a board can see at
a glance whether the newer (lighter) lines follow the same path.
"""

from __future__ import annotations

from pathlib import Path

from helix.charting import CHART_FORMATS, chart_target, figure, save
from helix.errors import UserError
from helix.metrics.cohorts import CohortTable

__all__ = ["cohort_chart", "CHART_FORMATS"]

_TITLES = {
    "logo": "Logo retention",
    "grr": "Gross revenue retention",
    "nrr": "Net revenue retention",
}


def cohort_chart(table: CohortTable, path: str | Path, *, title: str | None = None) -> Path:
    """Draw ``table`` to ``path`` (``.png`` or ``.svg``); return the path written."""
    target = chart_target(path)
    if not table.rows:
        raise UserError("there are no complete cohorts to chart", hint="check --as-of and --since")
    from matplotlib.ticker import PercentFormatter

    with figure(figsize=(10, 5.6), dpi=150) as (fig, ax):
        import matplotlib.pyplot as plt

        cmap = plt.get_cmap("Blues")
        n = len(table.rows)
        for i, row in enumerate(table.rows):
            xs = [k for k, v in enumerate(row.values) if v is not None]
            ys = [row.values[k] for k in xs]
            shade = 0.95 - 0.6 * (i / max(n - 1, 1))
            ax.plot(
                xs,
                ys,
                color=cmap(shade),
                linewidth=1.8,
                marker="o",
                markersize=2.5,
                label=f"{row.cohort} ({row.accounts})",
            )
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("Months since cohort start")
        ax.set_ylabel(_TITLES[table.measure])
        ax.set_title(
            title or f"{_TITLES[table.measure]} by {table.by}ly cohort, as of {table.as_of}",
            loc="left",
            fontsize=13,
        )
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", alpha=0.3)
        ncol = 1 if n <= 12 else 2
        ax.legend(frameon=False, fontsize=8, ncol=ncol, bbox_to_anchor=(1.01, 1), loc="upper left")
        return save(fig, target)
