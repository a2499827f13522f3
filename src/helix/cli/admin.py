"""Administration commands: `helix users ...` and `helix keys ...`.

Every write is audited with the actor ``cli:<OS user>``.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from helix.cli.main import settings_of
from helix.cli.output import emit, err, out
from helix.errors import UserError
from helix.platform import Platform
from helix.store import Role, Scope, create_key, create_user, list_keys, list_users, revoke_key
from helix.store import deactivate_user as _deactivate_user
from helix.store import set_role as _set_role

users_app = typer.Typer(name="users", help="Manage the people who use Helix.", no_args_is_help=True)
keys_app = typer.Typer(
    name="keys", help="Manage API keys (shown once, stored hashed).", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def register(app: typer.Typer) -> None:
    """Add the `users` and `keys` command groups to ``app``."""
    app.add_typer(users_app, name="users")
    app.add_typer(keys_app, name="keys")


def cli_actor() -> str:
    """The audit actor for commands run from this shell: ``cli:<OS user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name (some containers): still attribute it to the CLI
        return "cli"


def _read_password() -> str:
    """The password piped on stdin (first line; the trailing newline is dropped)."""
    data = sys.stdin.readline()
    password = data.rstrip("\r\n")
    if not password:
        raise UserError(
            "--password-stdin was given but stdin is empty",
            hint="pipe it in: printf '%s\\n' \"$PASSWORD\" | helix users create ...",
        )
    return password


# -- users ----------------------------------------------------------------


def _user_row(user: Any) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name, "role": str(user.role)}


@users_app.command("create")
def users_create(
    ctx: typer.Context,
    email: Annotated[str, typer.Option("--email", help="Sign-in email (stored lower-case).")],
    role: Annotated[Role, typer.Option("--role", help="What the user may do.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Display name (default: the email's local part).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Create a user. Without --password-stdin the user has no password yet."""
    password = _read_password() if password_stdin else None
    display = name if name is not None else email.strip().split("@", 1)[0]
    with Platform(settings_of(ctx)) as platform, platform.store.session() as session:
        user = create_user(
            session, email=email, name=display, role=role, password=password, actor=cli_actor()
        )
        row = _user_row(user)
    emit(
        row, as_json, lambda d: out.print(f"created user {d['email']} ({d['role']}), id {d['id']}")
    )
    if password is None and not as_json:
        err.print("note: no password set; this user cannot sign in with a password yet")


@users_app.command("list")
def users_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List every user, active or not."""
    with Platform(settings_of(ctx)) as platform, platform.store.session() as session:
        rows = [
            {**_user_row(u), "is_active": u.is_active, "created_at": u.created_at}
            for u in list_users(session)
        ]

    def render(data: list[dict[str, Any]]) -> None:
        if not data:
            out.print("no users yet: create one with `helix users create`")
            return
        table = Table("id", "email", "name", "role", "active")
        for d in data:
            table.add_row(
                str(d["id"]), d["email"], d["name"], d["role"], "yes" if d["is_active"] else "no"
            )
        out.print(table)

    emit(rows, as_json, render)


@users_app.command("set-role")
def users_set_role(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user's email.")],
    role: Annotated[Role, typer.Argument(help="The new role.")],
    as_json: JsonOption = False,
) -> None:
    """Change a user's role."""
    with Platform(settings_of(ctx)) as platform, platform.store.session() as session:
        row = _user_row(_set_role(session, email, role, cli_actor()))
    emit(row, as_json, lambda d: out.print(f"{d['email']} is now {d['role']}"))


@users_app.command("deactivate")
def users_deactivate(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The user's email.")],
    as_json: JsonOption = False,
) -> None:
    """Stop a user from signing in (the user and their history are kept)."""
    with Platform(settings_of(ctx)) as platform, platform.store.session() as session:
        user = _deactivate_user(session, email, cli_actor())
        row = {**_user_row(user), "is_active": user.is_active}
    emit(row, as_json, lambda d: out.print(f"deactivated {d['email']}"))


# -- API keys -------------------------------------------------------------


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="What uses the key, e.g. nightly-sync.")],
    scope: Annotated[Scope, typer.Option("--scope", help="What the key may do.")],
    as_json: JsonOption = False,
) -> None:
    """Create an API key and print it once: it cannot be shown again."""
    with Platform(settings_of(ctx)) as platform, platform.store.session() as session:
        key, plaintext = create_key(session, name=name, scope=scope, actor=cli_actor())
        row = {"id": key.id, "key": plaintext, "scope": str(key.scope)}

    def render(d: dict[str, Any]) -> None:
        err.print(f"created API key {d['id']} ({d['scope']}); store it now, it is shown only once:")
        out.print(d["key"], highlight=False, soft_wrap=True)

    emit(row, as_json, render)


@keys_app.command("list")
def keys_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """List API keys (only their prefixes: keys themselves are never stored)."""
    with Platform(settings_of(ctx)) as platform, platform.store.session() as session:
        rows = [k.to_dict() for k in list_keys(session)]

    def render(data: list[dict[str, Any]]) -> None:
        if not data:
            out.print("no API keys yet: create one with `helix keys create`")
            return
        table = Table("id", "name", "prefix", "scope", "created", "last used", "revoked")
        for d in data:
            table.add_row(
                str(d["id"]),
                d["name"],
                d["prefix"] + "…",
                d["scope"],
                (d["created_at"] or "")[:19],
                (d["last_used_at"] or "never")[:19],
                (d["revoked_at"] or "")[:19],
            )
        out.print(table)

    emit(rows, as_json, render)


@keys_app.command("revoke")
def keys_revoke(
    ctx: typer.Context,
    key_id: Annotated[
        int, typer.Argument(metavar="ID", help="The key's id (see `helix keys list`).")
    ],
    as_json: JsonOption = False,
) -> None:
    """Revoke an API key: requests using it are refused from now on."""
    with Platform(settings_of(ctx)) as platform, platform.store.session() as session:
        row = revoke_key(session, key_id, cli_actor()).to_dict()
    emit(
        row,
        as_json,
        lambda d: out.print(f"revoked API key {d['id']} ({d['name']}, {d['prefix']}…)"),
    )
