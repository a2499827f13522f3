"""`helix settings`: organisation settings (SMTP, webhooks, playbook options ...)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from helix.cli.admin import cli_actor
from helix.cli.main import settings_of
from helix.cli.output import JsonOpt, emit, out
from helix.platform import Platform
from helix.store.settings import masked

settings_app = typer.Typer(help="Organisation settings stored in the app store.",
                           no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the `settings` group to ``app``."""
    app.add_typer(settings_app, name="settings")


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


@settings_app.command("set")
def set_cmd(
    ctx: typer.Context,
    key: str,
    value: Annotated[str, typer.Argument(help="A JSON value (a bare word is a string).")],
    as_json: JsonOpt = False,
) -> None:
    """Set KEY to VALUE, e.g. `helix settings set smtp '{"host": "127.0.0.1", "port": 25}'`."""
    from helix.store.settings import set_setting

    with Platform(settings_of(ctx)) as p, p.store.session() as s:
        row = set_setting(s, key, _value(value), cli_actor())
        data = {"key": row.key, "value": masked(row.key, row.value)}
    emit(data, as_json, lambda d: out.print(f"{d['key']} = {json.dumps(d['value'])}"))


@settings_app.command("get")
def get_cmd(ctx: typer.Context, key: str, as_json: JsonOpt = False) -> None:
    """Print one setting (secrets are masked)."""
    from helix.store.settings import get_setting

    with Platform(settings_of(ctx)) as p, p.store.session() as s:
        data = {"key": key, "value": masked(key, get_setting(s, key))}
    emit(data, as_json, lambda d: out.print(json.dumps(d["value"], indent=2)))


@settings_app.command("list")
def list_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Every setting (secrets are masked)."""
    from helix.store.settings import all_settings

    with Platform(settings_of(ctx)) as p, p.store.session() as s:
        data = {k: masked(k, v) for k, v in all_settings(s).items()}
    emit(data, as_json, lambda d: [out.print(f"{k} = {json.dumps(v)}") for k, v in d.items()])
