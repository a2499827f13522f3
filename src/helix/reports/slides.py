"""A small, format-neutral model of a deck, and its PowerPoint renderer.

The board slide and the QBR deck are built once as :class:`Deck` values (slides
of positioned blocks: text, metric tiles, tables, native charts) and rendered
to PPTX here (python-pptx, charts as native PowerPoint charts whose data a
reader can open) or to PDF by :mod:`helix.reports.pdf` from the very same
values, so the two files always show the same content.

Every block has a ``name``; the PPTX shape gets it too, so a test (or a person
with python-pptx) finds "the NRR tile" or "the cohort chart" by name.
Positions are in inches on a 13.333 x 7.5 in (16:9) slide.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = [
    "SLIDE_WIDTH",
    "SLIDE_HEIGHT",
    "Box",
    "Para",
    "TextBlock",
    "MetricBlock",
    "TableBlock",
    "ChartBlock",
    "Block",
    "Slide",
    "Deck",
    "COLORS",
    "render_pptx",
    "pptx_bytes",
]

SLIDE_WIDTH = 13.333
SLIDE_HEIGHT = 7.5

COLORS = {
    "ink": "1F2937",
    "navy": "1F3A5F",
    "muted": "6B7280",
    "good": "2E7D32",
    "bad": "C62828",
    "warn": "B26A00",
    "panel": "F3F4F6",
    "line": "D1D5DB",
}
"""The palette both renderers use (hex RGB)."""

Tone = Literal["good", "bad", "warn", "neutral"]


@dataclass(frozen=True)
class Box:
    """Where a block sits: left, top, width, height in inches."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class Para:
    """One paragraph of a text block."""

    text: str
    size: float = 12
    bold: bool = False
    color: str = COLORS["ink"]


@dataclass(frozen=True)
class TextBlock:
    """Paragraphs of text in a box."""

    name: str
    box: Box
    paras: list[Para]
    fill: str | None = None


@dataclass(frozen=True)
class MetricBlock:
    """A headline number: a label, the value in large type, and notes (prior, target)."""

    name: str
    box: Box
    label: str
    value: str
    notes: list[str] = field(default_factory=list)
    tone: Tone = "neutral"
    size: float = 30


@dataclass(frozen=True)
class TableBlock:
    """A table: a header row and body rows of text; ``numeric`` columns align right."""

    name: str
    box: Box
    header: list[str]
    rows: list[list[str]]
    numeric: list[bool] = field(default_factory=list)
    size: float = 10
    widths: list[float] = field(default_factory=list)  # fractions of the box width


@dataclass(frozen=True)
class ChartBlock:
    """A native chart: line (one line per series) or bar (clustered), with its data."""

    name: str
    box: Box
    kind: Literal["line", "bar"]
    title: str
    categories: list[str]
    series: list[tuple[str, list[float | None]]]
    number_format: str = "0%"  # Excel format of the values: "0%" or '"$"#,##0.00'
    legend: bool = True


Block = TextBlock | MetricBlock | TableBlock | ChartBlock


@dataclass(frozen=True)
class Slide:
    """One slide: a title, a subtitle line, blocks and a footer line."""

    title: str
    subtitle: str
    blocks: list[Block]
    footer: str = ""


@dataclass(frozen=True)
class Deck:
    """Slides with the document's title and subject (written to the file's properties)."""

    title: str
    subject: str
    slides: list[Slide]
    comments: str = ""


# -- PowerPoint -------------------------------------------------------------------------------


def _rgb(hex_color: str):  # type: ignore[no-untyped-def]
    from pptx.dml.color import RGBColor

    return RGBColor.from_string(hex_color)


def _text_frame(frame, paras: list[Para]) -> None:  # type: ignore[no-untyped-def]
    from pptx.util import Pt

    frame.word_wrap = True
    for i, para in enumerate(paras):
        p = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        run = p.add_run()
        run.text = para.text
        run.font.size = Pt(para.size)
        run.font.bold = para.bold
        run.font.color.rgb = _rgb(para.color)


def _add_text(slide, block: TextBlock) -> None:  # type: ignore[no-untyped-def]
    from pptx.util import Inches

    b = block.box
    shape = slide.shapes.add_textbox(Inches(b.x), Inches(b.y), Inches(b.w), Inches(b.h))
    shape.name = block.name
    if block.fill:
        shape.fill.solid()
        shape.fill.fore_color.rgb = _rgb(block.fill)
    _text_frame(shape.text_frame, block.paras)


def _add_metric(slide, block: MetricBlock) -> None:  # type: ignore[no-untyped-def]
    from pptx.enum.shapes import MSO_SHAPE
    from pptx.util import Inches

    b = block.box
    shape = slide.shapes.add_shape(
        MSO_SHAPE.RECTANGLE, Inches(b.x), Inches(b.y), Inches(b.w), Inches(b.h)
    )
    shape.name = block.name
    shape.fill.solid()
    shape.fill.fore_color.rgb = _rgb(COLORS["panel"])
    shape.line.color.rgb = _rgb(COLORS["line"])
    tone = COLORS.get(block.tone, COLORS["navy"]) if block.tone != "neutral" else COLORS["navy"]
    paras = [
        Para(block.label, 12, True, COLORS["muted"]),
        Para(block.value, block.size, True, tone),
        *(Para(n, 10, False, COLORS["ink"]) for n in block.notes),
    ]
    frame = shape.text_frame
    frame.margin_left = frame.margin_right = Inches(0.12)
    _text_frame(frame, paras)


