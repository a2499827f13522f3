"""What a playbook is: a trigger, an optional filter, ordered actions, an owner rule,
a cooldown, an optional holdout and the goal it is judged on.

Playbooks are YAML documents (see ``library/*.yaml`` for the shipped ones)::

    name: health-red
    title: Health turned red
    trigger: {type: health_turned, params: {color: red}}
    filter: {min_arr: 10000}
    owner: account_owner
    cooldown_days: 30
    holdout: 0.1
    goal: {metric: health_recovery, window_days: 60}
    actions:
      - {type: task, title: "Call {account_name}: health is red", priority: urgent, due_days: 2}
      - {type: notify, to: leader, message: "{account_name} turned red"}

Validation is strict (unknown keys are errors) so a typo never silently disables a rule.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from helix.errors import UserError

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
TOUCH_MODELS = ("high", "low", "tech")
TOUCH_BOUNDS = {"high": (100_000.0, None), "low": (25_000.0, 100_000.0), "tech": (None, 25_000.0)}
"""ARR bounds of the touch models (BRIEF section 9): [low, high) in dollars."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trigger(_Strict):
    """What starts the playbook: a trigger of :mod:`helix.playbooks.triggers` and its parameters."""

    type: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)


class Filter(_Strict):
    """Which of the triggered accounts the playbook applies to (all conditions must hold)."""

    segments: list[str] | None = None
    touch: list[Literal["high", "low", "tech"]] | None = None
    min_arr: float | None = Field(default=None, ge=0)
    max_arr: float | None = Field(default=None, ge=0)
    owners: list[str] | None = None
    attributes: dict[str, str | int | float | bool] = Field(default_factory=dict)


Recipient = Annotated[str, Field(pattern=r"^(account_owner|leader|email:[^@\s]+@[^@\s]+)$")]


class Action(_Strict):
    """One step. ``wait_days`` counts from the previous step; ``unless`` skips the step when
    the customer replied (an inbound activity) or the playbook's earlier task is done."""

    type: Literal["task", "email", "webhook", "update_account", "notify"]
    wait_days: int = Field(default=0, ge=0, le=365)
    unless: Literal["replied", "task_done"] | None = None
    # task
    title: str | None = Field(default=None, max_length=300)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    due_days: int = Field(default=3, ge=0, le=365)
    to: Recipient | None = None
    # email
    template: str | None = None
    contact_roles: list[str] = Field(
        default_factory=lambda: ["champion", "decision_maker", "executive_sponsor"]
    )
    # webhook: the URL is a setting (``webhooks.<name>``), never in the playbook itself
    webhook: str | None = Field(default=None, pattern=r"^[a-z0-9_-]+$")
    slack: bool = False
    # update_account
    field: Literal["segment", "touch_model", "lifecycle_stage"] | None = None
    value: str | None = Field(default=None, max_length=200)
    # notify / task description / webhook text
    message: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _required_fields(self) -> Action:
        need = {
            "task": ["title"],
            "email": ["template"],
            "webhook": ["webhook"],
            "update_account": ["field", "value"],
            "notify": ["message"],
        }[self.type]
        missing = [n for n in need if getattr(self, n) in (None, "")]
        if missing:
            raise ValueError(f"a {self.type} action needs {', '.join(missing)}")
        return self


class Goal(_Strict):
    """What the playbook is for, measured ``window_days`` after each occurrence."""

    metric: Literal["retention", "health_recovery", "expansion", "activation"]
    window_days: int = Field(default=90, ge=1, le=730)


class Playbook(_Strict):
    """A validated playbook definition."""

    name: str = Field(pattern=NAME_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    enabled: bool = True
    trigger: Trigger
    filter: Filter = Field(default_factory=Filter)
    actions: list[Action] = Field(min_length=1, max_length=20)
    owner: Recipient = "account_owner"
    cooldown_days: int = Field(default=30, ge=0, le=3650)
    holdout: float = Field(default=0.0, ge=0.0, le=0.5)
    goal: Goal | None = None

    @field_validator("trigger")
    @classmethod
    def _known_trigger(cls, value: Trigger) -> Trigger:
        from helix.playbooks.triggers import validate_params

        validate_params(value.type, value.params)  # names the trigger, parameter and value
        return value

    def content(self) -> dict[str, Any]:
        """The definition as plain data (what is stored and exported)."""
        return self.model_dump(mode="json", exclude_defaults=False)


def parse_playbook(data: Any, *, source: str = "playbook") -> Playbook:
    """Validate ``data`` (a mapping) as a playbook, or raise :class:`UserError` naming
    ``source`` and each wrong field."""
    if not isinstance(data, dict):
        raise UserError(f"{source}: a playbook is a mapping of keys, got {type(data).__name__}")
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"]) or "(top level)"
            problems.append(f"{where}: {e['msg']}")
        raise UserError(f"{source}: invalid playbook: " + "; ".join(problems)) from None


def load_yaml(text: str, *, source: str = "playbook") -> Playbook:
    """Parse one playbook from YAML text (``yaml.safe_load``: no arbitrary objects)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserError(f"{source}: not valid YAML: {exc}") from None
    return parse_playbook(data, source=source)


def to_yaml(playbook: Playbook) -> str:
    """The playbook as YAML (keys in definition order)."""
    return yaml.safe_dump(playbook.content(), sort_keys=False, allow_unicode=True)


def touch_model(arr: float | None) -> str:
    """High, low or tech touch by ARR (BRIEF section 9 bounds)."""
    value = float(arr or 0.0)
    for name, (lo, hi) in TOUCH_BOUNDS.items():
        if (lo is None or value >= lo) and (hi is None or value < hi):
            return name
    return "tech"  # pragma: no cover - the bounds cover every value


_FIELD = re.compile(r"\{([a-z_]+)\}")


def fill(text: str, values: dict[str, Any]) -> str:
    """Replace ``{name}`` placeholders of a task title or message with ``values``
    (unknown placeholders are left as they are)."""
    return _FIELD.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)
