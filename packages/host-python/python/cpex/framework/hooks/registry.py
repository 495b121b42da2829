"""Hook name -> payload/result classes (filled when the hook modules are imported)."""

from __future__ import annotations

from typing import Optional, Type, Union

from cpex.framework.models import PluginPayload, PluginResult


class HookRegistry:
    """Process-wide registry of hook payload and result types."""

    _instance: Optional["HookRegistry"] = None
    _hook_payloads: dict[str, Type[PluginPayload]] = {}
    _hook_results: dict[str, Type[PluginResult]] = {}

    def __new__(cls) -> "HookRegistry":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def register_hook(self, hook_type: str, payload_class: Type[PluginPayload], result_class: Type[PluginResult]) -> None:
        key = str(getattr(hook_type, "value", hook_type))
        self._hook_payloads[key] = payload_class
        self._hook_results[key] = result_class

    def get_payload_type(self, hook_type: str) -> Optional[Type[PluginPayload]]:
        return self._hook_payloads.get(str(getattr(hook_type, "value", hook_type)))

    def get_result_type(self, hook_type: str) -> Optional[Type[PluginResult]]:
        return self._hook_results.get(str(getattr(hook_type, "value", hook_type)))

    def json_to_payload(self, hook_type: str, payload: Union[str, dict]) -> PluginPayload:
        cls = self.get_payload_type(hook_type)
        if cls is None:
            raise ValueError(f"No payload type registered for hook: {hook_type}")
        return cls.model_validate_json(payload) if isinstance(payload, str) else cls.model_validate(payload)

    def json_to_result(self, hook_type: str, result: Union[str, dict]) -> PluginResult:
        cls = self.get_result_type(hook_type)
        if cls is None:
            raise ValueError(f"No result type registered for hook: {hook_type}")
        return cls.model_validate_json(result) if isinstance(result, str) else cls.model_validate(result)

    def is_registered(self, hook_type: str) -> bool:
        return str(getattr(hook_type, "value", hook_type)) in self._hook_payloads

    def get_registered_hooks(self) -> list[str]:
        return list(self._hook_payloads)


def get_hook_registry() -> HookRegistry:
    return HookRegistry()


def _register(pairs: list[tuple[str, type, type]]) -> None:
    registry = get_hook_registry()
    for name, payload, result in pairs:
        if not registry.is_registered(name):
            registry.register_hook(name, payload, result)