def _add_table(slide, block: TableBlock) -> None:  # type: ignore[no-untyped-def]
    from pptx.enum.text import PP_ALIGN
    from pptx.util import Inches, Pt

    b = block.box
    n_rows = len(block.rows) + 1
    n_cols = len(block.header)
    row_h = min(b.h / n_rows, 0.4)
    graphic = slide.shapes.add_table(
        n_rows, n_cols, Inches(b.x), Inches(b.y), Inches(b.w), Inches(row_h * n_rows)
    )
    graphic.name = block.name
    table = graphic.table
    numeric = block.numeric or [False] * n_cols
    if block.widths:
        total = sum(block.widths)
        for c, share in enumerate(block.widths):
            table.columns[c].width = Inches(b.w * share / total)
    for r, cells in enumerate([block.header, *block.rows]):
        table.rows[r].height = Inches(row_h)
        for c, text in enumerate(cells):
            cell = table.cell(r, c)
            cell.margin_top = cell.margin_bottom = Inches(0.02)
            cell.text = text
            p = cell.text_frame.paragraphs[0]
            p.alignment = PP_ALIGN.RIGHT if numeric[c] else PP_ALIGN.LEFT
            for run in p.runs:
                run.font.size = Pt(block.size)
                run.font.bold = r == 0


def _add_chart(slide, block: ChartBlock) -> None:  # type: ignore[no-untyped-def]
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
    from pptx.util import Inches, Pt

    b = block.box
    data = CategoryChartData(number_format=block.number_format)
    data.categories = block.categories
    for name, values in block.series:
        data.add_series(name, values)
    kind = XL_CHART_TYPE.LINE_MARKERS if block.kind == "line" else XL_CHART_TYPE.BAR_CLUSTERED
    graphic = slide.shapes.add_chart(kind, Inches(b.x), Inches(b.y), Inches(b.w), Inches(b.h), data)
    graphic.name = block.name
    chart = graphic.chart
    chart.has_title = True
    chart.chart_title.text_frame.text = block.title
    chart.chart_title.text_frame.paragraphs[0].runs[0].font.size = Pt(12)
    chart.font.size = Pt(9)
    chart.value_axis.tick_labels.number_format = block.number_format
    chart.value_axis.tick_labels.number_format_is_linked = False
    chart.value_axis.has_major_gridlines = True
    if block.kind == "bar":
        plot = chart.plots[0]
        plot.has_data_labels = True
        plot.data_labels.number_format = block.number_format
        plot.data_labels.number_format_is_linked = False
        plot.data_labels.font.size = Pt(9)
    chart.has_legend = block.legend and len(block.series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.RIGHT
        chart.legend.include_in_layout = False


def _render(deck: Deck):  # type: ignore[no-untyped-def]
    try:
        from pptx import Presentation
        from pptx.util import Inches
    except ModuleNotFoundError as exc:  # pragma: no cover - a declared dependency
        from helix.errors import ConfigError

        raise ConfigError(
            "python-pptx is not installed", hint="pip install 'python-pptx>=1.0'"
        ) from exc
    prs = Presentation()
    prs.slide_width = Inches(SLIDE_WIDTH)
    prs.slide_height = Inches(SLIDE_HEIGHT)
    blank = prs.slide_layouts[6]
    for spec in deck.slides:
        slide = prs.slides.add_slide(blank)
        head = TextBlock(
            "title",
            Box(0.4, 0.2, SLIDE_WIDTH - 0.8, 0.9),
            [
                Para(spec.title, 24, True, COLORS["navy"]),
                Para(spec.subtitle, 11, False, COLORS["muted"]),
            ],
        )
        _add_text(slide, head)
        for block in spec.blocks:
            if isinstance(block, TextBlock):
                _add_text(slide, block)
            elif isinstance(block, MetricBlock):
                _add_metric(slide, block)
            elif isinstance(block, TableBlock):
                _add_table(slide, block)
            else:
                _add_chart(slide, block)
        if spec.footer:
            _add_text(
                slide,
                TextBlock(
                    "footer",
                    Box(0.4, SLIDE_HEIGHT - 0.45, SLIDE_WIDTH - 0.8, 0.35),
                    [Para(spec.footer, 8, False, COLORS["muted"])],
                ),
            )
    props = prs.core_properties
    props.title = deck.title
    props.subject = deck.subject
    props.author = "Helix"
    props.comments = deck.comments
    return prs


def render_pptx(deck: Deck, path: str | Path) -> Path:
    """Write ``deck`` as a PowerPoint file to ``path``; return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _render(deck).save(str(target))
    return target


def pptx_bytes(deck: Deck) -> bytes:
    """``deck`` as the bytes of a PowerPoint file (for downloads)."""
    buf = io.BytesIO()
    _render(deck).save(buf)
    return buf.getvalue()
