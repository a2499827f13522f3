"""Settings of the signal computation: which events count as core, logins, first value.

A :class:`SignalConfig` is plain data; the health model YAML carries one under its
``signals:`` key so that each company can describe its own product.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from helix.errors import ConfigError

__all__ = ["SignalConfig"]


@dataclass(frozen=True)
class SignalConfig:
    """What the signals need to know about the product and the CS process."""

    login_event_type: str = "login"
    core_event_types: tuple[str, ...] = (
        "report_created",
        "workflow_run",
        "integration_sync",
        "api_call",
        "alert_configured",
    )
    value_event_type: str = "report_created"
    value_min_users: int = 1
    onboarding_stall_days: int = 60
    meaningful_contact_kinds: tuple[str, ...] = ("meeting", "call", "qbr")
    seat_products: tuple[str, ...] = ()  # empty: the largest quantity of any live row
    plateau_min_tenure_days: int = 180

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> SignalConfig:
        """Build from a YAML mapping; unknown keys are an error (typos must not pass silently)."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"unknown signal settings: {', '.join(unknown)}",
                hint=f"known settings: {', '.join(sorted(known))}",
            )
        for key in ("core_event_types", "meaningful_contact_kinds", "seat_products"):
            if key in data:
                data[key] = tuple(str(v) for v in data[key] or ())
        cfg = cls(**data)
        if cfg.value_min_users < 1:
            raise ConfigError("signals.value_min_users must be at least 1")
        if cfg.onboarding_stall_days < 1:
            raise ConfigError("signals.onboarding_stall_days must be at least 1")
        return cfg

    def to_dict(self) -> dict[str, Any]:
        """The settings as a YAML/JSON-ready mapping."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out
