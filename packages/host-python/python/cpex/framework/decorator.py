"""``@hook``: mark a method as the handler of one or more hooks.

As in Python cpex 0.1.x the decorator only attaches metadata; the hooks a plugin runs on
are the ones listed in its config entry.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence, Type, TypeVar, Union

from pydantic import BaseModel

from cpex.framework.models import PluginPayload, PluginResult

# Type variables of typed hook signatures, as in Python cpex.
P = TypeVar("P", bound=PluginPayload)
R = TypeVar("R", bound=PluginResult)

_HOOK_METADATA_ATTR = "_plugin_hook_metadata"


class HookMetadata:
    def __init__(
        self,
        hook_types: list[str],
        payload_type: Optional[Type[BaseModel]] = None,
        result_type: Optional[Type[BaseModel]] = None,
    ) -> None:
        self.hook_types = hook_types
        self.payload_type = payload_type
        self.result_type = result_type

    @property
    def hook_type(self) -> str:
        return self.hook_types[0] if self.hook_types else ""

    def matches(self, hook_type: str) -> bool:
        return hook_type in self.hook_types


def hook(
    hook_type: Union[str, Sequence[str]],
    payload_type: Optional[Type[BaseModel]] = None,
    result_type: Optional[Type[BaseModel]] = None,
) -> Callable[[Callable], Callable]:
    """Attach hook metadata: ``@hook("tool_pre_invoke")`` or ``@hook(["a", "b"])``."""

    def decorator(func: Callable) -> Callable:
        types = [str(hook_type)] if isinstance(hook_type, str) else [str(h) for h in hook_type]
        setattr(func, _HOOK_METADATA_ATTR, HookMetadata(types, payload_type, result_type))
        return func

    return decorator


def get_hook_metadata(func: Callable) -> Optional[HookMetadata]:
    return getattr(func, _HOOK_METADATA_ATTR, None)


def has_hook_metadata(func: Callable) -> bool:
    return hasattr(func, _HOOK_METADATA_ATTR)
