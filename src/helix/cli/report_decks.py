"""`helix report board` and `helix report qbr`: the board slide and an account's QBR deck.

Each command computes its report with :mod:`helix.reports` and writes the
PowerPoint file (``--out``), optionally a PDF of the same slides (``--pdf``);
``--json`` prints the numbers placed on the slides as one JSON document.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from helix.cli.main import settings_of
from helix.cli.output import JsonOpt, emit, err, out
from helix.errors import UserError
from helix.platform import Platform

OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Write the PowerPoint file here (.pptx).")
]
PdfOpt = Annotated[
    Path | None, typer.Option("--pdf", help="Also write the slides as a PDF here (.pdf).")
]


def register(report_app: typer.Typer) -> None:
    """Add the `board` and `qbr` commands to the `report` group."""
    report_app.command("board")(board_cmd)
    report_app.command("qbr")(qbr_cmd)


def _check_suffix(path: Path | None, suffix: str, flag: str) -> None:
    if path is not None and path.suffix.lower() != suffix:
        raise UserError(
            f"{flag} {path.name}: the file must end in {suffix}", hint=f"e.g. {flag} report{suffix}"
        )


def _write(deck: Any, pptx: Path | None, pdf: Path | None) -> dict[str, str]:
    from helix.reports.pdf import render_pdf
    from helix.reports.slides import render_pptx

    files = {}
    if pptx is not None:
        files["pptx"] = str(render_pptx(deck, pptx))
    if pdf is not None:
        files["pdf"] = str(render_pdf(deck, pdf))
    return files


def _render_board(d: dict[str, Any]) -> None:
    from helix.reports.formats import money, pct, points

    h = d["headline"]
    out.print(
        f"[bold]board slide {d['period']}[/bold] ({d['window']['start']} .. {d['window']['end']})"
    )
    for key, label in (("nrr", "NRR"), ("grr", "GRR"), ("logo_retention", "logo retention")):
        x = h[key]
        target = "" if x["target"] is None else f", target {pct(x['target'])}"
        out.print(
            f"  {label}: {pct(x['value'])} (prior {pct(x['prior'])}, {points(x['change'])}{target})"
        )
    f = d["forecast"]
    out.print(
        f"  renewals {f['period']}: {f['renewals']} worth {money(f['arr'])} ARR, "
        f"at risk {money(f['at_risk_arr'])}"
    )
    for i, r in enumerate(d["risks"], 1):
        out.print(f"  risk {i}: {r['title']} — {r['plan']['summary']}")
    for kind, path in d.get("files", {}).items():
        err.print(f"wrote {kind}: {path}")


def board_cmd(
    ctx: typer.Context,
    period: Annotated[str, typer.Option("--period", help="The quarter, e.g. 2025Q3.")],
    out_path: OutOpt = None,
    pdf: PdfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The board slide of a quarter (NRR, GRR, logo retention, composition, cohorts,
    forward view, two risks) and its appendix, as PPTX (and PDF).

    Without --out, --pdf or --json the slide is written to board-PERIOD.pptx.
    """
    from helix.reports.board import board_report
    from helix.reports.board_deck import board_deck
    from helix.reports.periods import parse_quarter

    quarter = parse_quarter(period)
    _check_suffix(out_path, ".pptx", "--out")
    _check_suffix(pdf, ".pdf", "--pdf")
    if out_path is None and pdf is None and not as_json:
        out_path = Path(f"board-{quarter.label}.pptx")
    with Platform(settings_of(ctx)) as platform:
        report = board_report(platform, quarter)
    doc = report.to_dict()
    doc["files"] = _write(board_deck(report), out_path, pdf)
    emit(doc, as_json, _render_board)


def _render_qbr(d: dict[str, Any]) -> None:
    a = d["account"]
    out.print(f"[bold]QBR {a.get('name') or a['account_id']}[/bold] as of {d['as_of']}")
    for key, text in d["narrative"]["sections"].items():
        out.print(f"  [bold]{key.replace('_', ' ')}[/bold]: {text}")
    out.print(f"  {d['narrative']['produced_by']}")
    for kind, path in d.get("files", {}).items():
        err.print(f"wrote {kind}: {path}")


def qbr_cmd(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(help="The account whose QBR to prepare.")],
    out_path: OutOpt = None,
    pdf: PdfOpt = None,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="Review as of this date (default: the last `helix run`).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """An account's QBR deck: goals, what changed, where the product helps and does not,
    a recommendation, next steps and attendees.

    Without --out, --pdf or --json the deck is written to qbr-ACCOUNT_ID.pptx. The
    narrative comes from templates; with the `llm` setting enabled an LLM may rewrite it.
    """
    from helix.reports.qbr_deck import qbr_deck, qbr_report

    _check_suffix(out_path, ".pptx", "--out")
    _check_suffix(pdf, ".pdf", "--pdf")
    if out_path is None and pdf is None and not as_json:
        out_path = Path(f"qbr-{account_id}.pptx")
    with Platform(settings_of(ctx)) as platform:
        report = qbr_report(platform, account_id, as_of=as_of.date() if as_of else None)
    doc = report.to_dict()
    doc["files"] = _write(qbr_deck(report), out_path, pdf)
    emit(doc, as_json, _render_qbr)
