"""Use cases behind `helix expansion ...` and the expansion API: one function per command."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from helix.errors import ConfigError
from helix.predict.expansion import DetectionRun, update_leads
from helix.predict.expansion_config import (
    CONFIG_CHANGE,
    ExpansionConfig,
    active_config,
    save_config,
)

if TYPE_CHECKING:
    from helix.platform import Platform

__all__ = ["run_detection", "config_info", "set_config", "read_config_file"]


def run_detection(platform: Platform, as_of: date) -> DetectionRun:
    """Detect and store the leads of ``as_of`` with the active configuration."""
    return update_leads(platform.warehouse, as_of, active_config(platform.store))


def config_info(platform: Platform) -> dict[str, Any]:
    """The active configuration, and whether it is the defaults."""
    cfg = active_config(platform.store)
    return {"config": cfg.to_dict(), "default": cfg == ExpansionConfig()}


def read_config_file(path: Path) -> ExpansionConfig:
    """An :class:`ExpansionConfig` from a YAML or JSON file (missing keys keep their defaults)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the expansion settings in {path}: {exc}") from exc
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of expansion settings")
    return ExpansionConfig.from_dict(data)


def set_config(platform: Platform, path: Path | None, *, actor: str = "cli") -> dict[str, Any]:
    """Activate the settings in ``path`` (the defaults when None); later runs detect with them."""
    new = read_config_file(path) if path is not None else ExpansionConfig()
    if new != active_config(platform.store):
        save_config(platform.store, new, actor)
        platform.warehouse.record_change(CONFIG_CHANGE, note="expansion settings")
    return config_info(platform)
