"""CMF message hooks (``evaluate`` and ``cmf.*``), all typed with ``MessagePayload``."""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from cpex.framework.cmf.message import Message
from cpex.framework.hooks.registry import _register
from cpex.framework.models import PluginPayload, PluginResult


class MessageHookType(str, Enum):
    EVALUATE = "evaluate"
    LLM_INPUT = "llm_input"
    LLM_OUTPUT = "llm_output"
    TOOL_PRE_INVOKE = "tool_pre_invoke"
    TOOL_POST_INVOKE = "tool_post_invoke"
    PROMPT_PRE_FETCH = "prompt_pre_fetch"
    PROMPT_POST_FETCH = "prompt_post_fetch"
    RESOURCE_PRE_FETCH = "resource_pre_fetch"
    RESOURCE_POST_FETCH = "resource_post_fetch"


class CmfHookType(str, Enum):
    TOOL_PRE_INVOKE = "cmf.tool_pre_invoke"
    TOOL_POST_INVOKE = "cmf.tool_post_invoke"
    LLM_INPUT = "cmf.llm_input"
    LLM_OUTPUT = "cmf.llm_output"
    RESOURCE_PRE_FETCH = "cmf.resource_pre_fetch"
    RESOURCE_POST_FETCH = "cmf.resource_post_fetch"
    PROMPT_PRE_FETCH = "cmf.prompt_pre_fetch"
    PROMPT_POST_FETCH = "cmf.prompt_post_fetch"


class MessagePayload(PluginPayload):
    message: Message
    hook: MessageHookType = Field(default=MessageHookType.EVALUATE)


MessageResult = PluginResult[MessagePayload]

_register([("evaluate", MessagePayload, MessageResult)] + [(h.value, MessagePayload, MessageResult) for h in CmfHookType])
