"""Pydantic models of the plugin-author API (config, contexts, results, violations).

Field names, defaults and validation follow Python cpex 0.1.x so that plugins which
construct or read these objects behave the same under cpex-ts.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import Enum
from typing import Any, Generic, Optional, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from cpex.framework.extensions.extensions import Extensions


class _StrEnum(str, Enum):
    def __str__(self) -> str:  # behave like enum.StrEnum (3.11+) on 3.10 too
        return str(self.value)


class TransportType(_StrEnum):
    SSE = "SSE"
    HTTP = "HTTP"
    STDIO = "STDIO"
    STREAMABLEHTTP = "STREAMABLEHTTP"
    GRPC = "GRPC"
    UNIX_SOCKET = "UNIX_SOCKET"


class PluginMode(_StrEnum):
    """Execution mode; the phases run in the order sequential, transform, audit, concurrent, fire_and_forget."""

    FIRE_AND_FORGET = "fire_and_forget"
    CONCURRENT = "concurrent"
    SEQUENTIAL = "sequential"
    TRANSFORM = "transform"
    AUDIT = "audit"
    DISABLED = "disabled"


class OnError(_StrEnum):
    FAIL = "fail"
    IGNORE = "ignore"
    DISABLE = "disable"


def _normalize_content_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


class PluginCondition(BaseModel):
    """When a plugin applies: OR across conditions, AND inside one."""

    server_ids: Optional[set[str]] = None
    tenant_ids: Optional[set[str]] = None
    tools: Optional[set[str]] = None
    prompts: Optional[set[str]] = None
    resources: Optional[set[str]] = None
    agents: Optional[set[str]] = None
    user_patterns: Optional[list[str]] = None
    content_types: Optional[list[str]] = None

    @field_validator("content_types")
    @classmethod
    def _normalize(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        if value is None:
            return None
        return [_normalize_content_type(v) for v in value]


class BaseTemplate(BaseModel):
    context: Optional[list[str]] = None
    extensions: Optional[dict[str, Any]] = None


class ToolTemplate(BaseTemplate):
    tool_name: str
    fields: Optional[list[str]] = None
    result: bool = False


class PromptTemplate(BaseTemplate):
    prompt_name: str
    fields: Optional[list[str]] = None
    result: bool = False


class ResourceTemplate(BaseTemplate):
    resource_uri: str
    fields: Optional[list[str]] = None
    result: bool = False


class AppliedTo(BaseModel):
    tools: Optional[list[ToolTemplate]] = None
    prompts: Optional[list[PromptTemplate]] = None
    resources: Optional[list[ResourceTemplate]] = None


_LEGACY_MODES = {"enforce": "sequential", "permissive": "transform"}


class PluginConfig(BaseModel):
    """A plugin's config entry as the plugin sees it (unknown keys are ignored)."""

    name: str
    description: Optional[str] = None
    author: Optional[str] = None
    kind: str
    namespace: Optional[str] = None
    version: Optional[str] = None
    hooks: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    mode: PluginMode = PluginMode.SEQUENTIAL
    on_error: OnError = OnError.FAIL
    priority: int = 100
    max_content_size: int = 10_000_000
    conditions: list[PluginCondition] = Field(default_factory=list)
    applied_to: Optional[AppliedTo] = None
    capabilities: frozenset[str] = Field(default_factory=frozenset)
    config: Optional[dict[str, Any]] = None
    mcp: Optional[dict[str, Any]] = None
    grpc: Optional[dict[str, Any]] = None
    unix_socket: Optional[dict[str, Any]] = None

    @model_validator(mode="before")
    @classmethod
    def _legacy_modes(cls, data: Any) -> Any:
        if isinstance(data, dict):
            mode = data.get("mode")
            if mode == "enforce_ignore_error":
                data = {**data, "mode": "sequential"}
                data.setdefault("on_error", "ignore")
            elif mode in _LEGACY_MODES:
                data = {**data, "mode": _LEGACY_MODES[mode]}
        return data

    @field_validator("capabilities", mode="before")
    @classmethod
    def _capabilities(cls, value: Any) -> frozenset[str]:
        from cpex.framework.extensions.tiers import Capability

        if isinstance(value, (list, set, frozenset, tuple)):
            known = {c.value for c in Capability}
            for cap in value:
                if cap not in known:
                    raise ValueError(f"Unknown capability: {cap!r}. Known: {sorted(known)}")
            return frozenset(value)
        return frozenset()


class ControlExecutionStatus(_StrEnum):
    COMPLETED = "completed"
    ERROR = "error"
    TIMEOUT = "timeout"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    DISABLED = "disabled"


