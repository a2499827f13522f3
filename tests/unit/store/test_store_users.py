"""Users: creation, validation, sign-in, roles, deactivation, audit."""

from __future__ import annotations

from typing import Literal

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from helix.errors import NotFoundError, UserError
from helix.store import (
    AppStore,
    AuditLog,
    Role,
    User,
    assign,
    authenticate,
    create_user,
    deactivate_user,
    get_user_by_email,
    list_users,
    recent,
    set_role,
)
from helix.store import users as users_module

PASSWORD = "correct horse battery"


def _make(
    store: AppStore,
    email: str = "ana@example.com",
    role: str | Role = "csm",
    name: str = "Ana",
    password: str | None = None,
) -> User:
    with store.session() as s:
        return create_user(s, email=email, name=name, role=role, password=password, actor="test")


def test_create_user_normalises_email_and_hashes_password(store: AppStore) -> None:
    user = _make(store, email="  Ana.Lopez@Example.COM ", role=Role.LEADER, password=PASSWORD)
    assert user.id is not None
    assert user.email == "ana.lopez@example.com"
    assert user.role is Role.LEADER
    assert user.is_active
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert user.created_at is not None and user.updated_at is not None


def test_plaintext_password_is_stored_nowhere(store: AppStore) -> None:
    _make(store, password=PASSWORD)
    with store.engine.connect() as conn:
        for table in ("users", "audit_log"):
            for row in conn.execute(sa.text(f"SELECT * FROM {table}")):
                assert PASSWORD not in " ".join(str(v) for v in row)


def test_role_accepts_strings_in_any_case(store: AppStore) -> None:
    assert _make(store, role="ADMIN").role is Role.ADMIN


def test_duplicate_email_is_rejected_case_insensitively(store: AppStore) -> None:
    _make(store)
    with pytest.raises(UserError, match="already exists"):
        _make(store, email="ANA@example.com")
    with store.session() as s:
        assert len(list_users(s)) == 1


@pytest.mark.parametrize(
    "email",
    [
        "",
        "ana",
        "ana@",
        "@example.com",
        "ana@example",
        "a b@example.com",
        "x" * 250 + "@example.com",
    ],
)
def test_invalid_email_is_rejected(store: AppStore, email: str) -> None:
    with pytest.raises(UserError, match="not a valid email"):
        _make(store, email=email)


def test_unknown_role_is_rejected_with_the_valid_ones(store: AppStore) -> None:
    with pytest.raises(UserError, match="unknown role") as info:
        _make(store, role="owner")
    assert "admin, leader, csm, viewer" in info.value.for_people()


def test_short_password_is_rejected(store: AppStore) -> None:
    with pytest.raises(UserError, match="at least 8"):
        _make(store, password="short")


def test_user_without_password_cannot_sign_in(store: AppStore) -> None:
    _make(store)
    with store.session() as s:
        assert authenticate(s, "ana@example.com", "") is None
        assert authenticate(s, "ana@example.com", PASSWORD) is None


def test_authenticate(store: AppStore) -> None:
    user = _make(store, password=PASSWORD)
    with store.session() as s:
        found = authenticate(s, "ANA@example.com", PASSWORD)
        assert found is not None and found.id == user.id
        assert authenticate(s, "ana@example.com", "wrong password") is None
        assert authenticate(s, "nobody@example.com", PASSWORD) is None


def test_authenticate_does_the_same_work_for_unknown_users(
    store: AppStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str | bytes] = []
    real = users_module._hasher

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            calls.append(hash)
            return real.verify(hash, password)

    monkeypatch.setattr(
        users_module, "_hasher", Counting(time_cost=1, memory_cost=1024, parallelism=1)
    )
    users_module._dummy_hash.cache_clear()
    with store.session() as s:
        assert authenticate(s, "nobody@example.com", PASSWORD) is None
    assert len(calls) == 1


