"""`helix playbooks`, `helix tasks` and `helix contacts`: the orchestration layer."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from helix.cli.admin import cli_actor
from helix.cli.main import settings_of
from helix.cli.output import JsonOpt, emit, err, out
from helix.platform import Platform

playbooks_app = typer.Typer(
    help="Playbooks: triggers paired with actions, run exactly once per occurrence.",
    no_args_is_help=True,
)
tasks_app = typer.Typer(
    help="The tasks inbox: what each person should do, and when.", no_args_is_help=True
)
contacts_app = typer.Typer(
    help="Customer contacts' communication preferences.", no_args_is_help=True
)

DateOpt = Annotated[
    datetime | None, typer.Option("--as-of", formats=["%Y-%m-%d"], help="Evaluate as of this date.")
]


def register(app: typer.Typer) -> None:
    """Add the `playbooks`, `tasks` and `contacts` groups to ``app``."""
    app.add_typer(playbooks_app, name="playbooks")
    app.add_typer(tasks_app, name="tasks")
    app.add_typer(contacts_app, name="contacts")


def _platform(ctx: typer.Context) -> Platform:
    return Platform(settings_of(ctx))


# --------------------------------------------------------------------------- playbooks


@playbooks_app.command("list")
def list_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every playbook with its trigger, version, state and what it has done."""
    from helix.playbooks.catalog import list_records
    from helix.playbooks.engine import ensure_setup
    from helix.playbooks.impact import funnel

    with _platform(ctx) as p, p.store.session() as s:
        ensure_setup(s, actor=cli_actor())
        rows = [
            {
                "name": r.name,
                "title": r.definition["title"],
                "version": r.version,
                "enabled": r.enabled,
                "source": r.source,
                "trigger": r.definition["trigger"]["type"],
                "holdout": r.definition.get("holdout", 0),
                "evaluated_through": r.evaluated_through,
                "funnel": funnel(s, r.name),
            }
            for r in list_records(s)
        ]

    def render(data: list[dict[str, Any]]) -> None:
        t = Table(title="playbooks")
        for col in ("name", "on", "v", "trigger", "holdout", "triggered", "tasks open", "title"):
            t.add_column(col)
        for r in data:
            t.add_row(
                r["name"],
                "yes" if r["enabled"] else "no",
                str(r["version"]),
                r["trigger"],
                f"{r['holdout']:.0%}",
                str(r["funnel"]["triggered"]),
                str(r["funnel"]["tasks_open"]),
                r["title"],
            )
        out.print(t)

    emit(rows, as_json, render)


@playbooks_app.command("show")
def show_cmd(ctx: typer.Context, name: str, as_json: JsonOpt = False) -> None:
    """One playbook's definition (YAML for people, JSON with --json) and its versions."""
    from helix.playbooks.catalog import export_yaml, get_record, versions

    with _platform(ctx) as p, p.store.session() as s:
        rec = get_record(s, name)
        data = rec.to_dict() | {
            "versions": [
                {"version": v.version, "created_at": v.created_at, "created_by": v.created_by}
                for v in versions(s, name)
            ]
        }
        text = export_yaml(s, name)
    emit(data, as_json, lambda _: out.print(text, highlight=False, markup=False))


@playbooks_app.command("export")
def export_cmd(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help="Playbooks (default: all).")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for NAME.yaml files.")] = Path(
        "playbooks"
    ),
    as_json: JsonOpt = False,
) -> None:
    """Write playbooks as YAML files (one per playbook), to edit and import again."""
    from helix.playbooks.catalog import export_yaml, list_records

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with _platform(ctx) as p, p.store.session() as s:
        for name in names or [r.name for r in list_records(s)]:
            path = out_dir / f"{name}.yaml"
            path.write_text(export_yaml(s, name))
            written.append(str(path))
    emit({"written": written}, as_json, lambda d: err.print(f"wrote {len(d['written'])} files"))


@playbooks_app.command("import")
def import_cmd(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="YAML files, one playbook each.")],
    as_json: JsonOpt = False,
) -> None:
    """Import playbooks from YAML: all are validated first; a changed one gets a new version."""
    from helix.playbooks.catalog import import_files

    with _platform(ctx) as p, p.store.session() as s:
        result = import_files(s, files, actor=cli_actor())
    emit(
        result,
        as_json,
        lambda rows: [
            out.print(
                f"{r['name']}: version {r['version']}" + ("" if r["changed"] else " (unchanged)")
            )
            for r in rows
        ],
    )


def _toggle(ctx: typer.Context, name: str, enabled: bool, as_json: bool) -> None:
    from helix.playbooks.catalog import set_enabled

    with _platform(ctx) as p, p.store.session() as s:
        rec = set_enabled(s, name, enabled, actor=cli_actor())
        data = {"name": rec.name, "enabled": rec.enabled, "version": rec.version}
    emit(
        data,
        as_json,
        lambda d: out.print(
            f"{d['name']} is {'enabled' if d['enabled'] else 'disabled'} (version {d['version']})"
        ),
    )


