"""`helix report business-case|roadmap|benchmark`: the executive documents.

* ``business-case``: three years of retention, expansion and efficiency value with NPV,
  ROI and payback, from the company's data; every ``--what-if`` flag overrides one input;
* ``roadmap``: the phased plan with live phase gates and quick wins (``--record`` stores
  a progress checkpoint; ``--mark GATE`` records a gate Helix cannot measure);
* ``benchmark``: every metric against the quartiles and bands with the gap to the next
  level in dollars, CSM ratios by segment and tier, cost-to-serve and time-to-value
  (``helix metrics benchmark`` places the same metrics without the gaps).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from helix.cli.main import settings_of
from helix.cli.output import JsonOpt, emit, err, out
from helix.platform import Platform

AsOfOpt = Annotated[datetime | None, typer.Option(
    "--as-of", formats=["%Y-%m-%d"], help="As of this date (default: the last `helix run`).")]


def register(report_app: typer.Typer) -> None:
    """Add the executive commands to the `report` group."""
    report_app.command("business-case")(business_case_cmd)
    report_app.command("roadmap")(roadmap_cmd)
    report_app.command("benchmark")(benchmark_cmd)


def _m(x: Any) -> str:
    return "-" if x is None else f"{float(x):,.2f}"


def _p(x: Any) -> str:
    return "-" if x is None else f"{float(x) * 100:.1f}%"


def render_case(d: dict[str, Any]) -> None:
    """The business case as a table, then its totals."""
    i = d["inputs"]
    out.print(f"ARR {_m(i['arr'])}; GRR {_p(i['grr_base'])} -> {_p(i['grr_target'])}; expansion "
              f"share {_p(i['expansion_share_base'])} -> {_p(i['expansion_share_target'])} of "
              f"growth {_m(i['growth_arr'])}; CS cost {_m(i['cs_cost'])} x "
              f"{_p(i['efficiency_gain'])}; discount rate {_p(i['discount_rate'])}",
              highlight=False)
    t = Table(title=f"business case over {d['years']} years")
    for c in ("year", "retention", "expansion", "efficiency", "benefit", "cost", "net",
              "present value", "cumulative"):
        t.add_column(c, justify="right")
    for r in d["table"]:
        t.add_row(str(r["year"]), _m(r["retention"]), _m(r["expansion"]), _m(r["efficiency"]),
                  _m(r["benefit"]), _m(r["cost"]), _m(r["net"]), _m(r["pv_net"]),
                  _m(r["cumulative_net"]))
    out.print(t)
    roi = "-" if d["roi"] is None else f"{d['roi'] * 100:.1f}%"
    pay = "-" if d["payback_months"] is None else f"{d['payback_months']:.1f} months"
    out.print(f"PV of benefits {_m(d['pv_benefits'])}, PV of costs {_m(d['pv_costs'])}, "
              f"NPV {_m(d['npv'])}, ROI {roi}, payback {pay}", highlight=False)
    for note in d["notes"]:
        err.print(f"[yellow]note:[/yellow] {note}", highlight=False)


def business_case_cmd(
    ctx: typer.Context,
    as_of: AsOfOpt = None,
    arr: Annotated[float | None, typer.Option("--arr", help="What-if: ARR now.")] = None,
    grr: Annotated[float | None, typer.Option("--grr", help="What-if: GRR now (0.90).")] = None,
    grr_target: Annotated[float | None, typer.Option(
        "--grr-target", help="GRR to reach (default: +5 points).")] = None,
    growth_arr: Annotated[float | None, typer.Option(
        "--growth-arr", help="What-if: yearly ARR growth (new + expansion).")] = None,
    expansion_share: Annotated[float | None, typer.Option(
        "--expansion-share", help="What-if: expansion share of growth now (0.10).")] = None,
    expansion_share_target: Annotated[float | None, typer.Option(
        "--expansion-share-target", help="Expansion share to reach (default: +10 points).")
    ] = None,
    cs_cost: Annotated[float | None, typer.Option(
        "--cs-cost", help="What-if: yearly CS cost (default: CSM cost x headcount).")] = None,
    efficiency: Annotated[float | None, typer.Option(
        "--efficiency", help="Share of CS cost saved (default 0.20).")] = None,
    discount_rate: Annotated[float | None, typer.Option(
        "--discount-rate", help="Cost of capital (default: setting, else 0.10).")] = None,
    investment: Annotated[float | None, typer.Option(
        "--investment", help="Up-front investment (year 0).")] = None,
    annual_cost: Annotated[float | None, typer.Option(
        "--annual-cost", help="Running cost of the programme per year.")] = None,
    years: Annotated[int | None, typer.Option("--years", min=1, max=10)] = None,
    months: Annotated[int, typer.Option(
        "--months", min=1, max=120, help="Months of history to measure GRR and growth over "
        "(annualised).")] = 12,
    as_json: JsonOpt = False,
) -> None:
    """Three-year value of retention, expansion and efficiency, with NPV, ROI and payback."""
    from helix.exec.service import business_case_doc

    what_if = {"arr": arr, "grr_base": grr, "grr_target": grr_target, "growth_arr": growth_arr,
               "expansion_share_base": expansion_share,
               "expansion_share_target": expansion_share_target, "cs_cost": cs_cost,
               "efficiency_gain": efficiency, "discount_rate": discount_rate,
               "investment_upfront": investment, "investment_annual": annual_cost,
               "years": years}
    with Platform(settings_of(ctx)) as platform:
        doc = business_case_doc(platform, as_of.date() if as_of else None, what_if=what_if,
                                months=months)
    emit(doc, as_json, render_case)


def render_roadmap(d: dict[str, Any]) -> None:
    """Phases with their gates, the quick wins and the progress."""
    out.print(f"[bold]Current phase: {d['current_phase']}[/bold] "
              f"({d['progress']['done']} of {d['progress']['total']} gates done)",
              highlight=False)
    if d["note"]:
        out.print(d["note"], highlight=False)
    if d["focus"]:
        out.print(f"Focus: {', '.join(d['focus']['names'])} ({d['focus']['why']})",
                  highlight=False)
    mark = {"done": "[green]done[/green]", "not_done": "[red]not done[/red]",
            "unknown": "[yellow]unknown[/yellow]"}
    for p in d["phases"]:
        out.print(f"\n[bold]{p['title']}[/bold] ({p['months']}): {p['done']}/{p['total']}",
                  highlight=False)
        for g in p["gates"]:
            out.print(f"  {mark[g['status']]} {g['label']} [dim]({g['kind']}: {g['found']})[/dim]",
                      highlight=False)
    if d["quick_wins"]:
        out.print("\n[bold]Quick wins[/bold]")
        for w in d["quick_wins"]:
            out.print(f"  - {w['title']}: {w['why']}. {w['how']}", highlight=False)
    if d["checkpoints"]:
        out.print("\n[bold]Progress[/bold]")
        for c in d["checkpoints"]:
            out.print(f"  {c['taken_at'][:10]} {c['phase']}: {c['done']}/{c['total']}",
                      highlight=False)


def roadmap_cmd(
    ctx: typer.Context,
    as_of: AsOfOpt = None,
    record: Annotated[bool, typer.Option(
        "--record", help="Store the gate results as a progress checkpoint.")] = False,
    mark: Annotated[str | None, typer.Option(
        "--mark", help="Record a manual gate as met (e.g. steering_committee).")] = None,
    unmark: Annotated[str | None, typer.Option("--unmark", help="Record it as not met.")] = None,
    note: Annotated[str, typer.Option("--note", help="Note for --mark/--unmark.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """The transformation roadmap: phases, live phase gates, quick wins and progress."""
    from helix.cli.admin import cli_actor
    from helix.exec import service

    day = as_of.date() if as_of else None
    with Platform(settings_of(ctx)) as platform:
        for key, done in ((mark, True), (unmark, False)):
            if key:
                service.mark_gate(platform, key, done, note=note, actor=cli_actor())
        doc = (service.record_checkpoint(platform, day, actor=cli_actor()) if record
               else service.roadmap_doc(platform, day))
    emit(doc, as_json, render_roadmap)


def render_benchmark(d: dict[str, Any]) -> None:
    """Placements with their gaps, then the CSM ratios."""
    t = Table(title=f"benchmarks, {d['window']['start']} .. {d['window']['end']}")
    for c in ("metric", "scale", "value", "level", "next", "gap", "gap $ / year", "basis"):
        t.add_column(c, overflow="fold")
    for p in d["placements"]:
        v = p["value"]
        days = p["metric"].startswith(("accounts", "time"))
        shown = "-" if v is None else (f"{v:.1f}" if days else _p(v))
        gap = "-" if p["gap"] is None else (f"{p['gap']:.1f}" if days else _p(p["gap"]))
        t.add_row(p["metric"], p["kind"], shown, p["level"] or f"({p['note']})",
                  p["next_level"] or "-", gap, _m(p["gap_dollars"]), p["gap_basis"])
    out.print(t)
    s = Table(title="CSM:customer by segment")
    for c in ("segment", "accounts", "CSMs", "accounts/CSM", "ARR/CSM"):
        s.add_column(c, justify="left" if c == "segment" else "right")
    for name, r in d["csm_ratios"]["by_segment"].items():
        s.add_row(name, str(r["accounts"]), str(r["csms"]),
                  "-" if r["accounts_per_csm"] is None else f"{r['accounts_per_csm']:.1f}",
                  _m(r["arr_per_csm"]))
    out.print(s)


def benchmark_cmd(
    ctx: typer.Context,
    as_of: AsOfOpt = None,
    months: Annotated[int, typer.Option("--months", min=1, max=120)] = 12,
    segment: Annotated[str | None, typer.Option("--segment")] = None,
    csm_cost: Annotated[float | None, typer.Option("--csm-cost")] = None,
    csm_headcount: Annotated[int | None, typer.Option("--csm-headcount", min=0)] = None,
    ttv_days: Annotated[float | None, typer.Option(
        "--ttv-days", help="Override the measured median time-to-value.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """NRR, GRR, expansion, CSM ratios, cost-to-serve, TTV vs quartiles, gaps in dollars."""
    from helix.exec.service import benchmark_doc

    with Platform(settings_of(ctx)) as platform:
        doc = benchmark_doc(platform, as_of.date() if as_of else None, months=months,
                            segment=segment, csm_cost=csm_cost, csm_headcount=csm_headcount,
                            ttv_days=ttv_days)
    emit(doc, as_json, render_benchmark)
