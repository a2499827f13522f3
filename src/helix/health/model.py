"""The health model definition: groups of measures, scoring functions, weights, colours.

A model is YAML (the package ships ``default_model.yaml``; the app-store setting
``health.model`` holds the active one). Its version is ``<version>-<hash>``: the
declared version number and the first 8 hex digits of the SHA-256 of its
canonical JSON, so any change of content gives a new version string.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from helix.errors import ConfigError
from helix.signals.config import SignalConfig
from helix.signals.registry import signal_names

__all__ = ["Scoring", "Measure", "Group", "Response", "HealthModel", "default_model", "load_model"]

ScoringType = Literal["linear", "thresholds", "percentile"]


def _check_keys(data: Any, allowed: set[str], where: str) -> None:
    """A mapping with only ``allowed`` keys: a misspelt key must not pass silently."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a mapping")
    unknown = sorted(set(map(str, data)) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}",
            hint=f"known keys: {', '.join(sorted(allowed))}",
        )
COLORS = ("green", "yellow", "red")


@dataclass(frozen=True)
class Scoring:
    """How a raw signal value becomes 0-100 points.

    * ``linear``: 0 points at ``zero``, 100 at ``full``, straight line between
      (``zero > full`` means lower is better), clipped to 0-100.
    * ``thresholds``: ``steps`` = ``[[min_value, points], ...]`` ascending; a value
      gets the points of the last step whose min it reaches (the first step below it).
    * ``percentile``: rank among the accounts scored on the same date
      (``higher_is_better``), as 0-100.
    """

    type: ScoringType
    zero: float | None = None
    full: float | None = None
    steps: tuple[tuple[float, float], ...] = ()
    higher_is_better: bool = True

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> Scoring:
        kind = data.get("type") if isinstance(data, dict) else None
        allowed = {"linear": {"zero", "full"}, "thresholds": {"steps"}, "percentile": {"higher_is_better"}}
        if kind in allowed:
            _check_keys(data, {"type", *allowed[kind]}, f"{where}.scoring")
        if kind == "linear":
            try:
                zero, full = float(data["zero"]), float(data["full"])
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError(f"{where}: linear scoring needs numbers 'zero' and 'full'") from exc
            if zero == full:
                raise ConfigError(f"{where}: linear scoring needs zero != full")
            return cls("linear", zero=zero, full=full)
        if kind == "thresholds":
            raw = data.get("steps") or []
            try:
                steps = tuple((float(v), float(p)) for v, p in raw)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{where}: steps must be [[min_value, points], ...]") from exc
            if not steps or list(steps) != sorted(steps, key=lambda s: s[0]):
                raise ConfigError(f"{where}: steps must be non-empty and ascending by value")
            if any(not 0 <= p <= 100 for _, p in steps):
                raise ConfigError(f"{where}: step points must be within 0-100")
            return cls("thresholds", steps=steps)
        if kind == "percentile":
            return cls("percentile", higher_is_better=bool(data.get("higher_is_better", True)))
        raise ConfigError(f"{where}: scoring type must be linear, thresholds or percentile, not {kind!r}")

    def to_dict(self) -> dict[str, Any]:
        if self.type == "linear":
            return {"type": "linear", "zero": self.zero, "full": self.full}
        if self.type == "thresholds":
            return {"type": "thresholds", "steps": [list(s) for s in self.steps]}
        return {"type": "percentile", "higher_is_better": self.higher_is_better}


@dataclass(frozen=True)
class Measure:
    """One signal scored into points, with its weight inside its group."""

    signal: str
    weight: float
    scoring: Scoring
    missing: str | float = "redistribute"  # or fixed points 0-100 used when the value is null
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "signal": self.signal, "weight": self.weight, "scoring": self.scoring.to_dict(),
            "missing": self.missing,
        }
        if self.label:
            out["label"] = self.label
        return out


@dataclass(frozen=True)
class Group:
    """A group of measures (usage, sentiment, relationship, ...) with its share of the score."""

    name: str
    weight: float
    measures: tuple[Measure, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"weight": self.weight, "measures": [m.to_dict() for m in self.measures]}


@dataclass(frozen=True)
class Response:
    """What happens when an account turns a colour: who, what, by when."""

    owner_role: str
    action: str
    deadline_days: int

    def to_dict(self) -> dict[str, Any]:
        return {"owner_role": self.owner_role, "action": self.action, "deadline_days": self.deadline_days}


