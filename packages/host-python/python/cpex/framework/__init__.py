"""cpex.framework: the plugin-author API of Python cpex 0.1.x (cpex-ts compatibility package).

Import paths and class names match Python cpex 0.1.x, so existing plugins run unchanged.
The PluginManager itself is not provided: cpex-ts schedules the plugins.
"""

from cpex.framework.base import Plugin
from cpex.framework.decorator import hook
from cpex.framework.errors import PluginError, PluginViolationError
from cpex.framework.hooks.agents import (
    AgentHookType,
    AgentPostInvokePayload,
    AgentPostInvokeResult,
    AgentPreInvokePayload,
    AgentPreInvokeResult,
)
from cpex.framework.hooks.http import (
    HttpAuthCheckPermissionPayload,
    HttpAuthCheckPermissionResult,
    HttpAuthCheckPermissionResultPayload,
    HttpAuthResolveUserPayload,
    HttpAuthResolveUserResult,
    HttpHeaderPayload,
    HttpHookType,
    HttpPostRequestPayload,
    HttpPostRequestResult,
    HttpPreRequestPayload,
    HttpPreRequestResult,
)
from cpex.framework.hooks.policies import HookPayloadPolicy
from cpex.framework.hooks.prompts import (
    PromptHookType,
    PromptPosthookPayload,
    PromptPosthookResult,
    PromptPrehookPayload,
    PromptPrehookResult,
)
from cpex.framework.hooks.registry import HookRegistry, get_hook_registry
from cpex.framework.hooks.resources import (
    ResourceHookType,
    ResourcePostFetchPayload,
    ResourcePostFetchResult,
    ResourcePreFetchPayload,
    ResourcePreFetchResult,
)
from cpex.framework.hooks.tools import (
    ToolHookType,
    ToolPostInvokePayload,
    ToolPostInvokeResult,
    ToolPreInvokePayload,
    ToolPreInvokeResult,
)
from cpex.framework.models import (
    ControlExecutionRecord,
    ControlExecutionStatus,
    GlobalContext,
    OnError,
    PluginCondition,
    PluginConfig,
    PluginContext,
    PluginContextTable,
    PluginErrorModel,
    PluginMode,
    PluginPayload,
    PluginResult,
    PluginViolation,
    TransportType,
    UserContext,
)
from cpex.framework.utils import get_attr
from cpex.framework import constants, protocols  # noqa: E402,F401 - submodules reachable as attributes, as in Python cpex

__all__ = [
    "AgentHookType",
    "AgentPostInvokePayload",
    "AgentPostInvokeResult",
    "AgentPreInvokePayload",
    "AgentPreInvokeResult",
    "ControlExecutionRecord",
    "ControlExecutionStatus",
    "get_attr",
    "get_hook_registry",
    "GlobalContext",
    "hook",
    "HookPayloadPolicy",
    "HookRegistry",
    "HttpAuthCheckPermissionPayload",
    "HttpAuthCheckPermissionResult",
    "HttpAuthCheckPermissionResultPayload",
    "HttpAuthResolveUserPayload",
    "HttpAuthResolveUserResult",
    "HttpHeaderPayload",
    "HttpHookType",
    "HttpPostRequestPayload",
    "HttpPostRequestResult",
    "HttpPreRequestPayload",
    "HttpPreRequestResult",
    "OnError",
    "Plugin",
    "PluginCondition",
    "PluginConfig",
    "PluginContext",
    "PluginContextTable",
    "PluginError",
    "PluginErrorModel",
    "PluginMode",
    "PluginPayload",
    "PluginResult",
    "PluginViolation",
    "PluginViolationError",
    "PromptHookType",
    "PromptPosthookPayload",
    "PromptPosthookResult",
    "PromptPrehookPayload",
    "PromptPrehookResult",
    "ResourceHookType",
    "ResourcePostFetchPayload",
    "ResourcePostFetchResult",
    "ResourcePreFetchPayload",
    "ResourcePreFetchResult",
    "ToolHookType",
    "ToolPostInvokePayload",
    "ToolPostInvokeResult",
    "ToolPreInvokePayload",
    "ToolPreInvokeResult",
    "TransportType",
    "UserContext",
]
