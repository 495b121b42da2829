"""Prompt fetch hooks."""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional

from pydantic import Field, field_validator

from cpex.framework.hooks.registry import _register
from cpex.framework.models import PluginPayload, PluginResult
from cpex.framework.protocols import PromptResultLike  # noqa: F401 - importable from here, as in Python cpex
from cpex.framework.utils import coerce_nested


class PromptHookType(str, Enum):
    PROMPT_PRE_FETCH = "prompt_pre_fetch"
    PROMPT_POST_FETCH = "prompt_post_fetch"


class PromptPrehookPayload(PluginPayload):
    prompt_id: str
    args: Optional[dict[str, str]] = Field(default_factory=dict)


class PromptPosthookPayload(PluginPayload):
    prompt_id: str
    result: Any

    @field_validator("result", mode="before")
    @classmethod
    def _attribute_access(cls, value: Any) -> Any:
        # A prompt result arriving as JSON gets attribute access, as Python cpex gives it.
        return coerce_nested(value) if isinstance(value, dict) else value


PromptPrehookResult = PluginResult[PromptPrehookPayload]
PromptPosthookResult = PluginResult[PromptPosthookPayload]

_register(
    [
        ("prompt_pre_fetch", PromptPrehookPayload, PromptPrehookResult),
        ("prompt_post_fetch", PromptPosthookPayload, PromptPosthookResult),
    ]
)
