"""An optional LLM that rewrites the QBR narrative: off unless configured, never required.

Configuration is the app-store setting ``llm`` (no secret is stored there)::

    helix settings set llm '{"enabled": true, "base_url": "http://127.0.0.1:8001/v1",
                              "model": "my-model", "api_key_env": "HELIX_LLM_API_KEY",
                              "timeout_seconds": 20}'

Any OpenAI-compatible chat-completions endpoint works (``POST
{base_url}/chat/completions``); the API key, if the endpoint needs one, is read
from the environment variable named by ``api_key_env``. The model gets the
template paragraphs as a JSON object and must answer with the same keys.

The rewrite is used only when it can be checked: the answer is a JSON object
with exactly the sections asked for, each non-empty, and every figure of each
template paragraph still appears in its rewrite. On any failure (not enabled,
no such variable, connection error, timeout, HTTP error, malformed or
unfaithful answer) the template text stands, and the reason is kept, so the
deck always says which of the two produced its words.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["LLM_SETTING", "LlmConfig", "Narrative", "llm_config", "rewrite", "figures"]

LLM_SETTING = "llm"
_FIGURE = re.compile(r"\d[\d,]*(?:\.\d+)?")

SYSTEM_PROMPT = (
    "You rewrite the sections of a quarterly business review so that they read well for the "
    "customer's executives. Keep every number, date, name and fact exactly as given; add no "
    "facts. Answer with one JSON object with exactly the same keys, each value one short paragraph."
)


@dataclass(frozen=True)
class LlmConfig:
    """Where the LLM is; ``enabled`` false (the default) means templates only."""

    enabled: bool = False
    base_url: str = ""
    model: str = ""
    api_key_env: str | None = None
    timeout_seconds: float = 20.0


@dataclass(frozen=True)
class Narrative:
    """The narrative's paragraphs and who produced them."""

    sections: dict[str, str]
    source: str  # "template" or "llm"
    model: str | None = None
    note: str = ""
    template: dict[str, str] = field(default_factory=dict)

    def produced_by(self) -> str:
        """The line the deck prints about where its words came from."""
        if self.source == "llm":
            return (
                f"Narrative rewritten by the LLM {self.model} from Helix's template text; "
                "every figure checked against the data."
            )
        why = f" (LLM not used: {self.note})" if self.note else ""
        return f"Narrative written by Helix templates from the data{why}."

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "source": self.source,
            "model": self.model,
            "note": self.note,
            "produced_by": self.produced_by(),
            "sections": self.sections,
            "template": self.template,
        }


def llm_config(value: Any) -> LlmConfig:
    """The ``llm`` setting as a :class:`LlmConfig` (missing or malformed: disabled)."""
    if not isinstance(value, dict):
        return LlmConfig()
    try:
        return LlmConfig(
            enabled=bool(value.get("enabled", False)),
            base_url=str(value.get("base_url") or ""),
            model=str(value.get("model") or ""),
            api_key_env=str(value["api_key_env"]) if value.get("api_key_env") else None,
            timeout_seconds=float(value.get("timeout_seconds", 20.0)),
        )
    except (TypeError, ValueError):
        return LlmConfig()


def figures(text: str) -> set[str]:
    """The numbers in ``text``, thousands separators removed (``$1,200.50`` -> ``1200.50``)."""
    return {m.group(0).replace(",", "").rstrip(".") for m in _FIGURE.finditer(text)}


def _content(body: Any) -> str:
    content = body["choices"][0]["message"]["content"]
    if not isinstance(content, str):
        raise ValueError("the answer has no text")
    text = content.strip()
    if text.startswith("```"):  # a fenced JSON block
        text = text.strip("`")
        text = text[text.find("{") :]
    return text


def _check(template: dict[str, str], answer: Any) -> dict[str, str]:
    if not isinstance(answer, dict) or set(answer) != set(template):
        raise ValueError("the answer does not have the same sections")
    out = {}
    for key, original in template.items():
        text = answer[key]
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"the section {key!r} is empty")
        lost = figures(original) - figures(text)
        if lost:
            raise ValueError(
                f"the section {key!r} lost or changed figures: {', '.join(sorted(lost))}"
            )
        out[key] = text.strip()
    return out


def rewrite(
    template: dict[str, str],
    config: LlmConfig,
    *,
    transport: httpx.BaseTransport | None = None,
) -> Narrative:
    """The narrative: the LLM's checked rewrite of ``template``, else ``template`` itself."""

    def fallback(note: str) -> Narrative:
        return Narrative(dict(template), "template", None, note, dict(template))

    if not config.enabled:
        return fallback("")
    if not config.base_url or not config.model:
        return fallback("the llm setting needs base_url and model")
    headers = {"Content-Type": "application/json"}
    if config.api_key_env:
        key = os.environ.get(config.api_key_env)
        if not key:
            return fallback(f"the environment variable {config.api_key_env} is not set")
        headers["Authorization"] = f"Bearer {key}"
    payload = {
        "model": config.model,
        "temperature": 0.2,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": json.dumps(template, ensure_ascii=False)},
        ],
    }
    url = config.base_url.rstrip("/") + "/chat/completions"
    try:
        with httpx.Client(timeout=config.timeout_seconds, transport=transport) as client:
            response = client.post(url, json=payload, headers=headers)
            response.raise_for_status()
            sections = _check(template, json.loads(_content(response.json())))
    except httpx.TimeoutException:
        return fallback(f"no answer within {config.timeout_seconds:g} s")
    except httpx.HTTPStatusError as exc:
        return fallback(f"the endpoint answered HTTP {exc.response.status_code}")
    except httpx.HTTPError as exc:
        return fallback(f"cannot reach the endpoint ({type(exc).__name__})")
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        return fallback(f"unusable answer: {exc}")
    return Narrative(sections, "llm", config.model, "", dict(template))
