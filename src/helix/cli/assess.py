"""`helix assess ...`: the maturity assessment and the two strategic scorecards.

* ``helix assess maturity|imperatives|pillars``: answer the questionnaire (prompts, or
  ``--answers answers.yaml`` for scripts) and store the scorecard;
* ``helix assess evidence [--backtest]``: what Helix's data proposes for each dimension;
* ``helix assess history KIND``: every stored scorecard and the progress;
* ``helix assess questions KIND``: the questionnaire.

An answers file maps each item key to a score 1-10, optionally with notes::

    scores: {strategy: 4, organisation: 5, technology: 6, processes: 3, talent: 5,
             measurement: 4}
    notes: {processes: "renewals still run from a spreadsheet"}

(a flat ``{key: score}`` mapping works too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from helix.cli.main import settings_of
from helix.cli.output import JsonOpt, emit, err, out
from helix.errors import UserError
from helix.platform import Platform

assess_app = typer.Typer(
    name="assess",
    help="Maturity assessment, four imperatives and six pillars scorecards.",
    no_args_is_help=True,
)

AnswersOpt = Annotated[
    Path | None,
    typer.Option("--answers", exists=True, dir_okay=False,
                 help="YAML file with the scores (no prompts)."),
]


def register(app: typer.Typer) -> None:
    """Add the `assess` command group to ``app``."""
    app.add_typer(assess_app, name="assess")


def read_answers(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Scores and notes of an answers file (module docstring)."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise UserError(f"{path.name} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path.name} must map item keys to scores")
    if "scores" in data:
        scores, notes = data.get("scores") or {}, data.get("notes") or {}
        if not isinstance(scores, dict) or not isinstance(notes, dict):
            raise UserError(f"{path.name}: scores and notes must be mappings")
        return scores, {str(k): str(v) for k, v in notes.items()}
    return data, {}


def _prompt(kind: str, evidence: dict[str, Any] | None) -> tuple[dict[str, int], dict[str, str]]:
    from helix.exec.frameworks import framework

    fw = framework(kind)
    err.print(f"[bold]{fw.title}[/bold] ({fw.source}): score each from 1 to 10.")
    scores: dict[str, int] = {}
    notes: dict[str, str] = {}
    for item in fw.items:
        err.print(f"\n[bold]{item.name}[/bold]: {item.question}", highlight=False)
        if item.levels:
            err.print("  " + " | ".join(f"{lv} ({lo}-{hi}): {text}" for (lv, lo, hi), text in
                                        zip(_levels(), item.levels, strict=True)),
                      highlight=False)
        default = None
        if evidence is not None:
            e = evidence["dimensions"][item.key]
            if e["proposed"] is not None:
                default = e["proposed"]
                err.print(f"  Helix proposes {default} ({e['level']}): {e['why']}",
                          highlight=False)
        while True:
            value = typer.prompt("  score", default=default, type=int, err=True)
            if 1 <= value <= 10:
                break
            err.print("  a score is a whole number from 1 to 10")
        scores[item.key] = value
        note = typer.prompt("  note (optional)", default="", show_default=False, err=True)
        if note.strip():
            notes[item.key] = note.strip()
    return scores, notes


def _levels() -> tuple[tuple[str, int, int], ...]:
    from helix.exec.frameworks import LEVELS

    return LEVELS


def render_scorecard(d: dict[str, Any]) -> None:
    """A scorecard as a table, then its priority and guidance."""
    t = Table(title=f"{d['title']}: average {d['average']:.2f} ({d['average_level']})")
    for col in ("item", "score", "level", "proposed", "note"):
        t.add_column(col, justify="right" if col in ("score", "proposed") else "left")
    for i in d["items"]:
        name = f"[bold red]{i['name']} (priority)[/bold red]" if i["priority"] else i["name"]
        proposed = i.get("proposed")
        t.add_row(name, str(i["score"]), i["level"], "-" if proposed is None else str(proposed),
                  i.get("note", ""))
    out.print(t)
    out.print(f"Priority: {', '.join(d['priority_names'])} ({d['priority_rule']}).",
              highlight=False)
    if d.get("guidance"):
        out.print(f"[bold]{d['guidance']['title']}[/bold]: {d['guidance']['text']}",
                  highlight=False)
    if d.get("id"):
        err.print(f"stored as assessment {d['id']} at {d['taken_at']}", highlight=False)


def _take(ctx: typer.Context, kind: str, answers: Path | None, as_json: bool) -> None:
    from helix.cli.admin import cli_actor
    from helix.exec import service

    with Platform(settings_of(ctx)) as platform:
        if answers is not None:
            scores, notes = read_answers(answers)
        else:
            if as_json:
                raise UserError("--json needs --answers (prompts would mix with the JSON)")
            evidence = service.maturity_evidence(platform) if kind == "maturity" else None
            scores, notes = _prompt(kind, evidence)
        doc = service.take_assessment(platform, kind, scores, notes=notes, actor=cli_actor())
    emit(doc, as_json, render_scorecard)


@assess_app.command("maturity")
def maturity_cmd(ctx: typer.Context, answers: AnswersOpt = None, as_json: JsonOpt = False) -> None:
    """Score the six maturity dimensions 1-10 (Helix proposes scores from its data)."""
    _take(ctx, "maturity", answers, as_json)


@assess_app.command("imperatives")
def imperatives_cmd(
    ctx: typer.Context, answers: AnswersOpt = None, as_json: JsonOpt = False
) -> None:
    """Score the four strategic imperatives 1-10."""
    _take(ctx, "imperatives", answers, as_json)


@assess_app.command("pillars")
def pillars_cmd(ctx: typer.Context, answers: AnswersOpt = None, as_json: JsonOpt = False) -> None:
    """Score the six pillars 1-10."""
    _take(ctx, "pillars", answers, as_json)


@assess_app.command("evidence")
def evidence_cmd(
    ctx: typer.Context,
    backtest: Annotated[bool, typer.Option(
        "--backtest", help="Backtest the health score first and store the result.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """What Helix's data proposes for each maturity dimension, and why."""
    from helix.cli.admin import cli_actor
    from helix.exec import service

    with Platform(settings_of(ctx)) as platform:
        doc = service.maturity_evidence(platform, backtest=backtest, actor=cli_actor())

    def render(d: dict[str, Any]) -> None:
        for e in d["dimensions"].values():
            head = "no proposal" if e["proposed"] is None else f"{e['proposed']} ({e['level']})"
            out.print(f"[bold]{e['name']}[/bold]: {head}. {e['why']}", highlight=False)
            for r in e["rungs"]:
                mark = "[green]yes[/green]" if r["passed"] else "[red]no[/red]"
                out.print(f"  {r['score']:>2} {mark} {r['label']}: {r['found']}", highlight=False)

    emit(doc, as_json, render)


