"""Account assignments: bulk sync from imports, manual overrides, look-ups."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from helix.errors import UserError
from helix.store import (
    AppStore,
    AssignmentSource,
    accounts_of,
    assign,
    create_user,
    get_assignment,
    owner_of,
    recent,
    sync_from_import,
)


def _sync(store: AppStore, pairs: list[tuple[str, str | None]]) -> int:
    with store.session() as s:
        return sync_from_import(s, pairs, actor="system")


def test_sync_creates_assignments_and_links_users(store: AppStore) -> None:
    with store.session() as s:
        ana = create_user(s, email="ana@example.com", name="Ana", role="csm", actor="test")
    assert _sync(store, [("a1", "Ana@Example.com"), ("a2", "bob@example.com"), ("a3", None)]) == 2
    with store.session() as s:
        a1 = get_assignment(s, "a1")
        assert a1 is not None
        assert (a1.owner_email, a1.user_id, a1.source) == (
            "ana@example.com",
            ana.id,
            AssignmentSource.IMPORT,
        )
        assert get_assignment(s, "a2").user_id is None  # type: ignore[union-attr]
        assert get_assignment(s, "a3") is None
        assert owner_of(s, "a2") == "bob@example.com"
        assert owner_of(s, "a3") is None
        assert accounts_of(s, "ANA@example.com") == ["a1"]


def test_resync_changes_only_what_changed(store: AppStore) -> None:
    _sync(store, [("a1", "ana@example.com"), ("a2", "bob@example.com"), ("a3", "cy@example.com")])
    with store.session() as s:
        before = get_assignment(s, "a1").assigned_at  # type: ignore[union-attr]
    changed = _sync(store, [("a1", "ana@example.com"), ("a2", "ana@example.com"), ("a3", None)])
    assert changed == 2  # a2 moved, a3 cleared; a1 untouched
    with store.session() as s:
        assert get_assignment(s, "a1").assigned_at == before  # type: ignore[union-attr]
        assert accounts_of(s, "ana@example.com") == ["a1", "a2"]
        assert owner_of(s, "a3") is None
    assert _sync(store, [("a1", "ana@example.com"), ("a2", "ana@example.com")]) == 0


def test_accounts_missing_from_an_import_are_left_alone(store: AppStore) -> None:
    _sync(store, [("a1", "ana@example.com")])
    _sync(store, [("a2", "bob@example.com")])
    with store.session() as s:
        assert owner_of(s, "a1") == "ana@example.com"


def test_last_pair_wins_for_duplicate_accounts(store: AppStore) -> None:
    assert _sync(store, [("a1", "ana@example.com"), ("a1", "bob@example.com")]) == 1
    with store.session() as s:
        assert owner_of(s, "a1") == "bob@example.com"


def test_manual_assignments_survive_imports(store: AppStore) -> None:
    _sync(store, [("a1", "ana@example.com"), ("a2", "ana@example.com")])
    with store.session() as s:
        row = assign(s, "a1", "Bob@Example.com", actor="lead@example.com")
        assert (row.owner_email, row.source) == ("bob@example.com", AssignmentSource.MANUAL)
    assert _sync(store, [("a1", "ana@example.com"), ("a2", None)]) == 1
    with store.session() as s:
        assert owner_of(s, "a1") == "bob@example.com"
        assert owner_of(s, "a2") is None
        (sync_row, *_) = recent(s, action="assignment.sync")
    assert sync_row.detail == {
        "accounts": 2,
        "created": 0,
        "changed": 0,
        "cleared": 1,
        "manual_kept": 1,
        "skipped": 0,
    }


def test_assign_creates_and_links(store: AppStore) -> None:
    with store.session() as s:
        bob = create_user(s, email="bob@example.com", name="Bob", role="csm", actor="test")
        row = assign(s, "new-account", "bob@example.com", actor="test")
        assert row.user_id == bob.id
    with store.session() as s:
        assert owner_of(s, "new-account") == "bob@example.com"


def test_sync_links_users_created_after_the_first_import(store: AppStore) -> None:
    _sync(store, [("a1", "ana@example.com")])
    with store.session() as s:
        ana = create_user(s, email="ana@example.com", name="Ana", role="csm", actor="test")
    with store.session() as s:
        assert get_assignment(s, "a1").user_id == ana.id  # type: ignore[union-attr]


def test_sync_refreshes_objects_already_loaded_in_the_session(store: AppStore) -> None:
    _sync(store, [("a1", "ana@example.com")])
    with store.session() as s:
        loaded = get_assignment(s, "a1")
        sync_from_import(s, [("a1", "bob@example.com")], actor="system")
        assert loaded is not None and loaded.owner_email == "bob@example.com"


def test_sync_skips_pairs_it_cannot_use_and_keeps_going(store: AppStore) -> None:
    """Imported data is not clean: bad pairs are counted and skipped, the rest is synced."""
    _sync(store, [("a1", "ana@example.com")])
    bad: list[tuple[str, str | None]] = [
        ("", "ana@example.com"),
        ("x" * 256, "ana@example.com"),
        ("a1", "Ana Lopez"),  # not an email: a1 keeps its owner
        ("a2", "not-an-email"),
    ]
    assert _sync(store, [("ok", "bob@example.com"), *bad, ("blank", "  ")]) == 1
    with store.session() as s:
        assert owner_of(s, "ok") == "bob@example.com"
        assert owner_of(s, "a1") == "ana@example.com"
        assert owner_of(s, "a2") is None
        assert owner_of(s, "blank") is None
        (row, *_) = recent(s, action="assignment.sync")
    assert row.detail is not None
    assert (row.detail["accounts"], row.detail["created"], row.detail["skipped"]) == (2, 1, 4)


def test_assign_rejects_bad_input(store: AppStore) -> None:
    with store.session() as s, pytest.raises(UserError, match="not a valid email"):
        assign(s, "a1", "nope", actor="test")
    with store.session() as s, pytest.raises(UserError, match="not an account id"):
        assign(s, " ", "ana@example.com", actor="test")


def test_empty_sync_does_nothing(store: AppStore) -> None:
    assert _sync(store, []) == 0
    with store.session() as s:
        assert recent(s) == []


def test_assignment_writes_are_audited(store: AppStore) -> None:
    _sync(store, [("a1", "ana@example.com")])
    with store.session() as s:
        assign(s, "a1", "bob@example.com", actor="lead@example.com")
    with store.session() as s:
        rows = recent(s)
    assert [(r.action, r.actor) for r in rows] == [
        ("assignment.assign", "lead@example.com"),
        ("assignment.sync", "system"),
    ]
    assert rows[0].target_id == "a1"
    assert rows[0].detail == {"from": "ana@example.com", "to": "bob@example.com"}
    assert rows[1].detail == {
        "accounts": 1,
        "created": 1,
        "changed": 0,
        "cleared": 0,
        "manual_kept": 0,
        "skipped": 0,
    }


@pytest.mark.slow
def test_sync_of_100k_accounts_is_bulk_and_fast(store: AppStore) -> None:
    """100k accounts in a few seconds, with a bounded number of statements."""
    owners = [f"csm{i}@example.com" for i in range(50)]
    with store.session() as s:
        for email in owners[:10]:
            create_user(s, email=email, name=email, role="csm", actor="test")
    pairs: list[tuple[str, str | None]] = [
        (f"acct-{i:06d}", owners[i % 50]) for i in range(100_000)
    ]

    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        assert _sync(store, pairs) == 100_000
        first = time.perf_counter() - started
        # second import: 10% move owner, 1% lose it, the rest are unchanged
        moved = [(a, owners[(i + 1) % 50] if i % 10 == 0 else o) for i, (a, o) in enumerate(pairs)]
        moved = [(a, None if i % 100 == 1 else o) for i, (a, o) in enumerate(moved)]
        started = time.perf_counter()
        assert _sync(store, moved) == 10_000 + 1_000
        second = time.perf_counter() - started
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)

    print(f"sync of 100k: first {first:.2f}s, second {second:.2f}s, {statements} statements")
    assert first < 30 and second < 30, (first, second)
    assert statements < 2_000, statements  # per-row queries would be >= 100k
    expected = {a: o for a, o in moved if o is not None}
    with store.session() as s:
        rows = s.execute(
            sa.text("SELECT account_id, owner_email, user_id FROM account_assignments")
        )
        stored = {a: o for a, o, _ in rows}
        linked = s.scalar(
            sa.text("SELECT COUNT(*) FROM account_assignments WHERE user_id IS NOT NULL")
        )
        assert accounts_of(s, owners[1]) == sorted(a for a, o in expected.items() if o == owners[1])
    assert stored == expected
    assert linked == sum(1 for o in expected.values() if o in owners[:10])
