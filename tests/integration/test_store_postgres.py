"""The app store on PostgreSQL (psycopg 3): migrations, users, keys, audit, assignments."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from helix.errors import UserError
from helix.store import (
    AppStore,
    Role,
    accounts_of,
    all_settings,
    assign,
    authenticate,
    create_key,
    create_user,
    finish_import,
    list_imports,
    owner_of,
    recent,
    revoke_key,
    set_setting,
    start_import,
    sync_from_import,
    verify_key,
)
from helix.store.db import VERSION_TABLE, alembic_config, open_store
from helix.store.models import Base
from tests.helpers import head_revision

HEAD_REVISION = head_revision()

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery"


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[AppStore]:
    store = open_store(postgres_url)
    try:
        yield store
    finally:
        store.close()


def test_migrates_fresh_database_and_matches_models(pg_store: AppStore, postgres_url: str) -> None:
    assert pg_store.backend == "postgresql"
    assert pg_store.revision() == HEAD_REVISION
    assert pg_store.engine.url.drivername == "postgresql+psycopg"
    with pg_store.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        assert compare_metadata(ctx, Base.metadata) == []
    again = open_store(postgres_url)  # idempotent
    try:
        assert again.revision() == HEAD_REVISION
    finally:
        again.close()


def test_downgrade_and_upgrade(pg_store: AppStore) -> None:
    with pg_store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert "users" not in sa.inspect(pg_store.engine).get_table_names()
    pg_store.migrate()
    assert "users" in sa.inspect(pg_store.engine).get_table_names()


def test_concurrent_first_opens_do_not_race(postgres_url: str) -> None:
    """Processes opening one fresh database wait on the advisory lock instead of racing."""
    import subprocess
    import sys

    code = (
        "import sys; from helix.store import open_store; "
        "s = open_store(sys.argv[1]); print(s.revision()); s.close()"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, postgres_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, results
    assert [out.strip() for out, _ in results] == [HEAD_REVISION] * 4


def test_users_and_authentication(pg_store: AppStore) -> None:
    with pg_store.session() as s:
        create_user(
            s, email="Ana@Example.com", name="Ana", role=Role.ADMIN, password=PASSWORD, actor="test"
        )
    with pg_store.session() as s, pytest.raises(UserError, match="already exists"):
        create_user(s, email="ana@example.com", name="Ana", role="csm", actor="test")
    with pg_store.session() as s:
        user = authenticate(s, "ANA@example.com", PASSWORD)
        assert user is not None and user.role is Role.ADMIN
        assert authenticate(s, "ana@example.com", "wrong") is None
        assert authenticate(s, "nobody@example.com", PASSWORD) is None


def test_role_check_constraint(pg_store: AppStore) -> None:
    with pytest.raises(sa.exc.IntegrityError), pg_store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (email, name, role, is_active, created_at, updated_at) "
                "VALUES ('x@y.com', '', 'emperor', true, now(), now())"
            )
        )


def test_keys(pg_store: AppStore) -> None:
    with pg_store.session() as s:
        key, plaintext = create_key(s, name="sync", scope="ingest", actor="test")
    with pg_store.session() as s:
        found = verify_key(s, plaintext)
        assert found is not None and found.last_used_at is not None
    with pg_store.session() as s:
        revoke_key(s, key.id, actor="test")
    with pg_store.session() as s:
        assert verify_key(s, plaintext) is None
    with pg_store.engine.connect() as conn:
        dump = str(conn.execute(sa.text("SELECT * FROM api_keys")).all())
        dump += str(conn.execute(sa.text("SELECT * FROM audit_log")).all())
    assert plaintext not in dump


def test_audit_assignments_imports_settings(pg_store: AppStore) -> None:
    with pg_store.session() as s:
        ana = create_user(s, email="ana@example.com", name="Ana", role="csm", actor="test")
    pairs: list[tuple[str, str | None]] = [
        (f"acct-{i:05d}", "ana@example.com" if i % 2 else "bob@example.com") for i in range(5_000)
    ]
    with pg_store.session() as s:
        assert sync_from_import(s, pairs, actor="system") == 5_000
    with pg_store.session() as s:
        assign(s, "acct-00000", "ana@example.com", actor="lead@example.com")
    moved = [(a, "bob@example.com") for a, _ in pairs[:10]]
    with pg_store.session() as s:
        assert sync_from_import(s, moved, actor="system") == 5  # acct-1,3,5,7,9; acct-0 is manual
    with pg_store.session() as s:
        assert owner_of(s, "acct-00000") == "ana@example.com"
        assert owner_of(s, "acct-00001") == "bob@example.com"
        assert len(accounts_of(s, "ana@example.com")) == 2_500 - 5 + 1
        linked = s.scalar(
            sa.text("SELECT COUNT(*) FROM account_assignments WHERE user_id = :u"), {"u": ana.id}
        )
        assert linked == 2_500 - 5 + 1
    with pg_store.session() as s:
        run = start_import(s, "/data/export", actor="system")
    with pg_store.session() as s:
        finish_import(s, run.id, "succeeded", {"rows": {"accounts": 5000}}, "/data/q")
        set_setting(s, "health.weights", {"usage": 1.0}, actor="ana@example.com")
    with pg_store.session() as s:
        assert list_imports(s)[0].report == {"rows": {"accounts": 5000}}
        assert all_settings(s) == {"health.weights": {"usage": 1.0}}
        actions = [r.action for r in recent(s)]
    assert actions == [
        "setting.set",
        "import.finish",
        "import.start",
        "assignment.sync",
        "assignment.assign",
        "assignment.sync",
        "user.create",
    ]


def test_failed_transaction_rolls_back(pg_store: AppStore) -> None:
    with pytest.raises(RuntimeError), pg_store.session() as s:
        create_user(s, email="ana@example.com", name="Ana", role="csm", actor="test")
        raise RuntimeError("boom")
    with pg_store.session() as s:
        assert recent(s) == []