@playbooks_app.command("enable")
def enable_cmd(ctx: typer.Context, name: str, as_json: JsonOpt = False) -> None:
    """Turn a playbook on."""
    _toggle(ctx, name, True, as_json)


@playbooks_app.command("disable")
def disable_cmd(ctx: typer.Context, name: str, as_json: JsonOpt = False) -> None:
    """Turn a playbook off (its open tasks stay)."""
    _toggle(ctx, name, False, as_json)


def render_run(d: dict[str, Any]) -> None:
    """A playbook run report for people."""
    t = Table(title=f"playbooks as of {d['as_of']}" + (" (dry run)" if d["dry_run"] else ""))
    for col in (
        "playbook",
        "window",
        "found",
        "filtered",
        "cooldown",
        "done before",
        "held out",
        "enrolled",
    ):
        t.add_column(col)
    for r in d["playbooks"]:
        t.add_row(
            r["playbook"],
            f"{r['start']}..{r['end']}",
            str(r["occurrences"]),
            str(r["filtered_out"]),
            str(r["in_cooldown"]),
            str(r["already_decided"]),
            str(r["held_out"]),
            str(r["enrolled"]),
        )
    out.print(t)
    if d["steps"]:
        out.print("steps: " + ", ".join(f"{k} {v}" for k, v in sorted(d["steps"].items())))


