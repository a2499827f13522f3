"""`helix notes` and `helix plans`: an account's notes and its success plan, from the shell.

Edits name the version they were based on (``--version``, shown by ``list``/``show``), so
a change made meanwhile in the web app is refused rather than overwritten.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from helix.cli.admin import cli_actor
from helix.cli.main import settings_of
from helix.cli.output import JsonOpt, emit, out
from helix.platform import Platform

notes_app = typer.Typer(help="Notes on accounts.", no_args_is_help=True)
plans_app = typer.Typer(
    help="Success plans: objective, goals and milestones.", no_args_is_help=True
)

Account = Annotated[str, typer.Argument(help="The account id.")]
Text = Annotated[str, typer.Option("--text", help="The text.")]
Version = Annotated[int, typer.Option("--version", help="The version you read (see list/show).")]
DateOpt = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="YYYY-MM-DD.")]


def register(app: typer.Typer) -> None:
    """Add the `notes` and `plans` groups to ``app``."""
    app.add_typer(notes_app, name="notes")
    app.add_typer(plans_app, name="plans")


def _platform(ctx: typer.Context) -> Platform:
    return Platform(settings_of(ctx))


def _check_account(p: Platform, account_id: str) -> None:
    from helix.customer import find_account

    find_account(p.warehouse, account_id, None)  # the CLI is the operator: every book
    p.release_warehouse()


def _print_note(n: dict[str, Any]) -> None:
    out.print(f"note {n['id']} (version {n['version']}) on {n['account_id']} by {n['author']}")


@notes_app.command("add")
def notes_add(
    ctx: typer.Context, account_id: Account, text: Text, as_json: JsonOpt = False
) -> None:
    """Add a note to an account."""
    from helix.customer import add_note

    with _platform(ctx) as p:
        _check_account(p, account_id)
        with p.store.session() as s:
            doc = add_note(s, account_id, text, actor=cli_actor()).to_dict()
    emit(doc, as_json, _print_note)


@notes_app.command("list")
def notes_list(ctx: typer.Context, account_id: Account, as_json: JsonOpt = False) -> None:
    """An account's notes, newest first."""
    from helix.customer import list_notes

    with _platform(ctx) as p:
        _check_account(p, account_id)
        with p.store.session() as s:
            doc = [n.to_dict() for n in list_notes(s, account_id)]

    def render(rows: list[dict[str, Any]]) -> None:
        t = Table(title=f"notes on {account_id}")
        for col in ("id", "v", "when", "author", "note"):
            t.add_column(col)
        for n in rows:
            t.add_row(str(n["id"]), str(n["version"]), n["created_at"][:16], n["author"], n["body"])
        out.print(t)

    emit(doc, as_json, render)


@notes_app.command("edit")
def notes_edit(
    ctx: typer.Context, note_id: int, text: Text, version: Version, as_json: JsonOpt = False
) -> None:
    """Replace a note's text (refused if it changed since --version)."""
    from helix.customer import update_note

    with _platform(ctx) as p, p.store.session() as s:
        doc = update_note(s, note_id, text, version=version, actor=cli_actor()).to_dict()
    emit(doc, as_json, _print_note)


@notes_app.command("delete")
def notes_delete(
    ctx: typer.Context, note_id: int, version: Version, as_json: JsonOpt = False
) -> None:
    """Delete a note (refused if it changed since --version)."""
    from helix.customer import delete_note

    with _platform(ctx) as p, p.store.session() as s:
        delete_note(s, note_id, version=version, actor=cli_actor())
    emit({"id": note_id, "deleted": True}, as_json, lambda d: out.print(f"note {note_id} deleted"))


def _plan(p: Platform, account_id: str) -> dict[str, Any]:
    from helix.customer import plan_dict
    from helix.predict.service import data_as_of

    today = data_as_of(p.warehouse)
    p.release_warehouse()
    with p.store.session() as s:
        return plan_dict(s, account_id, today=today)


