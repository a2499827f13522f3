"""`helix forensics`: reconstruct churns, find the patterns (docs/forensics.md).

``helix forensics ACCOUNT_ID`` is short for ``helix forensics account ACCOUNT_ID``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import click
import typer
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from helix.cli.main import settings_of
from helix.cli.output import JsonOpt, emit, out
from helix.platform import Platform


class _AccountByDefault(TyperGroup):
    """A group whose unknown first word is an account id for the ``account`` command."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "account", self.commands["account"], args
        return super().resolve_command(ctx, args)  # type: ignore[no-any-return]


forensics_app = typer.Typer(
    cls=_AccountByDefault,
    help="Churn forensics: the year before each churn, the warnings and how early they came, "
    "and the patterns across churns. `helix forensics ACCOUNT_ID` is short for "
    "`helix forensics account ACCOUNT_ID`.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the `forensics` command group to ``app``."""
    app.add_typer(forensics_app, name="forensics")


def _date_opt(flag: str, help_text: str) -> Any:
    return typer.Option(flag, formats=["%Y-%m-%d"], help=help_text)


FromOpt = Annotated[
    datetime | None, _date_opt("--from", "First day of the period (default: see the command).")
]
ToOpt = Annotated[
    datetime | None,
    _date_opt(
        "--to", "Day after the period (half-open; default: the day after the ledger's as-of)."
    ),
]


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _money(x: Any) -> str:
    return "-" if x is None else f"{x:,.2f}"


def _pct(x: Any) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def _days(x: Any) -> str:
    return "-" if x is None else f"{x:g} d"


def _render_account(d: dict[str, Any]) -> None:
    a, c, p = d["account"], d["churn"], d["pattern"]
    out.print(
        f"[bold]{escape(a['name'])}[/bold] ({escape(a['account_id'])}, "
        f"{escape(a['segment'] or 'no segment')}, owner {escape(a['owner_email'] or '-')})"
    )
    out.print(
        f"  churned {c['churn_date']} ({c['churn_type']}), MRR {_money(c['churned_mrr'])} lost; "
        f"reason: {escape(c['reason'] or 'none recorded')}"
    )
    if d["other_churns"]:
        out.print(f"  other churns of this account: {', '.join(d['other_churns'])}")
    out.print(f"  pattern: [bold]{p['label']}[/bold] ({escape('; '.join(p['why']))})")
    table = Table(title=f"warnings in the {d['config']['lookback_days']} days before the churn")
    for col in ("warning", "visible from", "days ahead", "first seen", "days ahead (first)"):
        table.add_column(col)
    for w in d["warnings"]:
        if not w["available"]:
            table.add_row(w["label"], "no data", "", "", "")
        elif w["first_seen"] or w["visible_from"]:
            table.add_row(
                w["label"],
                w["visible_from"] or "off at the churn",
                _days(w["lead_days"]),
                w["first_seen"] or "-",
                _days(w["first_lead_days"]),
            )
    out.print(table)
    out.print(f"[bold]timeline[/bold] {d['window']['from']} .. {d['window']['to']}")
    for e in d["events"]:
        out.print(f"  {e['date']}  {e['source']:<10}  {e['what']}", markup=False, highlight=False)
    if d["missing_sources"]:
        out.print(f"  no data in: {', '.join(d['missing_sources'])}")
    for n in d["notes"]:
        out.print(f"  note: {n}")


@forensics_app.command("account")
def account_cmd(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(help="The churned account.")],
    churn_date: Annotated[
        datetime | None,
        _date_opt(
            "--churn-date",
            "Which churn, when the account churned more than once (default: its latest).",
        ),  # fmt: skip
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The year before one churn: timeline, warnings and how many days ahead, pattern."""
    from helix.predict.forensics import account_forensics

    with Platform(settings_of(ctx)) as platform:
        doc = account_forensics(platform.warehouse, account_id, churn_date=_day(churn_date))
    emit(doc, as_json, _render_account)


def _churn_table(rows: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title)
    for col in ("account", "churned", "MRR lost", "type", "pattern", "earliest warning", "reason"):
        table.add_column(col)
    for r in rows:
        warn = (
            f"{r['earliest_warning_label']} ({r['earliest_lead_days']} d)"
            if r["earliest_warning"]
            else "-"
        )
        table.add_row(
            escape(f"{r['name']} ({r['account_id']})"),
            r["churn_date"],
            _money(r["churned_mrr"]),
            r["churn_type"],
            r["pattern_label"],
            warn,
            escape(r["reason"] or "-"),
        )
    return table


@forensics_app.command("churns")
def churns_cmd(
    ctx: typer.Context,
    start: FromOpt = None,
    end: ToOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="How many churns.")] = 5,
    brief: Annotated[
        bool, typer.Option("--brief", help="Only the list, without each churn's forensics.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The churns of a period that lost the most MRR (default: the last 91 days), reconstructed."""
    from helix.predict.forensics import painful_churns

    with Platform(settings_of(ctx)) as platform:
        doc = painful_churns(
            platform.warehouse, start=_day(start), end=_day(end), limit=limit, detail=not brief
        )

    def render(d: dict[str, Any]) -> None:
        p = d["period"]
        out.print(
            f"[bold]{d['churns_in_period']} churns[/bold] from {p['from']} to before {p['to']}, "
            f"MRR {_money(d['churned_mrr_in_period'])} lost; the {len(d['churns'])} largest:"
        )
        out.print(_churn_table(d["churns"], "most painful churns"))
        for r in d["churns"]:
            if "forensics" in r:
                out.rule()
                _render_account(r["forensics"])
        for n in d["notes"]:
            out.print(f"note: {n}")

    emit(doc, as_json, render)


@forensics_app.command("summary")
def summary_cmd(
    ctx: typer.Context,
    start: FromOpt = None,
    end: ToOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Patterns across a period's churns (default: the last 365 days); how early warnings came."""
    from helix.predict.forensics import forensics_summary

    with Platform(settings_of(ctx)) as platform:
        doc = forensics_summary(platform.warehouse, start=_day(start), end=_day(end))

    def render(d: dict[str, Any]) -> None:
        p, e = d["period"], d["earliest_warning"]
        out.print(
            f"[bold]{d['churns']} churns[/bold] from {p['from']} to before {p['to']}, "
            f"MRR {_money(d['churned_mrr'])} lost "
            f"({', '.join(f'{k} {v}' for k, v in d['churn_types'].items() if v)})"
        )
        out.print(
            f"  a warning was visible before {_pct(e['warned_share'])} of them, "
            f"{_pct(e['warned_early_share'])} at least {e['early_warning_days']} days ahead; "
            f"median lead of the earliest warning {_days(e['median_lead_days'])}"
        )
        pt = Table(title="patterns")
        for col in ("pattern", "churns", "share", "MRR lost", "MRR share", "median lead",
                    f"warned >= {e['early_warning_days']} d"):  # fmt: skip
            pt.add_column(col)
        for r in d["patterns"]:
            pt.add_row(r["label"], str(r["churns"]), _pct(r["share"]), _money(r["churned_mrr"]),
                       _pct(r["mrr_share"]), _days(r["median_lead_days"]),
                       _pct(r["warned_early_share"]))  # fmt: skip
        out.print(pt)
        wt = Table(title="warnings: visible at the churn vs how common for every account")
        for col in ("warning", "churns", "share", "base rate", "median lead"):
            wt.add_column(col)
        for w in d["warnings"]:
            if not w["available"]:
                wt.add_row(w["label"], "no data", "", "", "")
                continue
            wt.add_row(w["label"], str(w["churns_warned"]), _pct(w["share_of_churns"]),
                       _pct(w["base_rate"]), _days(w["median_lead_days"]))  # fmt: skip
        out.print(wt)
        if d["missing_sources"]:
            out.print(f"  no data in: {', '.join(d['missing_sources'])}")
        for n in d["notes"]:
            out.print(f"  note: {n}")

    emit(doc, as_json, render)