@playbooks_app.command("run")
def run_cmd(
    ctx: typer.Context,
    as_of: DateOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Decide and count; write and send nothing.")
    ] = False,
    name: Annotated[
        list[str] | None, typer.Option("--playbook", help="Only this playbook (repeatable).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Evaluate the playbooks and execute the steps that are due (also part of `helix run`)."""
    from helix.playbooks.service import run_playbooks

    with _platform(ctx) as p:
        report = run_playbooks(
            p, as_of.date() if as_of else None, dry_run=dry_run, names=name, actor=cli_actor()
        )
    emit(report, as_json, render_run)


@playbooks_app.command("impact")
def impact_cmd(
    ctx: typer.Context, name: str, as_of: DateOpt = None, as_json: JsonOpt = False
) -> None:
    """Treated against held-out accounts on the playbook's goal, with a 95% interval, and
    the funnel (triggered, actioned, completed)."""
    from helix.playbooks.impact import impact
    from helix.playbooks.service import latest_as_of

    with _platform(ctx) as p, p.store.session() as s:
        day = as_of.date() if as_of else latest_as_of(p)
        report = impact(p.warehouse, s, name, day)

    def render(d: dict[str, Any]) -> None:
        f = d["funnel"]
        out.print(
            f"[bold]{d['playbook']}[/bold] funnel: triggered {f['triggered']}, held out "
            f"{f['held_out']}, actioned {f['actioned']}, completed {f['completed']}; tasks "
            f"done {f['tasks_done']}, dismissed {f['tasks_dismissed']}, open {f['tasks_open']}"
        )
        if d.get("goal") is None or d.get("uplift") is None:
            out.print(d.get("note") or "no measurable comparison yet")
            return
        tr, ho = d["treated"], d["held_out_group"]
        out.print(
            f"goal {d['goal']} after {d['window_days']} days: treated {tr['met']}/{tr['n']} "
            f"({tr['rate']:.1%}), held out {ho['met']}/{ho['n']} ({ho['rate']:.1%}); uplift "
            f"{d['uplift']:+.1%} (95% CI {d['ci_low']:+.1%} .. {d['ci_high']:+.1%})"
        )

    emit(report, as_json, render)


# --------------------------------------------------------------------------- tasks


def render_tasks(rows: list[dict[str, Any]]) -> None:
    """A task list for people."""
    t = Table(title=f"{len(rows)} tasks")
    for col in ("id", "due", "priority", "account", "title", "owner", "status"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            str(r["id"]),
            r["due_date"],
            r["priority"],
            r["account_id"],
            r["title"],
            r["owner_email"],
            r["status"],
        )
    out.print(t)


@tasks_app.command("list")
def tasks_list_cmd(
    ctx: typer.Context,
    owner: Annotated[str | None, typer.Option(help="Only this person's tasks (email).")] = None,
    due: Annotated[str, typer.Option(help="today (overdue included), overdue, week or all.")] = (
        "all"
    ),
    status: Annotated[str, typer.Option(help="open, done, dismissed or any.")] = "open",
    account: Annotated[str | None, typer.Option(help="Only this account.")] = None,
    today: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Today's date (default: the last pipeline date)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The tasks of a person (or everyone), most urgent first."""
    from helix.playbooks.service import latest_as_of
    from helix.playbooks.tasks import list_tasks

    if due not in ("today", "overdue", "week", "all"):
        raise typer.BadParameter("--due is today, overdue, week or all")
    if status not in ("open", "done", "dismissed", "any"):
        raise typer.BadParameter("--status is open, done, dismissed or any")
    with _platform(ctx) as p, p.store.session() as s:
        day = today.date() if today else latest_as_of(p)
        rows = [
            t.to_dict()
            for t in list_tasks(
                s,
                owner=owner,
                due=due,
                status=None if status == "any" else status,  # type: ignore[arg-type]
                account_id=account,
                today=day,
            )
        ]
    emit(rows, as_json, render_tasks)


def _close(ctx: typer.Context, task_id: int, status: str, outcome: str, as_json: bool) -> None:
    from helix.playbooks.tasks import close_task

    with _platform(ctx) as p, p.store.session() as s:
        data = close_task(s, task_id, status, outcome, actor=cli_actor()).to_dict()  # type: ignore[arg-type]
    emit(data, as_json, lambda d: out.print(f"task {d['id']} {d['status']}: {d['outcome']}"))


OutcomeOpt = Annotated[str, typer.Option("--outcome", help="What happened (required).")]


@tasks_app.command("done")
def done_cmd(
    ctx: typer.Context, task_id: int, outcome: OutcomeOpt, as_json: JsonOpt = False
) -> None:
    """Complete a task, saying what happened."""
    _close(ctx, task_id, "done", outcome, as_json)


@tasks_app.command("dismiss")
def dismiss_cmd(
    ctx: typer.Context, task_id: int, outcome: OutcomeOpt, as_json: JsonOpt = False
) -> None:
    """Dismiss a task, saying why."""
    _close(ctx, task_id, "dismissed", outcome, as_json)


@tasks_app.command("reassign")
def reassign_cmd(
    ctx: typer.Context,
    task_id: int,
    to: Annotated[str, typer.Option("--to", help="The new owner's email.")],
    as_json: JsonOpt = False,
) -> None:
    """Give a task to someone else."""
    from helix.playbooks.tasks import reassign_task

    with _platform(ctx) as p, p.store.session() as s:
        data = reassign_task(s, task_id, to, actor=cli_actor()).to_dict()
    emit(data, as_json, lambda d: out.print(f"task {d['id']} is now {d['owner_email']}'s"))


@tasks_app.command("create")
def create_cmd(
    ctx: typer.Context,
    account: Annotated[str, typer.Option(help="The account id.")],
    title: Annotated[str, typer.Option(help="What to do.")],
    owner: Annotated[str, typer.Option(help="Who does it (email).")],
    due: Annotated[datetime, typer.Option(formats=["%Y-%m-%d"], help="Due date.")],
    priority: Annotated[str, typer.Option(help="low, normal, high or urgent.")] = "normal",
    reason: Annotated[str, typer.Option(help="Why.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Create a task by hand."""
    from helix.playbooks.tasks import create_task

    with _platform(ctx) as p, p.store.session() as s:
        data = create_task(
            s,
            account_id=account,
            title=title,
            owner=owner,
            due_date=due.date(),
            priority=priority,
            reason=reason,
            actor=cli_actor(),
        ).to_dict()
    emit(data, as_json, lambda d: out.print(f"created task {d['id']}"))


# --------------------------------------------------------------------------- contacts


@contacts_app.command("prefs")
def prefs_cmd(
    ctx: typer.Context,
    contact_id: str,
    opt_out: Annotated[
        bool | None, typer.Option("--opt-out/--opt-in", help="Stop or allow emails.")
    ] = None,
    channels: Annotated[
        str | None, typer.Option(help="Comma-separated: email,phone,in_app.")
    ] = None,
    max_per_week: Annotated[int | None, typer.Option(help="Most emails in 7 days.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show or change how a contact wants to be reached."""
    from helix.playbooks.contacts import get_preference, set_preference

    with _platform(ctx) as p, p.store.session() as s:
        if opt_out is None and channels is None and max_per_week is None:
            pref = get_preference(s, contact_id)
            data = (
                pref.to_dict()
                if pref
                else {
                    "contact_id": contact_id,
                    "email_opt_out": False,
                    "channels": ["email"],
                    "max_emails_per_week": None,
                    "updated_at": None,
                    "updated_by": None,
                }
            )
        else:
            data = set_preference(
                s,
                contact_id,
                actor=cli_actor(),
                email_opt_out=opt_out,
                channels=[c.strip() for c in channels.split(",") if c.strip()]
                if channels
                else None,
                max_emails_per_week=max_per_week,
            ).to_dict()
    emit(
        data,
        as_json,
        lambda d: out.print(
            f"{d['contact_id']}: {'opted out' if d['email_opt_out'] else 'emails allowed'}, channels "
            f"{', '.join(d['channels'])}, cap {d['max_emails_per_week'] or 'default'} per week"
        ),
    )