class ControlExecutionRecord(BaseModel):
    plugin_id: str
    plugin_name: str
    plugin_kind: str
    hook_name: str
    mode: PluginMode
    status: ControlExecutionStatus
    requested_allow: Optional[bool] = None
    effective_allow: bool = True
    matched: Optional[bool] = None
    applied: bool = False
    payload_modified: bool = False
    extensions_modified: bool = False
    duration_ns: int = 0
    reason: Optional[str] = None
    error_code: Optional[str] = None
    config_keys: list[str] = Field(default_factory=list)


class PluginErrorModel(BaseModel):
    message: str
    plugin_name: str
    code: Optional[str] = ""
    details: Optional[dict[str, Any]] = Field(default_factory=dict)
    mcp_error_code: int = -32603


class PluginViolation(BaseModel):
    """Why a plugin blocked a request."""

    reason: str
    description: str
    code: str
    details: Optional[dict[str, Any]] = Field(default_factory=dict)
    _plugin_name: str = PrivateAttr(default="")
    mcp_error_code: Optional[int] = None
    http_status_code: Optional[int] = None
    http_headers: Optional[dict[str, str]] = None

    @property
    def plugin_name(self) -> str:
        return self._plugin_name

    @plugin_name.setter
    def plugin_name(self, name: str) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ValueError("plugin_name must be a non-empty string")
        self._plugin_name = name


class UserContext(BaseModel):
    user_id: str
    email: Optional[str] = None
    full_name: Optional[str] = None
    is_admin: bool = False
    groups: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    team_id: Optional[str] = None
    teams: Optional[list[str]] = None
    department: Optional[str] = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    auth_method: Optional[str] = None
    authenticated_at: Optional[datetime] = None
    service_account: Optional[str] = None
    delegation_chain: list[str] = Field(default_factory=list)


class Config(BaseModel):
    plugins: Optional[list[PluginConfig]] = []
    plugin_dirs: list[str] = []
    server_settings: Optional[dict[str, Any]] = None
    grpc_server_settings: Optional[dict[str, Any]] = None
    unix_socket_server_settings: Optional[dict[str, Any]] = None


T = TypeVar("T")


class PluginResult(BaseModel, Generic[T]):
    """What a hook returns: allow (default), a modified payload, or a violation."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    continue_processing: bool = True
    modified_payload: Optional[T] = None
    modified_extensions: Optional[Extensions] = None
    violation: Optional[PluginViolation] = None
    metadata: Optional[dict[str, Any]] = Field(default_factory=dict)
    denial_metadata: Optional[dict[str, Any]] = None
    background_tasks: list[asyncio.Task] = Field(default_factory=list, exclude=True)
    http_headers: Optional[dict[str, str]] = None
    retry_delay_ms: int = 0
    executions: list[ControlExecutionRecord] = Field(default_factory=list)

    async def wait_for_background_tasks(self) -> list[PluginErrorModel]:
        if not self.background_tasks:
            return []
        done = await asyncio.gather(*self.background_tasks, return_exceptions=True)
        return [d for d in done if isinstance(d, PluginErrorModel)]


class GlobalContext(BaseModel):
    """The caller's request context; each plugin gets its own copy of state/metadata."""

    request_id: str
    user: Optional[Union[str, dict[str, Any]]] = None
    user_context: Optional[UserContext] = None
    tenant_id: Optional[str] = None
    server_id: Optional[str] = None
    content_type: Optional[str] = None
    state: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("content_type")
    @classmethod
    def _content_type(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return None
        if len(value) > 200 or not value.isprintable():
            raise ValueError("content_type must be at most 200 printable characters")
        return value


class PluginContext(BaseModel):
    """A plugin's per-request context: local state and metadata plus the global context."""

    state: dict[str, Any] = Field(default_factory=dict)
    global_context: GlobalContext
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def user_context(self) -> Optional[UserContext]:
        return self.global_context.user_context

    @property
    def user_email(self) -> Optional[str]:
        uc = self.global_context.user_context
        if uc:
            return uc.email
        user = self.global_context.user
        if isinstance(user, str):
            return user
        if isinstance(user, dict):
            return user.get("email")
        return None

    @property
    def user_groups(self) -> list[str]:
        uc = self.global_context.user_context
        return uc.groups if uc else []

    def get_state(self, key: str, default: Any = None) -> Any:
        return self.state.get(key, default)

    def set_state(self, key: str, value: Any) -> None:
        self.state[key] = value

    async def cleanup(self) -> None:
        """Forgets this plugin's local state and metadata once the request is over."""
        for held in (self.state, self.metadata):
            held.clear()

    def is_empty(self) -> bool:
        return not (self.state or self.metadata or self.global_context.state)


PluginContextTable = dict[str, PluginContext]


class PluginPayload(BaseModel):
    """Base class of every hook payload: frozen, so plugins return copies (model_copy(update=...))."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
