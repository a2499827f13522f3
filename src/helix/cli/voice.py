"""`helix voice ...`: NPS and CSAT with intervals, themes, closed-loop compliance.

Each command calls one function of :mod:`helix.voice` and prints a table, or one JSON
document with ``--json``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from helix.cli.main import settings_of
from helix.cli.output import JsonOpt, emit, out
from helix.platform import Platform

voice_app = typer.Typer(
    name="voice",
    help="Voice of the customer: NPS, CSAT, themes, closed-loop follow-up.",
    no_args_is_help=True,
)

FromOpt = Annotated[datetime | None, typer.Option(
    "--from", formats=["%Y-%m-%d"], help="First day of answers (YYYY-MM-DD).")]
ToOpt = Annotated[datetime | None, typer.Option(
    "--to", formats=["%Y-%m-%d"], help="Day after the last answer (exclusive).")]
ByOpt = Annotated[str, typer.Option("--by", help="month or quarter")]
SegmentByOpt = Annotated[str, typer.Option("--segment-by", help="segment or tier")]


def register(app: typer.Typer) -> None:
    """Add the `voice` command group to ``app``."""
    app.add_typer(voice_app, name="voice")


def _d(value: datetime | None) -> Any:
    return value.date() if value is not None else None


def _ci(x: list[float] | None, pct: bool = False) -> str:
    if not x:
        return "-"
    return f"{x[0] * 100:.1f}% .. {x[1] * 100:.1f}%" if pct else f"{x[0]:+.1f} .. {x[1]:+.1f}"


def _render_scores(d: dict[str, Any]) -> None:
    nps = d["measure"] == "nps"
    for title, rows, key in (("by " + d["by"], d["series"], "period"),
                             ("by " + d["segment_by"], d["segments"], "segment")):
        t = Table(title=f"{d['measure'].upper()} {title}")
        t.add_column(key)
        cols = (("n", "promoters", "passives", "detractors", "NPS", "95% interval") if nps else
                ("n", "satisfied", "CSAT", "95% interval", "mean"))
        for c in cols:
            t.add_column(c, justify="right")
        for r in [*rows, {key: "overall", **d["overall"]}]:
            if nps:
                t.add_row(str(r[key]), str(r["n"]), str(r["promoters"]), str(r["passives"]),
                          str(r["detractors"]), "-" if r["nps"] is None else f"{r['nps']:+.1f}",
                          _ci(r["ci"]))
            else:
                t.add_row(str(r[key]), str(r["n"]), str(r["satisfied"]),
                          "-" if r["csat"] is None else f"{r['csat'] * 100:.1f}%",
                          _ci(r["ci"], True),
                          "-" if r["mean_score"] is None else f"{r['mean_score']:.2f}")
        out.print(t)
    out.print(d["method"], highlight=False)


def _scores(ctx: typer.Context, measure: str, by: str, segment_by: str, first: Any, last: Any,
            as_json: bool) -> None:
    from helix.voice.nps import voice_scores

    with Platform(settings_of(ctx)) as platform:
        doc = voice_scores(platform.warehouse, measure, by=by, segment_by=segment_by,
                           start=_d(first), end=_d(last))
    emit(doc, as_json, _render_scores)


@voice_app.command("nps")
def nps_cmd(ctx: typer.Context, by: ByOpt = "month", segment_by: SegmentByOpt = "segment",
            first: FromOpt = None, last: ToOpt = None, as_json: JsonOpt = False) -> None:
    """NPS over time and by segment, with 95% intervals."""
    _scores(ctx, "nps", by, segment_by, first, last, as_json)


@voice_app.command("csat")
def csat_cmd(
    ctx: typer.Context, by: ByOpt = "month", segment_by: SegmentByOpt = "segment",
    first: FromOpt = None, last: ToOpt = None,
    tickets: Annotated[bool, typer.Option(
        "--tickets", help="CSAT of support tickets instead of CSAT surveys.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """CSAT (share of 4-5 answers) over time and by segment, with 95% intervals."""
    _scores(ctx, "ticket_csat" if tickets else "csat", by, segment_by, first, last, as_json)


@voice_app.command("themes")
def themes_cmd(
    ctx: typer.Context,
    k: Annotated[int, typer.Option("--k", min=1, max=30, help="Number of themes.")] = 6,
    source: Annotated[list[str] | None, typer.Option(
        "--source", help="surveys and/or tickets (repeat; default both).")] = None,
    first: FromOpt = None, last: ToOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Themes of comments and tickets (TF-IDF + NMF), with trend, sentiment and examples."""
    from helix.voice.themes import voice_themes

    with Platform(settings_of(ctx)) as platform:
        doc = voice_themes(platform.warehouse, k=k, sources=tuple(source or ("surveys", "tickets")),
                           start=_d(first), end=_d(last))

    def render(d: dict[str, Any]) -> None:
        t = Table(title=f"{len(d['themes'])} themes in {d['texts']} texts")
        for c in ("theme", "texts", "share", "sentiment", "negative", "example"):
            t.add_column(c, justify="right" if c in ("texts", "share", "sentiment", "negative")
                         else "left", overflow="fold")
        for th in d["themes"]:
            t.add_row(th["label"], str(th["count"]), f"{th['share'] * 100:.1f}%",
                      f"{th['sentiment']:+.2f}", f"{th['negative_share'] * 100:.0f}%",
                      th["examples"][0]["text"][:90] if th["examples"] else "")
        out.print(t)

    emit(doc, as_json, render)


@voice_app.command("closed-loop")
def closed_loop_cmd(
    ctx: typer.Context,
    sla_days: Annotated[float | None, typer.Option(
        "--sla-days", min=0.01, help="SLA in days (default: setting, else 2).")] = None,
    first: FromOpt = None, last: ToOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Did every detractor get a follow-up within the SLA? Compliance and the misses."""
    from helix.exec.service import data_as_of
    from helix.voice.closed_loop import closed_loop

    with Platform(settings_of(ctx)) as platform, platform.store.session() as session:
        doc = closed_loop(platform.warehouse, session, data_as_of(platform), sla_days=sla_days,
                          start=_d(first), end=_d(last))

    def render(d: dict[str, Any]) -> None:
        rate = "-" if d["compliance"] is None else f"{d['compliance'] * 100:.1f}%"
        out.print(f"{d['detractors']} detractors; SLA {d['sla_days']:g} days; compliance {rate} "
                  f"({d['on_time']} on time, {d['late']} late, {d['missed']} missed, "
                  f"{d['open']} still open)", highlight=False)
        t = Table(title="misses")
        for c in ("answered", "account", "owner", "score", "status", "followed up"):
            t.add_column(c)
        for m in d["misses"][:50]:
            t.add_row(m["responded_at"][:16], m["account_name"] or m["account_id"],
                      m["owner_email"] or "-", str(m["score"]), m["status"],
                      (m["followed_up_at"] or "-")[:16])
        out.print(t)
        if len(d["misses"]) > 50:
            out.print(f"... and {len(d['misses']) - 50} more (--json has them all)")

    emit(doc, as_json, render)