@dataclass(frozen=True)
class HealthModel:
    """A complete, validated health model."""

    name: str
    version: int
    groups: tuple[Group, ...]
    green_from: float
    red_below: float
    responses: dict[str, Response] = field(default_factory=dict)
    signals: SignalConfig = field(default_factory=SignalConfig)
    description: str = ""

    # -- construction -------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HealthModel:
        """Validate and build a model from its YAML/JSON mapping."""
        if not isinstance(data, dict):
            raise ConfigError("a health model must be a mapping")
        _check_keys(
            data,
            {"name", "version", "description", "groups", "colors", "responses", "signals"},
            "the health model",
        )
        known = set(signal_names())
        groups = []
        for gname, g in (data.get("groups") or {}).items():
            _check_keys(g, {"weight", "measures"}, f"groups.{gname}")
            measures = []
            for i, m in enumerate(g.get("measures") or []):
                where = f"groups.{gname}.measures[{i}]"
                _check_keys(m, {"signal", "weight", "scoring", "missing", "label"}, where)
                sig = m.get("signal")
                if sig not in known:
                    raise ConfigError(f"{where}: unknown signal {sig!r}", hint="see `helix health signals`")
                weight = float(m.get("weight", 1))
                if weight < 0:
                    raise ConfigError(f"{where}: weight must be >= 0")
                missing = m.get("missing", "redistribute")
                if missing != "redistribute":
                    try:
                        missing = float(missing)
                    except (TypeError, ValueError) as exc:
                        raise ConfigError(f"{where}: missing must be 'redistribute' or points 0-100") from exc
                    if not 0 <= missing <= 100:
                        raise ConfigError(f"{where}: missing points must be within 0-100")
                scoring = Scoring.from_dict(m.get("scoring") or {}, where)
                measures.append(Measure(sig, weight, scoring, missing, str(m.get("label", ""))))
            if not measures:
                raise ConfigError(f"groups.{gname}: needs at least one measure")
            gweight = float(g.get("weight", 1))
            if gweight < 0:
                raise ConfigError(f"groups.{gname}: weight must be >= 0")
            groups.append(Group(str(gname), gweight, tuple(measures)))
        if not groups:
            raise ConfigError("a health model needs at least one group")
        if not any(g.weight > 0 for g in groups):
            raise ConfigError("at least one group needs a weight above 0")
        colors = data.get("colors") or {}
        _check_keys(colors, {"green_from", "red_below"}, "colors")
        green, red = float(colors.get("green_from", 70)), float(colors.get("red_below", 45))
        if not 0 <= red <= green <= 100:
            raise ConfigError("colors: need 0 <= red_below <= green_from <= 100")
        responses = {}
        for color, r in (data.get("responses") or {}).items():
            if color not in COLORS:
                raise ConfigError(f"responses: unknown colour {color!r}")
            _check_keys(r, {"owner_role", "action", "deadline_days"}, f"responses.{color}")
            responses[color] = Response(
                str(r.get("owner_role", "csm")), str(r.get("action", "")), int(r.get("deadline_days", 14))
            )
        return cls(
            name=str(data.get("name", "health")),
            version=int(data.get("version", 1)),
            groups=tuple(groups),
            green_from=green,
            red_below=red,
            responses=responses,
            signals=SignalConfig.from_dict(data.get("signals")),
            description=str(data.get("description", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        """The model as a YAML/JSON mapping (round-trips through :meth:`from_dict`)."""
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "colors": {"green_from": self.green_from, "red_below": self.red_below},
            "groups": {g.name: g.to_dict() for g in self.groups},
            "responses": {c: r.to_dict() for c, r in self.responses.items()},
            "signals": self.signals.to_dict(),
        }

    # -- identity -------------------------------------------------------------
    @property
    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON of the model (version number excluded)."""
        body = {k: v for k, v in self.to_dict().items() if k != "version"}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()

    @property
    def version_id(self) -> str:
        """What every score row records: ``<version>-<first 8 hex digits of the hash>``."""
        return f"{self.version}-{self.content_hash[:8]}"

    # -- helpers --------------------------------------------------------------
    def measures(self) -> list[tuple[Group, Measure]]:
        """Every (group, measure) pair in order."""
        return [(g, m) for g in self.groups for m in g.measures]

    def color_of(self, score: float | None) -> str | None:
        """green / yellow / red for a score (None for no score)."""
        if score is None or score != score:
            return None
        if score >= self.green_from:
            return "green"
        if score < self.red_below:
            return "red"
        return "yellow"

    def to_yaml(self) -> str:
        """The model as YAML text."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def load_model(path: Path) -> HealthModel:
    """Read a model from a YAML file."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the health model {path}: {exc}") from exc
    return HealthModel.from_dict(data)


@functools.lru_cache(maxsize=1)
def _default_definition() -> dict[str, Any]:
    text = resources.files("helix.health").joinpath("default_model.yaml").read_text()
    return yaml.safe_load(text)  # type: ignore[no-any-return]


def default_model() -> HealthModel:
    """The model shipped with Helix (``helix/health/default_model.yaml``; read once, a
    fresh model each call)."""
    return HealthModel.from_dict(copy.deepcopy(_default_definition()))
