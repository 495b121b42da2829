"""Tool invocation hooks."""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional

from pydantic import Field

from cpex.framework.hooks.http import HttpHeaderPayload
from cpex.framework.hooks.registry import _register
from cpex.framework.models import PluginPayload, PluginResult


class ToolHookType(str, Enum):
    TOOL_PRE_INVOKE = "tool_pre_invoke"
    TOOL_POST_INVOKE = "tool_post_invoke"


class ToolPreInvokePayload(PluginPayload):
    name: str
    args: Optional[dict[str, Any]] = Field(default_factory=dict)
    headers: Optional[HttpHeaderPayload] = None


class ToolPostInvokePayload(PluginPayload):
    name: str
    result: Any


ToolPreInvokeResult = PluginResult[ToolPreInvokePayload]
ToolPostInvokeResult = PluginResult[ToolPostInvokePayload]

_register(
    [
        ("tool_pre_invoke", ToolPreInvokePayload, ToolPreInvokeResult),
        ("tool_post_invoke", ToolPostInvokePayload, ToolPostInvokeResult),
    ]
)
