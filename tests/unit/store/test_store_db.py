"""open_store, AppStore sessions, URLs and the migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from helix.errors import ConfigError
from helix.store import AppStore, Role, Setting, User, open_store
from helix.store.db import VERSION_TABLE, alembic_config, engine_url
from helix.store.models import Base
from tests.helpers import head_revision

APP_TABLES = {"users", "api_keys", "account_assignments", "audit_log", "import_runs", "settings", "renewal_overrides",
              "playbooks", "playbook_versions", "playbook_enrolments", "playbook_steps", "tasks",
              "notifications", "deliveries", "contact_preferences", "account_fields", "scheduler_jobs",
              "notes", "success_plans", "success_goals", "success_milestones"}
HEAD_REVISION = head_revision()  # the latest migration


def _tables(store: AppStore) -> set[str]:
    return set(sa.inspect(store.engine).get_table_names())


def _metadata_diff(store: AppStore, metadata: sa.MetaData = Base.metadata) -> list[Any]:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        return list(compare_metadata(ctx, metadata))


# -- URLs -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://root@127.0.0.1:5432/test", "postgresql+psycopg://root@127.0.0.1:5432/test"),
        ("postgres://u:p@db/helix", "postgresql+psycopg://u:p@db/helix"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
        ("sqlite:////abs/app.db", "sqlite:////abs/app.db"),
    ],
)
def test_engine_url_maps_postgres_to_psycopg3(given: str, expected: str) -> None:
    assert engine_url(given) == expected


def test_repr_redacts_password() -> None:
    engine = sa.create_engine("sqlite://")
    store = AppStore(engine, "postgresql://helix:s3cret@db.example:5432/helix")
    try:
        text = repr(store)
    finally:
        store.close()
    assert "s3cret" not in text
    assert "helix:***@db.example" in text


def test_repr_shows_sqlite_path(store: AppStore, sqlite_url: str) -> None:
    assert repr(store) == f"AppStore(sqlite, {sqlite_url})"


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not a database URL"):
        open_store("not a url at all")


def test_unknown_backend_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unsupported database URL"):
        open_store("nosuchdb://x/y")


def test_unwritable_location_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "app.db"
    with pytest.raises(ConfigError, match="cannot open the app store"):
        open_store(f"sqlite:///{missing}")


def test_unreachable_postgres_redacts_password_in_error() -> None:
    with pytest.raises(ConfigError) as info:
        open_store("postgresql://helix:topsecret@127.0.0.1:1/helix?connect_timeout=2")
    assert "topsecret" not in info.value.for_people()


# -- open_store and migrations -------------------------------------------


def test_fresh_database_is_created_at_head(store: AppStore) -> None:
    assert _tables(store) >= APP_TABLES
    assert VERSION_TABLE in _tables(store)
    assert store.revision() == HEAD_REVISION
    assert store.backend == "sqlite"


def test_open_store_twice_is_idempotent(sqlite_url: str) -> None:
    first = open_store(sqlite_url)
    with first.session() as s:
        s.add(Setting(key="k", value={"a": 1}, updated_by="test"))
    first.close()
    second = open_store(sqlite_url)
    try:
        assert second.revision() == HEAD_REVISION
        with second.session() as s:
            assert s.get(Setting, "k").value == {"a": 1}
    finally:
        second.close()


def test_downgrade_to_base_then_upgrade_again(store: AppStore) -> None:
    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert not (APP_TABLES & _tables(store))
    assert store.revision() is None
    store.migrate()
    assert _tables(store) >= APP_TABLES
    assert store.revision() == HEAD_REVISION
    assert _metadata_diff(store) == []


def test_models_match_migrations(store: AppStore) -> None:
    """Fails when a model changes without a migration: write one in migrations/versions."""
    assert _metadata_diff(store) == []


def test_metadata_comparison_notices_a_missing_migration(store: AppStore) -> None:
    """Guards the guard: an extra column in the models must show up as a difference."""
    changed = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["users"].append_column(sa.Column("nickname", sa.String(50)))
    diff = _metadata_diff(store, changed)
    assert any(d[0] == "add_column" and d[3].name == "nickname" for d in diff)


def test_every_enum_value_passes_the_check_constraints(store: AppStore) -> None:
    """The migration's CHECK constraints must accept every value the enums define."""
    from helix.store import AssignmentSource, ImportStatus, Scope
    from helix.store.models import AccountAssignment, ApiKey, ImportRun

    with store.session() as s:
        for i, role in enumerate(Role):
            s.add(User(email=f"u{i}@example.com", role=role))
        for i, scope in enumerate(Scope):
            s.add(ApiKey(name="k", prefix="hx_", key_hash=f"{i:064d}", scope=scope, created_by="t"))
        for status in ImportStatus:
            s.add(ImportRun(status=status, source="x", started_by="t"))
        for source in AssignmentSource:
            s.add(AccountAssignment(account_id=f"a-{source}", owner_email="x@y.com", source=source))


