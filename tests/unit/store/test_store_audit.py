"""The audit log: record, recent, and that it shares the caller's transaction."""

from __future__ import annotations

import pytest

from helix.errors import UserError
from helix.store import SYSTEM_ACTOR, AppStore, create_user, recent, record


def test_record_and_recent(store: AppStore) -> None:
    with store.session() as s:
        entry = record(
            s, actor="system", action="demo.run", target_type="demo", target_id=7, detail={"n": 1}
        )
        s.flush()
        assert entry.id is not None
    with store.session() as s:
        (row,) = recent(s)
    assert row.actor == SYSTEM_ACTOR
    assert row.action == "demo.run"
    assert row.target_type == "demo"
    assert row.target_id == "7"
    assert row.detail == {"n": 1}
    assert row.at is not None
    assert row.to_dict()["target_id"] == "7"


def test_recent_is_newest_first_limited_and_filtered(store: AppStore) -> None:
    with store.session() as s:
        for i in range(5):
            record(s, actor="key:3", action=f"a.{i % 2}", target_type="t", target_id=i)
    with store.session() as s:
        assert [r.target_id for r in recent(s, limit=3)] == ["4", "3", "2"]
        assert [r.target_id for r in recent(s, action="a.1")] == ["3", "1"]
        assert [r.target_id for r in recent(s, target_type="t", target_id=2)] == ["2"]
        assert recent(s, limit=0) == []


def test_record_without_target_id_or_detail(store: AppStore) -> None:
    with store.session() as s:
        record(s, actor="system", action="x", target_type="y", target_id=None)
    with store.session() as s:
        (row,) = recent(s)
    assert row.target_id is None and row.detail is None


@pytest.mark.parametrize("actor", ["", "   ", "x" * 321])
def test_record_needs_a_real_actor(store: AppStore, actor: str) -> None:
    with store.session() as s, pytest.raises(UserError, match="actor"):
        record(s, actor=actor, action="x", target_type="y", target_id=1)


def test_audit_row_rolls_back_with_the_write(store: AppStore) -> None:
    with pytest.raises(RuntimeError), store.session() as s:
        create_user(s, email="ana@example.com", name="Ana", role="csm", actor="test")
        raise RuntimeError("the use case failed after the write")
    with store.session() as s:
        assert recent(s) == []


def test_write_with_a_bad_actor_leaves_nothing_behind(store: AppStore) -> None:
    with pytest.raises(UserError), store.session() as s:
        create_user(s, email="ana@example.com", name="Ana", role="csm", actor="")
    with store.session() as s:
        from helix.store import list_users

        assert list_users(s) == []
