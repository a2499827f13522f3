"""API keys: shown once, stored hashed, verified, revoked, audited."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from helix.errors import NotFoundError, UserError
from helix.store import (
    AppStore,
    Scope,
    create_key,
    get_key,
    list_keys,
    recent,
    revoke_key,
    verify_key,
)
from helix.store.models import ApiKey


def _new(
    store: AppStore, scope: str | Scope = "read", name: str = "nightly-sync"
) -> tuple[ApiKey, str]:
    with store.session() as s:
        return create_key(s, name=name, scope=scope, actor="test")


def test_create_key_returns_plaintext_in_the_documented_format(store: AppStore) -> None:
    key, plaintext = _new(store, scope=Scope.INGEST)
    assert re.fullmatch(r"hx_[A-Za-z0-9_\-]{43}", plaintext)
    assert key.id is not None
    assert key.scope is Scope.INGEST
    assert plaintext.startswith(key.prefix)
    assert len(key.prefix) == 11
    assert key.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert key.created_by == "test"
    assert key.last_used_at is None and key.revoked_at is None


def test_keys_are_unique(store: AppStore) -> None:
    plaintexts = {_new(store)[1] for _ in range(20)}
    assert len(plaintexts) == 20


def test_plaintext_is_stored_nowhere(store: AppStore) -> None:
    _, plaintext = _new(store)
    secret_part = plaintext[11:]
    with store.engine.connect() as conn:
        for table in sa.inspect(store.engine).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                dumped = " ".join(str(v) for v in row)
                assert plaintext not in dumped
                assert secret_part not in dumped


def test_verify_key(store: AppStore) -> None:
    key, plaintext = _new(store)
    with store.session() as s:
        found = verify_key(s, plaintext)
        assert found is not None and found.id == key.id
    with store.session() as s:
        assert get_key(s, key.id).last_used_at is not None


@pytest.mark.parametrize(
    "bad", ["", "hx_", "hx_nope", "not-a-key", "hx_" + "A" * 43, "hx_" + "x" * 500]
)
def test_unknown_or_malformed_keys_are_rejected(store: AppStore, bad: str) -> None:
    _new(store)
    with store.session() as s:
        assert verify_key(s, bad) is None


def test_wrong_key_with_right_prefix_is_rejected(store: AppStore) -> None:
    _, plaintext = _new(store)
    tampered = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
    with store.session() as s:
        assert verify_key(s, tampered) is None


def test_last_used_is_updated_at_most_once_a_minute(store: AppStore) -> None:
    key, plaintext = _new(store)
    with store.session() as s:
        verify_key(s, plaintext)
    with store.session() as s:
        first = get_key(s, key.id).last_used_at
        verify_key(s, plaintext)
    with store.session() as s:
        assert get_key(s, key.id).last_used_at == first
        get_key(s, key.id).last_used_at = first - timedelta(minutes=5)  # type: ignore[operator]
    with store.session() as s:
        verify_key(s, plaintext)
    with store.session() as s:
        assert get_key(s, key.id).last_used_at > first  # type: ignore[operator]


def test_revoked_key_is_rejected(store: AppStore) -> None:
    key, plaintext = _new(store)
    with store.session() as s:
        revoked = revoke_key(s, key.id, actor="admin@example.com")
        assert revoked.revoked_at is not None
    with store.session() as s:
        assert verify_key(s, plaintext) is None


def test_revoking_twice_changes_nothing(store: AppStore) -> None:
    key, _ = _new(store)
    with store.session() as s:
        first = revoke_key(s, key.id, actor="test").revoked_at
    with store.session() as s:
        assert revoke_key(s, key.id, actor="test").revoked_at == first
        assert len(recent(s, action="key.revoke")) == 1


def test_revoke_unknown_key_is_not_found(store: AppStore) -> None:
    with store.session() as s, pytest.raises(NotFoundError, match="no API key with id 42"):
        revoke_key(s, 42, actor="test")


def test_bad_scope_and_name_are_rejected(store: AppStore) -> None:
    with pytest.raises(UserError, match="unknown key scope") as info:
        _new(store, scope="superuser")
    assert "ingest, read, write, admin" in info.value.for_people()
    with pytest.raises(UserError, match="needs a name"):
        _new(store, name="  ")
    with pytest.raises(UserError, match="at most 100"):
        _new(store, name="x" * 101)
    with store.session() as s:
        assert list_keys(s) == []


def test_list_keys(store: AppStore) -> None:
    a, _ = _new(store, name="a")
    b, _ = _new(store, name="b", scope="admin")
    with store.session() as s:
        revoke_key(s, a.id, actor="test")
    with store.session() as s:
        assert [k.id for k in list_keys(s)] == [a.id, b.id]
        assert [k.id for k in list_keys(s, include_revoked=False)] == [b.id]


def test_to_dict_has_no_secret(store: AppStore) -> None:
    key, plaintext = _new(store)
    data = key.to_dict()
    assert "key_hash" not in data
    assert plaintext not in str(data)
    assert data["prefix"] == key.prefix


def test_key_writes_are_audited(store: AppStore) -> None:
    key, plaintext = _new(store, scope="write")
    with store.session() as s:
        verify_key(s, plaintext)  # bookkeeping only: not audited
        revoke_key(s, key.id, actor="admin@example.com")
    with store.session() as s:
        rows = recent(s, target_type="api_key", target_id=key.id)
    assert [(r.action, r.actor) for r in rows] == [
        ("key.revoke", "admin@example.com"),
        ("key.create", "test"),
    ]
    assert rows[1].detail == {"name": "nightly-sync", "scope": "write", "prefix": key.prefix}
