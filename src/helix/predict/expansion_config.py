"""Thresholds of the expansion signals: plain data with documented defaults.

The active configuration is the app-store setting ``expansion.config`` (a JSON
mapping of the fields below); without it the defaults apply. Saving a new one
records a change under :data:`CONFIG_CHANGE`, so the next `helix run` detects
again with it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

from helix.errors import ConfigError

if TYPE_CHECKING:
    from helix.store import AppStore

__all__ = [
    "UsageLimit",
    "ExpansionConfig",
    "CONFIG_SETTING",
    "CONFIG_CHANGE",
    "active_config",
    "save_config",
]

CONFIG_SETTING = "expansion.config"
CONFIG_CHANGE = "expansion_config"
"""Name under which a configuration change is recorded in the warehouse's change log
(the expansion stage lists it among its inputs)."""

Measure = Literal["count", "value"]
UsageMotion = Literal["usage", "tier"]


def _number(name: str, value: Any, kind: type) -> Any:
    """``value`` as ``kind`` (float or int), refusing text, booleans and fractional counts."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number, not {value!r}")
    if kind is int and value != int(value):
        raise ConfigError(f"{name} must be a whole number, not {value!r}")
    return kind(value)


def _unknown(kind: str, data: dict[str, Any], known: set[str]) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"unknown {kind} settings: {', '.join(unknown)}",
            hint=f"known settings: {', '.join(sorted(known))}",
        )


@dataclass(frozen=True)
class UsageLimit:
    """A licensed allowance consumed by product events.

    ``product``'s licensed quantity on the detection date times
    ``units_per_quantity`` is the allowance of one 30-day window; the usage is
    the number of ``event_type`` events in the 30 days before the date
    (``measure="count"``) or the sum of their ``value`` (``measure="value"``).
    """

    product: str
    event_type: str
    units_per_quantity: float = 1.0
    measure: Measure = "count"
    motion: UsageMotion = "usage"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UsageLimit:
        """Build from a mapping; unknown keys and impossible values are errors."""
        if not isinstance(data, dict):
            raise ConfigError(f"a usage limit must be a mapping, not {data!r}")
        _unknown("usage limit", data, {f.name for f in fields(cls)})
        for key in ("product", "event_type"):
            if not isinstance(data.get(key), str) or not data[key]:
                raise ConfigError(f"a usage limit needs '{key}' (a non-empty string)")
        limit = cls(
            product=data["product"],
            event_type=data["event_type"],
            units_per_quantity=_number(
                "units_per_quantity", data.get("units_per_quantity", 1.0), float
            ),
            measure=data.get("measure", "count"),
            motion=data.get("motion", "usage"),
        )
        if limit.units_per_quantity <= 0:
            raise ConfigError("usage_limits.units_per_quantity must be above 0")
        if limit.measure not in ("count", "value"):
            raise ConfigError("usage_limits.measure must be count or value")
        if limit.motion not in ("usage", "tier"):
            raise ConfigError("usage_limits.motion must be usage or tier")
        return limit

    def to_dict(self) -> dict[str, Any]:
        """The limit as JSON-ready data."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class ExpansionConfig:
    """When an account counts as an expansion lead (see ``docs/expansion.md``).

    * ``seat_threshold``: active users in the last 30 days per licensed seat at
      or above which ``seats_near_limit`` fires (0.8 = 80%).
    * ``usage_threshold``: usage per allowance at or above which
      ``usage_near_limit`` fires, for each of ``usage_limits`` (none by default:
      which product meters which events is the company's own knowledge).
    * ``min_new_event_types``: event types an account used in the last 30 days
      but not in the ``adoption_lookback_days`` before them, for
      ``adoption_spreading``, when it is at least ``adoption_min_tenure_days``
      old and used the product in the look-back.
    * ``prediction_threshold``: probability of the expansion model at or above
      which ``predicted_expansion`` fires, using predictions at most
      ``prediction_max_age_days`` older than the detection date.
    """

    seat_threshold: float = 0.8
    usage_threshold: float = 0.8
    usage_limits: tuple[UsageLimit, ...] = ()
    min_new_event_types: int = 2
    adoption_min_tenure_days: int = 90
    adoption_lookback_days: int = 365
    prediction_threshold: float = 0.5
    prediction_max_age_days: int = 7

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ExpansionConfig:
        """Build from a mapping (YAML or JSON); unknown keys are an error, typos must not pass."""
        data = dict(data or {})
        _unknown("expansion", data, {f.name for f in fields(cls)})
        limits = data.pop("usage_limits", None) or ()
        if not isinstance(limits, list | tuple):
            raise ConfigError("usage_limits must be a list of mappings")
        numbers = {k: _number(k, v, type(getattr(cls, k))) for k, v in data.items()}
        cfg = cls(**numbers, usage_limits=tuple(UsageLimit.from_dict(x) for x in limits))
        for name in ("seat_threshold", "usage_threshold"):
            if not 0 < getattr(cfg, name) <= 10:
                raise ConfigError(f"{name} must be a ratio above 0 (0.8 = 80%)")
        if not 0 < cfg.prediction_threshold < 1:
            raise ConfigError("prediction_threshold must be a probability between 0 and 1")
        if cfg.min_new_event_types < 1:
            raise ConfigError("min_new_event_types must be at least 1")
        if cfg.adoption_min_tenure_days < 0 or cfg.prediction_max_age_days < 0:
            raise ConfigError("adoption_min_tenure_days and prediction_max_age_days must be >= 0")
        if cfg.adoption_lookback_days < 1:
            raise ConfigError("adoption_lookback_days must be at least 1")
        return cfg

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready data (what ``from_dict`` reads back)."""
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["usage_limits"] = [u.to_dict() for u in self.usage_limits]
        return out


def active_config(store: AppStore | None) -> ExpansionConfig:
    """The configuration stored in ``expansion.config``, or the defaults."""
    if store is None:
        return ExpansionConfig()
    from helix.store.settings import get_setting

    with store.session() as session:
        data = get_setting(session, CONFIG_SETTING)
    return ExpansionConfig.from_dict(data)


def save_config(store: AppStore, cfg: ExpansionConfig, actor: str) -> None:
    """Make ``cfg`` the active configuration (the audit log keeps the previous one)."""
    from helix.store.settings import set_setting

    with store.session() as session:
        set_setting(session, CONFIG_SETTING, cfg.to_dict(), actor)