@assess_app.command("history")
def history_cmd(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="maturity, imperatives or pillars")] = "maturity",
    as_json: JsonOpt = False,
) -> None:
    """Every stored scorecard of a kind, oldest first, with the progress."""
    from helix.exec import service
    from helix.exec.frameworks import framework

    fw = framework(kind)
    with Platform(settings_of(ctx)) as platform:
        doc = service.assessment_history(platform, kind)

    def render(d: dict[str, Any]) -> None:
        t = Table(title=f"{d['title']}: {d['count']} stored")
        t.add_column("taken")
        for item in fw.items:
            t.add_column(item.key, justify="right")
        t.add_column("average", justify="right")
        t.add_column("priority")
        for e in d["entries"]:
            scores = {i["key"]: i["score"] for i in e["items"]}
            t.add_row(e["taken_at"][:16], *(str(scores[k]) for k in fw.item_keys()),
                      f"{e['average']:.2f}", ", ".join(e["priority"]))
        out.print(t)
        if d["progress"]:
            first = d["progress"]["since_first"]
            out.print(f"since the first: average {first['average']:+.2f}; " + ", ".join(
                f"{k} {v:+d}" for k, v in first["items"].items()), highlight=False)

    emit(doc, as_json, render)


@assess_app.command("questions")
def questions_cmd(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="maturity, imperatives or pillars")] = "maturity",
    as_json: JsonOpt = False,
) -> None:
    """The questionnaire of a kind (keys for an answers file)."""
    from helix.exec import service

    doc = service.questionnaire(kind)

    def render(d: dict[str, Any]) -> None:
        out.print(f"[bold]{d['title']}[/bold] ({d['source']})", highlight=False)
        for i in d["items"]:
            out.print(f"  {i['key']}: {i['name']}: {i['question']}", highlight=False)

    emit(doc, as_json, render)
