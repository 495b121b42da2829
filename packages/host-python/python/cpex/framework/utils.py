"""Small helpers of the plugin-author API."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict

logger = logging.getLogger(__name__)

# Limits of the dict -> attribute-access conversion (guards against huge or deep inputs).
_MAX_DEPTH = 20
_MAX_BREADTH = 500


class StructuredData(BaseModel):
    """A dict with attribute access (``payload.result.messages[0].content.text``); dumps back to the dict."""

    model_config = ConfigDict(extra="allow")


def coerce_nested(value: Any, *, _depth: int = 0) -> Any:
    """Dicts (recursively, also inside lists) become :class:`StructuredData`; models and scalars stay."""
    if _depth >= _MAX_DEPTH or isinstance(value, BaseModel):
        return value
    if isinstance(value, dict):
        if len(value) > _MAX_BREADTH:
            logger.warning("coerce_nested: dict with %d keys left as a dict (limit %d)", len(value), _MAX_BREADTH)
            return value
        return StructuredData(**{k: coerce_nested(v, _depth=_depth + 1) for k, v in value.items()})
    if isinstance(value, list):
        if len(value) > _MAX_BREADTH:
            logger.warning("coerce_nested: list with %d items left as is (limit %d)", len(value), _MAX_BREADTH)
            return value
        return [coerce_nested(v, _depth=_depth + 1) for v in value]
    return value


def coerce_messages(value: Any) -> Any:
    """Each dict in a messages list becomes :class:`StructuredData`."""
    if isinstance(value, list):
        return [coerce_nested(item) if isinstance(item, dict) else item for item in value]
    return value


def normalize_content_type(value: str) -> str:
    """``"Application/JSON; charset=utf-8"`` -> ``"application/json"``."""
    return value.split(";", 1)[0].strip().lower()


def get_attr(obj: Any, attr: str, default: Any = "") -> Any:
    """``obj.attr`` for objects, ``obj[attr]`` for dicts, else ``default``."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(attr, default)
    value = getattr(obj, attr, default)
    return default if value is None else value
