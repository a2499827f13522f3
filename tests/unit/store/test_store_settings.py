"""Organisation settings: JSON values, validation, audit (secrets masked)."""

from __future__ import annotations

import pytest

from helix.errors import UserError
from helix.store import AppStore, all_settings, get_setting, recent, set_setting


def test_get_default_set_and_get(store: AppStore) -> None:
    with store.session() as s:
        assert get_setting(s, "health.weights") is None
        assert get_setting(s, "health.weights", {"usage": 1}) == {"usage": 1}
        set_setting(s, "health.weights", {"usage": 0.5, "support": 0.5}, actor="ana@example.com")
    with store.session() as s:
        assert get_setting(s, "health.weights") == {"usage": 0.5, "support": 0.5}


@pytest.mark.parametrize("value", [1, 2.5, "text", True, [1, "a"], {"nested": {"x": [1]}}, None])
def test_any_json_value_round_trips(store: AppStore, value: object) -> None:
    with store.session() as s:
        set_setting(s, "k", value, actor="test")
    with store.session() as s:
        assert get_setting(s, "k", "missing") == value


def test_update_overwrites_and_records_who(store: AppStore) -> None:
    with store.session() as s:
        set_setting(s, "fiscal.year_start", 1, actor="a@example.com")
    with store.session() as s:
        row = set_setting(s, "fiscal.year_start", 4, actor="b@example.com")
        assert (row.value, row.updated_by) == (4, "b@example.com")
    with store.session() as s:
        assert all_settings(s) == {"fiscal.year_start": 4}


def test_all_settings_sorted(store: AppStore) -> None:
    with store.session() as s:
        set_setting(s, "b", 2, actor="t")
        set_setting(s, "a", 1, actor="t")
        assert list(all_settings(s)) == ["a", "b"]


@pytest.mark.parametrize("key", ["", "Upper", "has space", "-lead", "x" * 101])
def test_bad_keys_are_rejected(store: AppStore, key: str) -> None:
    with store.session() as s, pytest.raises(UserError, match="not a setting key"):
        set_setting(s, key, 1, actor="t")


def test_setting_writes_are_audited_and_secrets_masked(store: AppStore) -> None:
    with store.session() as s:
        set_setting(s, "currency", "EUR", actor="a@example.com")
        set_setting(s, "currency", "USD", actor="b@example.com")
        set_setting(s, "smtp.password", "hunter22", actor="a@example.com")
    with store.session() as s:
        rows = recent(s, target_type="setting")
    assert [(r.action, r.actor, r.target_id, r.detail) for r in rows] == [
        ("setting.set", "a@example.com", "smtp.password", {"from": None, "to": "***"}),
        ("setting.set", "b@example.com", "currency", {"from": "EUR", "to": "USD"}),
        ("setting.set", "a@example.com", "currency", {"from": None, "to": "EUR"}),
    ]
