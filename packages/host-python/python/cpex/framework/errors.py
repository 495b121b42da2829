"""Exceptions a plugin may raise or catch."""

from __future__ import annotations

from typing import Any, Optional

from cpex.framework.models import PluginErrorModel, PluginMode, PluginViolation  # noqa: F401 - PluginMode re-exported as in Python cpex


class PluginViolationError(Exception):
    """Raised (by a plugin or the manager) when a request is blocked."""

    def __init__(self, message: str, violation: Optional[PluginViolation] = None):
        super().__init__(message)
        self.message = message
        self.violation = violation
        self.executions: list[Any] = []


class PluginError(Exception):
    """A plugin failure carrying a PluginErrorModel."""

    def __init__(self, error: PluginErrorModel):
        super().__init__(error.message)
        self.error = error


class PayloadSizeError(ValueError):
    """A payload exceeded the size guard."""


def convert_exception_to_error(exception: Exception, plugin_name: str) -> PluginErrorModel:
    if isinstance(exception, PluginError):
        return exception.error
    return PluginErrorModel(message=repr(exception), plugin_name=plugin_name)