def test_check_constraint_rejects_unknown_role(store: AppStore) -> None:
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (email, name, role, is_active, created_at, updated_at) "
                "VALUES ('x@y.com', '', 'emperor', 1, '2024-01-01', '2024-01-01')"
            )
        )


# -- SQLite settings ------------------------------------------------------


def test_sqlite_uses_wal_and_foreign_keys(store: AppStore) -> None:
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_foreign_keys_are_enforced(store: AppStore) -> None:
    from helix.store.models import AccountAssignment

    with pytest.raises(sa.exc.IntegrityError), store.session() as s:
        s.add(
            AccountAssignment(account_id="a1", owner_email="x@y.com", user_id=999, source="manual")
        )


def test_in_memory_store_works_across_sessions() -> None:
    store = open_store("sqlite://")
    try:
        with store.session() as s:
            s.add(Setting(key="k", value=1, updated_by="t"))
        with store.session() as s:
            assert s.get(Setting, "k").value == 1
    finally:
        store.close()


# -- sessions ------------------------------------------------------------


def test_session_commits_on_success(store: AppStore) -> None:
    with store.session() as s:
        s.add(Setting(key="a", value=[1, 2], updated_by="t"))
    with store.session() as s:
        assert s.get(Setting, "a").value == [1, 2]


def test_session_rolls_back_on_error(store: AppStore) -> None:
    with pytest.raises(RuntimeError), store.session() as s:
        s.add(Setting(key="b", value=True, updated_by="t"))
        s.flush()
        raise RuntimeError("boom")
    with store.session() as s:
        assert s.get(Setting, "b") is None


def test_objects_stay_readable_after_the_session(store: AppStore) -> None:
    with store.session() as s:
        row = Setting(key="c", value="v", updated_by="t")
        s.add(row)
    assert row.value == "v"
    assert row.updated_at is not None


def test_json_columns_accept_dates_paths_and_decimals(store: AppStore) -> None:
    from datetime import date
    from decimal import Decimal

    with store.session() as s:
        s.add(
            Setting(
                key="d",
                value={"on": date(2024, 5, 1), "p": Path("/x"), "n": Decimal("1.5")},
                updated_by="t",
            )
        )
    with store.session() as s:
        assert s.get(Setting, "d").value == {"on": "2024-05-01", "p": "/x", "n": "1.5"}


def test_concurrent_first_opens_in_threads(sqlite_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def open_and_close(_: int) -> str | None:
        s = open_store(sqlite_url)
        try:
            return s.revision()
        finally:
            s.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(open_and_close, range(6))) == [HEAD_REVISION] * 6


@pytest.mark.slow
def test_concurrent_first_opens_in_processes(sqlite_url: str) -> None:
    """Several processes (API workers, the CLI) opening one fresh file must not race."""
    import subprocess
    import sys

    code = (
        "import sys; from helix.store import open_store; "
        "s = open_store(sys.argv[1]); print(s.revision()); s.close()"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, sqlite_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, results
    assert [out.strip() for out, _ in results] == [HEAD_REVISION] * 4


def test_failed_sqlite_migration_leaves_nothing_behind(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alembic.operations import Operations

    real_create_index = Operations.create_index

    def failing_create_index(self: Operations, name: str, *args: object, **kw: object) -> object:
        if name == "ix_audit_log_target":
            raise RuntimeError("migration failed half-way")
        return real_create_index(self, name, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Operations, "create_index", failing_create_index)
    with pytest.raises(RuntimeError, match="half-way"):
        open_store(sqlite_url)
    monkeypatch.undo()
    engine = sa.create_engine(sqlite_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
    store = open_store(sqlite_url)
    try:
        assert store.revision() == HEAD_REVISION
    finally:
        store.close()
