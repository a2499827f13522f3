"""`helix live`: the live-ingestion spool (Segment tracking API, Stripe webhooks)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from helix.cli.main import settings_of
from helix.cli.output import JsonOpt, emit, err, out
from helix.errors import UserError
from helix.ingest.live.spool import STATES, Spool, spool_path
from helix.platform import Platform

live_app = typer.Typer(
    help="Live ingestion: what the tracking API and webhooks received, and its flush.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the `live` group to ``app``."""
    app.add_typer(live_app, name="live")


def _spool(ctx: typer.Context) -> Spool:
    return Spool(spool_path(settings_of(ctx).home))


def _render_status(d: dict[str, Any]) -> None:
    m = d["messages"]
    out.print(
        f"pending {m['pending']:,}  waiting {m['waiting']:,}  loaded {m['loaded']:,}  "
        f"rejected {m['rejected']:,}  ignored {m['ignored']:,}"
    )
    if d["oldest_pending_received_at"]:
        out.print(f"oldest pending message received at {d['oldest_pending_received_at']} UTC")
    last = d["last_flush"]
    if last:
        outcome = (
            f"failed: {last['error']}"
            if last["error"]
            else (
                f"{last['loaded']:,} loaded, {last['waiting']:,} waiting in {last['seconds']:.2f} s"
            )
        )
        out.print(f"last flush {last['started_at']} UTC: {outcome}", highlight=False)
    else:
        out.print("no flush yet")
    for r in d["unsettled_reasons"]:
        out.print(f"  {r['messages']:,} x {r['reason']}", highlight=False)


@live_app.command("status")
def status_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The spool: messages by state, the oldest unflushed one, the last flush."""
    with _spool(ctx) as spool:
        data = spool.status()
    emit(data, as_json, _render_status)


@live_app.command("flush")
def flush_cmd(
    ctx: typer.Context,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for another flushing process.")
    ] = 30.0,
    as_json: JsonOpt = False,
) -> None:
    """Move every pending message into the warehouse now."""
    from helix.ingest.live.flush import flush_spool

    with Platform(settings_of(ctx)) as platform:
        result = flush_spool(platform, lock_wait_s=wait)
    if result is None:
        raise UserError(
            "nothing was ever received live in this data directory",
            hint="point a Segment source or a Stripe webhook at `helix serve` first",
        )
    data = result.to_dict()
    emit(
        data,
        as_json,
        lambda d: out.print(
            f"{d['loaded']:,} loaded, {d['waiting']:,} waiting, {d['rejected']:,} rejected, "
            f"{d['ignored']:,} ignored in {d['seconds']:.2f} s",
            highlight=False,
        ),
    )
    if result.error:
        err.print(f"[red]flush stopped:[/red] {result.error}")
        raise typer.Exit(1)


@live_app.command("messages")
def messages_cmd(
    ctx: typer.Context,
    state: Annotated[str, typer.Option(help=f"One of: {', '.join(STATES)}.")] = "waiting",
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Messages in one state, oldest first, with why they are there."""
    if state not in STATES:
        raise typer.BadParameter(f"unknown state {state!r}; states: {', '.join(STATES)}")
    with _spool(ctx) as spool:
        rows = spool.messages(state, limit)

    def render(items: list[dict[str, Any]]) -> None:
        for r in items:
            out.print(
                f"{r['seq']}  {r['source']}  {r['kind']}  {r['message_id']}  "
                f"{r['received_at']}  {r['reason'] or ''}",
                highlight=False,
            )
        if not items:
            out.print(f"no {state} messages")

    emit(rows, as_json, render)


@live_app.command("retry")
def retry_cmd(
    ctx: typer.Context,
    rejected: Annotated[
        bool, typer.Option("--rejected", help="Retry rejected messages too.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Make waiting messages (e.g. after importing their accounts) due at the next flush."""
    with _spool(ctx) as spool:
        n = spool.retry_waiting(include_rejected=rejected)
    emit(
        {"retried": n},
        as_json,
        lambda d: out.print(f"{d['retried']:,} messages will be tried again"),
    )