def test_authenticate_rehashes_outdated_hashes(
    store: AppStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = _make(store, password=PASSWORD)
    old_hash = user.password_hash
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    monkeypatch.setattr(users_module, "_hasher", stronger)
    with store.session() as s:
        assert authenticate(s, "ana@example.com", PASSWORD) is not None
    with store.session() as s:
        new_hash = get_user_by_email(s, "ana@example.com").password_hash  # type: ignore[union-attr]
    assert new_hash != old_hash
    assert not stronger.check_needs_rehash(new_hash)
    with store.session() as s:
        assert authenticate(s, "ana@example.com", PASSWORD) is not None


def test_inactive_user_cannot_sign_in(store: AppStore) -> None:
    _make(store, email="boss@example.com", role="admin")
    _make(store, password=PASSWORD)
    with store.session() as s:
        user = deactivate_user(s, "ana@example.com", actor="boss@example.com")
        assert not user.is_active
    with store.session() as s:
        assert authenticate(s, "ana@example.com", PASSWORD) is None


def test_get_and_list_users(store: AppStore) -> None:
    _make(store, email="zed@example.com")
    _make(store, email="amy@example.com")
    with store.session() as s:
        assert [u.email for u in list_users(s)] == ["amy@example.com", "zed@example.com"]
        assert get_user_by_email(s, "ZED@example.com").email == "zed@example.com"  # type: ignore[union-attr]
        assert get_user_by_email(s, "none@example.com") is None
        deactivate_user(s, "zed@example.com", actor="test")
        assert [u.email for u in list_users(s, include_inactive=False)] == ["amy@example.com"]


def test_set_role(store: AppStore) -> None:
    _make(store)
    with store.session() as s:
        assert set_role(s, "ana@example.com", "leader", actor="test").role is Role.LEADER
    with store.session() as s:
        assert get_user_by_email(s, "ana@example.com").role is Role.LEADER  # type: ignore[union-attr]


def test_set_role_errors(store: AppStore) -> None:
    _make(store)
    with store.session() as s, pytest.raises(NotFoundError, match="no user"):
        set_role(s, "ghost@example.com", "csm", actor="test")
    with store.session() as s, pytest.raises(UserError, match="unknown role"):
        set_role(s, "ana@example.com", "king", actor="test")
    with store.session() as s, pytest.raises(NotFoundError):
        deactivate_user(s, "ghost@example.com", actor="test")


def test_the_last_admin_cannot_be_demoted_or_deactivated(store: AppStore) -> None:
    _make(store, email="root@example.com", role="admin")
    with store.session() as s, pytest.raises(UserError, match="last active admin"):
        set_role(s, "root@example.com", "viewer", actor="test")
    with store.session() as s, pytest.raises(UserError, match="last active admin"):
        deactivate_user(s, "root@example.com", actor="test")
    _make(store, email="second@example.com", role="admin")
    with store.session() as s:
        set_role(s, "root@example.com", "viewer", actor="test")


def test_every_user_write_is_audited(store: AppStore) -> None:
    user = _make(store, password=PASSWORD)
    _make(store, email="boss@example.com", role="admin")
    with store.session() as s:
        set_role(s, "ana@example.com", "viewer", actor="boss@example.com")
        set_role(s, "ana@example.com", "viewer", actor="boss@example.com")  # no change, no row
        deactivate_user(s, "ana@example.com", actor="boss@example.com")
        deactivate_user(s, "ana@example.com", actor="boss@example.com")  # no change, no row
    with store.session() as s:
        rows = [r for r in reversed(recent(s)) if r.target_id == str(user.id)]
    assert [(r.action, r.actor) for r in rows] == [
        ("user.create", "test"),
        ("user.set_role", "boss@example.com"),
        ("user.deactivate", "boss@example.com"),
    ]
    assert rows[0].detail == {"email": "ana@example.com", "role": "csm", "has_password": True}
    assert rows[1].detail == {"email": "ana@example.com", "from": "csm", "to": "viewer"}


def test_failed_create_writes_nothing(store: AppStore) -> None:
    _make(store)
    with pytest.raises(UserError):
        _make(store)
    with store.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 1


def test_create_user_links_existing_assignments(store: AppStore) -> None:
    with store.session() as s:
        assign(s, "acct-1", "ana@example.com", actor="test")
    user = _make(store)
    with store.session() as s:
        from helix.store import get_assignment

        assert get_assignment(s, "acct-1").user_id == user.id  # type: ignore[union-attr]


def test_to_dict_hides_the_hash(store: AppStore) -> None:
    data = _make(store, password=PASSWORD).to_dict()
    assert "password_hash" not in data
    assert data["has_password"] is True
    assert data["role"] == "csm"
