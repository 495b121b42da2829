"""Resource fetch hooks."""

from __future__ import annotations

from enum import Enum
from typing import Any, Optional

from pydantic import Field

from cpex.framework.hooks.registry import _register
from cpex.framework.models import PluginPayload, PluginResult


class ResourceHookType(str, Enum):
    RESOURCE_PRE_FETCH = "resource_pre_fetch"
    RESOURCE_POST_FETCH = "resource_post_fetch"


class ResourcePreFetchPayload(PluginPayload):
    uri: str
    metadata: Optional[dict[str, Any]] = Field(default_factory=dict)


class ResourcePostFetchPayload(PluginPayload):
    uri: str
    content: Any


ResourcePreFetchResult = PluginResult[ResourcePreFetchPayload]
ResourcePostFetchResult = PluginResult[ResourcePostFetchPayload]

_register(
    [
        ("resource_pre_fetch", ResourcePreFetchPayload, ResourcePreFetchResult),
        ("resource_post_fetch", ResourcePostFetchPayload, ResourcePostFetchResult),
    ]
)
