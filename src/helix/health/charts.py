"""The backtest chart: churn rate by colour, and by score band (calibration), side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helix.charting import chart_target, figure, save, to_bytes

__all__ = ["backtest_chart", "backtest_chart_bytes"]

_COLORS = {"green": "#2e9e5b", "yellow": "#e0b000", "red": "#d64541"}


def _draw(doc: dict[str, Any], fig: Any, axes: Any) -> None:
    from matplotlib.ticker import PercentFormatter

    left, right = axes
    names = [c for c in ("green", "yellow", "red") if doc["churn_rate_by_color"].get(c) is not None]
    rates = [doc["churn_rate_by_color"][c] for c in names]
    left.bar(names, rates, color=[_COLORS[c] for c in names])
    for x, (name, rate) in enumerate(zip(names, rates, strict=True)):
        n = doc.get("counts_by_color", {}).get(name)
        left.annotate(f"{rate:.1%}" + (f"\n{n:,} obs." if n else ""), (x, rate),
                      ha="center", va="bottom", fontsize=8)
    left.set_title(f"Churn within {doc['horizon_days']} days, by colour", loc="left", fontsize=11)
    bands = doc.get("calibration") or []
    right.plot([b["mean_score"] for b in bands], [b["churn_rate"] for b in bands],
               marker="o", color="#34495e")
    right.set_xlim(0, 100)
    right.set_xlabel("health score (10-point bands)")
    right.set_title(f"Calibration: AUC {doc['auc']}, usage-only baseline {doc['baseline_auc']}",
                    loc="left", fontsize=11)
    for ax in axes:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"Health backtest, model {doc['model_version']}, "
                 f"{doc['n_observations']:,} account-dates", x=0.01, ha="left", fontsize=12)


def backtest_chart(doc: dict[str, Any], path: str | Path) -> Path:
    """Draw a backtest (its ``to_dict()`` document) to ``path`` (.png or .svg)."""
    target = chart_target(path)
    with figure(ncols=2, figsize=(11, 4.5), dpi=150) as (fig, axes):
        _draw(doc, fig, axes)
        return save(fig, target)


def backtest_chart_bytes(doc: dict[str, Any], fmt: str) -> bytes:
    """The same chart as PNG or SVG bytes."""
    with figure(ncols=2, figsize=(11, 4.5), dpi=150) as (fig, axes):
        _draw(doc, fig, axes)
        return to_bytes(fig, fmt)
