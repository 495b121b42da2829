"""The ``Plugin`` base class."""

from __future__ import annotations

from typing import Any, Optional, Union

from cpex.framework.errors import PluginError
from cpex.framework.models import (  # noqa: F401 - OnError, PluginContext: importable from here, as in Python cpex
    OnError,
    PluginCondition,
    PluginConfig,
    PluginContext,
    PluginErrorModel,
    PluginMode,
    PluginPayload,
    PluginResult,
)


class Plugin:
    """Base class of a plugin: subclass it and add one async method per hook
    (named after the hook, or marked with ``@hook``)."""

    def __init__(
        self,
        config: PluginConfig,
        hook_payloads: Optional[dict[str, Any]] = None,
        hook_results: Optional[dict[str, Any]] = None,
    ) -> None:
        self._config = config
        self._hook_payloads = hook_payloads
        self._hook_results = hook_results

    @property
    def priority(self) -> int:
        return self._config.priority

    @property
    def config(self) -> PluginConfig:
        return self._config

    @property
    def mode(self) -> PluginMode:
        return self._config.mode

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def hooks(self) -> list[str]:
        return self._config.hooks

    @property
    def tags(self) -> list[str]:
        return self._config.tags

    @property
    def conditions(self) -> Optional[list[PluginCondition]]:
        return self._config.conditions

    async def initialize(self) -> None:
        """Called once after construction."""

    async def shutdown(self) -> None:
        """Called once when the host shuts the plugin down."""

    def _lookup(self, table: Optional[dict[str, Any]], hook: str, kind: str) -> Any:
        found = table.get(hook) if table else None
        if not found:
            from cpex.framework.hooks.registry import get_hook_registry

            registry = get_hook_registry()
            found = registry.get_payload_type(hook) if kind == "payload" else registry.get_result_type(hook)
        if not found:
            raise PluginError(PluginErrorModel(message=f"No {kind} defined for hook {hook}.", plugin_name=self.name))
        return found

    def json_to_payload(self, hook: str, payload: Union[str, dict]) -> PluginPayload:
        cls = self._lookup(self._hook_payloads, hook, "payload")
        return cls.model_validate_json(payload) if isinstance(payload, str) else cls.model_validate(payload)

    def json_to_result(self, hook: str, result: Union[str, dict]) -> PluginResult:
        cls = self._lookup(self._hook_results, hook, "result")
        return cls.model_validate_json(result) if isinstance(result, str) else cls.model_validate(result)
