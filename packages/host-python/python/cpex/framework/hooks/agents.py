"""Agent invocation hooks."""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional

from pydantic import Field, field_validator

from cpex.framework.hooks.http import HttpHeaderPayload
from cpex.framework.hooks.registry import _register
from cpex.framework.models import PluginPayload, PluginResult
from cpex.framework.protocols import MessageLike  # noqa: F401 - importable from here, as in Python cpex
from cpex.framework.utils import coerce_messages


class AgentHookType(str, Enum):
    AGENT_PRE_INVOKE = "agent_pre_invoke"
    AGENT_POST_INVOKE = "agent_post_invoke"


class AgentPreInvokePayload(PluginPayload):
    agent_id: str
    messages: list[Any]
    tools: Optional[list[str]] = None
    headers: Optional[HttpHeaderPayload] = None
    model: Optional[str] = None
    system_prompt: Optional[str] = None
    parameters: Optional[dict[str, Any]] = Field(default_factory=dict)

    @field_validator("messages", mode="before")
    @classmethod
    def _attribute_access(cls, value: Any) -> Any:
        return coerce_messages(value)


class AgentPostInvokePayload(PluginPayload):
    agent_id: str
    messages: list[Any]
    tool_calls: Optional[list[dict[str, Any]]] = None

    @field_validator("messages", mode="before")
    @classmethod
    def _attribute_access(cls, value: Any) -> Any:
        return coerce_messages(value)


AgentPreInvokeResult = PluginResult[AgentPreInvokePayload]
AgentPostInvokeResult = PluginResult[AgentPostInvokePayload]

_register(
    [
        ("agent_pre_invoke", AgentPreInvokePayload, AgentPreInvokeResult),
        ("agent_post_invoke", AgentPostInvokePayload, AgentPostInvokeResult),
    ]
)