def _render_plan(plan: dict[str, Any]) -> None:
    out.print(f"[bold]{plan['account_id']}[/bold] success plan, version {plan['version']}")
    out.print(f"objective: {plan['objective'] or '(none)'}")
    for g in plan["goals"]:
        late = " OVERDUE" if g["overdue"] else ""
        out.print(
            f"  goal {g['id']} (v{g['version']}) [{g['status']}]{late} {g['title']}"
            f" — target {g['target_date'] or 'none'},"
            f" {g['milestones_done']}/{g['milestones_total']} done"
        )
        for m in g["milestones"]:
            mark = "x" if m["status"] == "done" else " "
            out.print(
                f"    [{mark}] milestone {m['id']} (v{m['version']}) {m['title']}"
                f" — due {m['due_date'] or 'none'}"
            )


@plans_app.command("show")
def plans_show(ctx: typer.Context, account_id: Account, as_json: JsonOpt = False) -> None:
    """An account's success plan with its goals and milestones."""
    with _platform(ctx) as p:
        _check_account(p, account_id)
        doc = _plan(p, account_id)
    emit(doc, as_json, _render_plan)


@plans_app.command("set-objective")
def plans_objective(
    ctx: typer.Context,
    account_id: Account,
    text: Text,
    version: Annotated[
        int, typer.Option("--version", help="The plan version you read (0: new).")
    ] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Set the plan's objective."""
    from helix.customer import put_plan

    with _platform(ctx) as p:
        _check_account(p, account_id)
        with p.store.session() as s:
            put_plan(s, account_id, text, version=version, actor=cli_actor())
        doc = _plan(p, account_id)
    emit(doc, as_json, _render_plan)


@plans_app.command("add-goal")
def plans_add_goal(
    ctx: typer.Context,
    account_id: Account,
    title: Annotated[str, typer.Option("--title", help="What the customer wants.")],
    target_date: DateOpt = None,
    description: Annotated[str, typer.Option("--description")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Add a goal to an account's plan."""
    from helix.customer import add_goal

    with _platform(ctx) as p:
        _check_account(p, account_id)
        with p.store.session() as s:
            add_goal(
                s,
                account_id,
                title,
                actor=cli_actor(),
                description=description,
                target_date=target_date.date() if target_date else None,
            )
        doc = _plan(p, account_id)
    emit(doc, as_json, _render_plan)


@plans_app.command("add-milestone")
def plans_add_milestone(
    ctx: typer.Context,
    goal_id: int,
    title: Annotated[str, typer.Option("--title")],
    due: DateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a milestone to a goal."""
    from helix.customer import add_milestone, get_goal

    with _platform(ctx) as p:
        with p.store.session() as s:
            account_id = get_goal(s, goal_id).account_id
            add_milestone(
                s, goal_id, title, actor=cli_actor(), due_date=due.date() if due else None
            )
        doc = _plan(p, account_id)
    emit(doc, as_json, _render_plan)


@plans_app.command("complete")
def plans_complete(
    ctx: typer.Context,
    what: Annotated[str, typer.Argument(help="goal or milestone")],
    item_id: int,
    version: Version,
    as_json: JsonOpt = False,
) -> None:
    """Complete a goal (achieved) or a milestone (done)."""
    from helix.customer import get_goal, get_milestone, update_goal, update_milestone
    from helix.errors import UserError

    with _platform(ctx) as p:
        with p.store.session() as s:
            if what == "goal":
                account_id = get_goal(s, item_id).account_id
                update_goal(s, item_id, version=version, actor=cli_actor(), status="achieved")
            elif what == "milestone":
                account_id = get_milestone(s, item_id).goal.account_id
                update_milestone(s, item_id, version=version, actor=cli_actor(), status="done")
            else:
                raise UserError(f"cannot complete a {what!r}", hint="goal or milestone")
        doc = _plan(p, account_id)
    emit(doc, as_json, _render_plan)
