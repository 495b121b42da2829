"""Small helpers of the plugin-author API."""

from __future__ import annotations

from typing import Any


def get_attr(obj: Any, attr: str, default: Any = "") -> Any:
    """``obj.attr`` for objects, ``obj[attr]`` for dicts, else ``default``."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(attr, default)
    value = getattr(obj, attr, default)
    return default if value is None else value
