"""Prompt fetch hooks."""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional

from pydantic import Field

from cpex.framework.hooks.registry import _register
from cpex.framework.models import PluginPayload, PluginResult


class PromptHookType(str, Enum):
    PROMPT_PRE_FETCH = "prompt_pre_fetch"
    PROMPT_POST_FETCH = "prompt_post_fetch"


class PromptPrehookPayload(PluginPayload):
    prompt_id: str
    args: Optional[dict[str, str]] = Field(default_factory=dict)


class PromptPosthookPayload(PluginPayload):
    prompt_id: str
    result: Any


PromptPrehookResult = PluginResult[PromptPrehookPayload]
PromptPosthookResult = PluginResult[PromptPosthookPayload]

_register(
    [
        ("prompt_pre_fetch", PromptPrehookPayload, PromptPrehookResult),
        ("prompt_post_fetch", PromptPosthookPayload, PromptPosthookResult),
    ]
)
