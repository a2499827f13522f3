"""`helix users ...` and `helix keys ...` through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helix.cli.main import app
from helix.errors import NotFoundError, UserError
from helix.store import authenticate, open_store, recent, verify_key


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _run(runner: CliRunner, home: Path, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--home", str(home), *args], input=input)


def _ok(runner: CliRunner, home: Path, *args: str, input: str | None = None) -> str:
    result = _run(runner, home, *args, input=input)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result.stdout


def test_users_create_json_shape(runner: CliRunner, home: Path) -> None:
    out = _ok(
        runner,
        home,
        "users",
        "create",
        "--email",
        "Ana@Example.com",
        "--role",
        "admin",
        "--name",
        "Ana",
        "--json",
    )
    data = json.loads(out)
    assert data == {"id": 1, "email": "ana@example.com", "name": "Ana", "role": "admin"}


def test_users_create_reads_password_from_stdin(runner: CliRunner, home: Path) -> None:
    _ok(
        runner,
        home,
        "users",
        "create",
        "--email",
        "ana@example.com",
        "--role",
        "csm",
        "--password-stdin",
        input="s3cret-pass\n",
    )
    store = open_store(f"sqlite:///{home / 'app.db'}")
    try:
        with store.session() as s:
            user = authenticate(s, "ana@example.com", "s3cret-pass")
            assert user is not None and user.name == "ana"
            (entry,) = recent(s)
        assert entry.actor.startswith("cli")
        assert entry.action == "user.create"
    finally:
        store.close()


def test_users_create_with_empty_stdin_fails(runner: CliRunner, home: Path) -> None:
    result = _run(
        runner,
        home,
        "users",
        "create",
        "--email",
        "a@example.com",
        "--role",
        "csm",
        "--password-stdin",
        input="",
    )
    assert result.exit_code == 1
    assert isinstance(result.exception, UserError)


def test_users_create_human_output(runner: CliRunner, home: Path) -> None:
    result = _run(runner, home, "users", "create", "--email", "ana@example.com", "--role", "viewer")
    assert result.exit_code == 0
    assert "created user ana@example.com (viewer)" in result.stdout
    assert "no password set" in result.stderr


def test_users_create_duplicate_is_a_user_error(runner: CliRunner, home: Path) -> None:
    _ok(runner, home, "users", "create", "--email", "ana@example.com", "--role", "csm")
    result = _run(runner, home, "users", "create", "--email", "ANA@example.com", "--role", "csm")
    assert result.exit_code == 1
    assert isinstance(result.exception, UserError)
    assert "already exists" in str(result.exception)


def test_users_create_bad_role_is_a_usage_error(runner: CliRunner, home: Path) -> None:
    result = _run(
        runner, home, "users", "create", "--email", "ana@example.com", "--role", "emperor"
    )
    assert result.exit_code == 2
    assert "emperor" in result.stderr


def test_users_list(runner: CliRunner, home: Path) -> None:
    assert json.loads(_ok(runner, home, "users", "list", "--json")) == []
    _ok(
        runner,
        home,
        "users",
        "create",
        "--email",
        "zed@example.com",
        "--role",
        "csm",
        "--name",
        "Zed",
    )
    _ok(runner, home, "users", "create", "--email", "amy@example.com", "--role", "leader")
    data = json.loads(_ok(runner, home, "users", "list", "--json"))
    assert [d["email"] for d in data] == ["amy@example.com", "zed@example.com"]
    assert set(data[0]) == {"id", "email", "name", "role", "is_active", "created_at"}
    assert "password" not in json.dumps(data)
    human = _ok(runner, home, "users", "list")
    assert "zed@example.com" in human and "leader" in human


def test_users_set_role_and_deactivate(runner: CliRunner, home: Path) -> None:
    _ok(runner, home, "users", "create", "--email", "root@example.com", "--role", "admin")
    _ok(runner, home, "users", "create", "--email", "ana@example.com", "--role", "csm")
    assert (
        json.loads(_ok(runner, home, "users", "set-role", "ana@example.com", "leader", "--json"))[
            "role"
        ]
        == "leader"
    )
    assert (
        json.loads(_ok(runner, home, "users", "deactivate", "ana@example.com", "--json"))[
            "is_active"
        ]
        is False
    )
    result = _run(runner, home, "users", "deactivate", "root@example.com")
    assert result.exit_code == 1 and "last active admin" in str(result.exception)
    result = _run(runner, home, "users", "set-role", "ghost@example.com", "csm")
    assert isinstance(result.exception, NotFoundError)


def test_keys_create_json_shape_and_key_works(runner: CliRunner, home: Path) -> None:
    data = json.loads(
        _ok(runner, home, "keys", "create", "--name", "sync", "--scope", "ingest", "--json")
    )
    assert set(data) == {"id", "key", "scope"}
    assert data["scope"] == "ingest" and data["key"].startswith("hx_")
    store = open_store(f"sqlite:///{home / 'app.db'}")
    try:
        with store.session() as s:
            key = verify_key(s, data["key"])
            assert key is not None and key.id == data["id"]
    finally:
        store.close()


def test_keys_create_human_prints_key_once_on_stdout(runner: CliRunner, home: Path) -> None:
    result = _run(runner, home, "keys", "create", "--name", "sync", "--scope", "read")
    assert result.exit_code == 0
    key = result.stdout.strip()
    assert key.startswith("hx_") and len(key) == 46
    assert "shown only once" in result.stderr


def test_keys_list_never_shows_keys(runner: CliRunner, home: Path) -> None:
    created = json.loads(
        _ok(runner, home, "keys", "create", "--name", "sync", "--scope", "write", "--json")
    )
    listed = _ok(runner, home, "keys", "list", "--json")
    human = _ok(runner, home, "keys", "list")
    for text in (listed, human):
        assert created["key"] not in text
        assert created["key"][11:20] not in text
    (row,) = json.loads(listed)
    assert row["id"] == created["id"]
    assert row["prefix"] == created["key"][:11]
    assert row["revoked_at"] is None
    assert "key_hash" not in row


def test_keys_revoke(runner: CliRunner, home: Path) -> None:
    created = json.loads(
        _ok(runner, home, "keys", "create", "--name", "sync", "--scope", "read", "--json")
    )
    out = _ok(runner, home, "keys", "revoke", str(created["id"]))
    assert f"revoked API key {created['id']}" in out
    (row,) = json.loads(_ok(runner, home, "keys", "list", "--json"))
    assert row["revoked_at"] is not None
    store = open_store(f"sqlite:///{home / 'app.db'}")
    try:
        with store.session() as s:
            assert verify_key(s, created["key"]) is None
    finally:
        store.close()


def test_keys_revoke_unknown_is_not_found(runner: CliRunner, home: Path) -> None:
    result = _run(runner, home, "keys", "revoke", "77")
    assert result.exit_code == 1
    assert isinstance(result.exception, NotFoundError)


def test_keys_create_bad_scope_is_a_usage_error(runner: CliRunner, home: Path) -> None:
    result = _run(runner, home, "keys", "create", "--name", "x", "--scope", "root")
    assert result.exit_code == 2


def test_groups_show_help(runner: CliRunner, home: Path) -> None:
    for group in ("users", "keys"):
        result = _run(runner, home, group)
        assert "create" in result.stdout + result.stderr
