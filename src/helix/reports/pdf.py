"""The same deck as a PDF, drawn with Matplotlib's PDF backend (one page per slide).

Why not convert the PPTX? A converter (LibreOffice headless) is a heavy system
package that is not there on a plain Python install; Matplotlib is already a
dependency and its PDF backend writes vector text and charts with no display.
The pages are drawn from the same :class:`~helix.reports.slides.Deck` the PPTX
is written from, so both files carry the same text and numbers.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

from helix.reports.slides import (
    COLORS,
    SLIDE_HEIGHT,
    SLIDE_WIDTH,
    Box,
    ChartBlock,
    Deck,
    MetricBlock,
    Para,
    Slide,
    TableBlock,
    TextBlock,
)

__all__ = ["render_pdf", "pdf_bytes"]

_LINE = 1.3  # line height as a multiple of the font size


def _c(hex_color: str) -> str:
    return "#" + hex_color


def _fx(x: float) -> float:
    return x / SLIDE_WIDTH


def _fy(y: float) -> float:
    return 1 - y / SLIDE_HEIGHT


def _wrap(text: str, size: float, width_in: float) -> list[str]:
    """``text`` wrapped to a box ``width_in`` inches wide at ``size`` points."""
    chars = max(8, int(width_in * 72 / (size * 0.52)))
    return textwrap.wrap(text, chars) or [""]


def _paras(fig: Any, box: Box, paras: list[Para], pad: float = 0.08) -> None:
    y = box.y + pad
    for para in paras:
        for line in _wrap(para.text, para.size, box.w - 2 * pad):
            y += para.size * _LINE / 72
            if y > box.y + box.h + 0.05:
                return  # what does not fit is cut, as in a fixed slide box
            fig.text(
                _fx(box.x + pad),
                _fy(y),
                line,
                fontsize=para.size,
                fontweight="bold" if para.bold else "normal",
                color=_c(para.color),
                va="baseline",
            )


def _panel(fig: Any, box: Box, fill: str) -> None:
    from matplotlib.patches import Rectangle

    fig.patches.append(
        Rectangle(
            (_fx(box.x), _fy(box.y + box.h)),
            box.w / SLIDE_WIDTH,
            box.h / SLIDE_HEIGHT,
            transform=fig.transFigure,
            facecolor=_c(fill),
            edgecolor=_c(COLORS["line"]),
            linewidth=0.6,
        )
    )


def _metric(fig: Any, block: MetricBlock) -> None:
    _panel(fig, block.box, COLORS["panel"])
    tone = COLORS["navy"] if block.tone == "neutral" else COLORS[block.tone]
    paras = [
        Para(block.label, 12, True, COLORS["muted"]),
        Para(block.value, block.size, True, tone),
        *(Para(n, 10, False, COLORS["ink"]) for n in block.notes),
    ]
    _paras(fig, block.box, paras, pad=0.12)


def _table(fig: Any, block: TableBlock) -> None:
    b = block.box
    n = len(block.rows) + 1
    row_h = min(b.h / n, 0.4)
    ax = fig.add_axes((_fx(b.x), _fy(b.y + row_h * n), b.w / SLIDE_WIDTH, row_h * n / SLIDE_HEIGHT))
    ax.axis("off")
    if not block.header:
        return
    table = ax.table(
        cellText=block.rows or [[""] * len(block.header)],
        colLabels=block.header,
        loc="upper left",
        bbox=(0, 0, 1, 1),
        colWidths=[w / sum(block.widths) for w in block.widths] if block.widths else None,
    )
    table.auto_set_font_size(False)
    table.set_fontsize(block.size)
    numeric = block.numeric or [False] * len(block.header)
    for (r, c), cell in table.get_celld().items():
        cell.set_edgecolor(_c(COLORS["line"]))
        cell.set_linewidth(0.5)
        cell.get_text().set_ha("right" if numeric[c] else "left")
        cell.PAD = 0.03
        if r == 0:
            cell.set_facecolor(_c(COLORS["panel"]))
            cell.get_text().set_fontweight("bold")


def _fmt(number_format: str, value: float) -> str:
    if "%" in number_format:
        return f"{value * 100:.0f}%"
    if "$" not in number_format:
        return f"{value:,.0f}"
    return f"${value:,.2f}"


def _chart(fig: Any, block: ChartBlock) -> None:
    b = block.box
    legend = block.kind == "line" and block.legend and len(block.series) > 1
    left = 1.7 if block.kind == "bar" else 0.5  # inches kept for tick labels
    right = 1.3 if legend else 0.5  # and for the legend
    ax = fig.add_axes(
        (
            _fx(b.x + left),
            _fy(b.y + b.h - 0.35),
            (b.w - left - right) / SLIDE_WIDTH,
            (b.h - 0.75) / SLIDE_HEIGHT,
        )
    )
    from matplotlib.ticker import FuncFormatter

    if block.kind == "line":
        import matplotlib.pyplot as plt

        cmap = plt.get_cmap("Blues")
        n = len(block.series)
        for i, (name, values) in enumerate(block.series):
            xs = [k for k, v in enumerate(values) if v is not None]
            ys = [values[k] for k in xs]
            shade = 0.95 - 0.6 * (i / max(n - 1, 1))
            ax.plot(
                xs, ys, marker="o", markersize=2.5, linewidth=1.5, color=cmap(shade), label=name
            )
        ax.set_xticks(range(len(block.categories)))
        ax.set_xticklabels(block.categories, fontsize=7)
        if legend:
            ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ys = list(range(len(block.categories)))
        n = max(len(block.series), 1)
        height = 0.8 / n
        shades = [COLORS["navy"], "93A8C6", COLORS["muted"]]
        for i, (name, raw) in enumerate(block.series):
            values = [v or 0.0 for v in raw]
            pos = [y - 0.4 + height * (i + 0.5) for y in ys]
            ax.barh(pos, values, height=height, color=_c(shades[i % 3]), label=name)
            for y, v in zip(pos, values, strict=True):
                ax.text(v, y, " " + _fmt(block.number_format, v), va="center", fontsize=6)
        if n > 1:
            ax.legend(frameon=False, fontsize=7, loc="lower right")
        ax.set_yticks(ys)
        ax.set_yticklabels(block.categories, fontsize=8)
        ax.invert_yaxis()
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(4))
    axis = ax.xaxis if block.kind == "bar" else ax.yaxis
    axis.set_major_formatter(FuncFormatter(lambda v, _: _fmt(block.number_format, v)))
    ax.tick_params(labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(block.title, loc="left", fontsize=11)


def _page(slide: Slide) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(SLIDE_WIDTH, SLIDE_HEIGHT))
    _paras(
        fig,
        Box(0.4, 0.2, SLIDE_WIDTH - 0.8, 0.9),
        [
            Para(slide.title, 24, True, COLORS["navy"]),
            Para(slide.subtitle, 11, False, COLORS["muted"]),
        ],
        pad=0.0,
    )
    for block in slide.blocks:
        if isinstance(block, TextBlock):
            if block.fill:
                _panel(fig, block.box, block.fill)
            _paras(fig, block.box, block.paras)
        elif isinstance(block, MetricBlock):
            _metric(fig, block)
        elif isinstance(block, TableBlock):
            _table(fig, block)
        else:
            _chart(fig, block)
    if slide.footer:
        _paras(
            fig,
            Box(0.4, SLIDE_HEIGHT - 0.45, SLIDE_WIDTH - 0.8, 0.35),
            [Para(slide.footer, 8, False, COLORS["muted"])],
            pad=0.0,
        )
    return fig


def _write(deck: Deck, target: Any) -> None:
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(
        target, metadata={"Title": deck.title, "Subject": deck.subject, "Author": "Helix"}
    ) as pdf:
        for slide in deck.slides:
            pdf.savefig(_page(slide))


def render_pdf(deck: Deck, path: str | Path) -> Path:
    """Write ``deck`` as a PDF (one page per slide) to ``path``; return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _write(deck, str(target))
    return target


def pdf_bytes(deck: Deck) -> bytes:
    """``deck`` as the bytes of a PDF."""
    buf = io.BytesIO()
    _write(deck, buf)
    return buf.getvalue()
