"""Example Python cpex plugins, written exactly as for Python cpex 0.1.x.

They run unchanged under cpex-ts through @cpex/host-python: each plugin entry gets its own
Python worker process; the payloads are the usual pydantic classes.
"""

from __future__ import annotations

import re
from typing import Any

from cpex.framework import Plugin, PluginConfig, PluginContext, PluginResult, PluginViolation
from cpex.framework.decorator import hook
from cpex.framework.hooks.tools import ToolPostInvokePayload, ToolPreInvokePayload

# The same patterns as examples/quickstart/src/plugins/pii-redactor.ts. re.ASCII makes \w, \d and
# \b mean what they mean in JavaScript; examples/quickstart/test/redactor-parity.test.ts runs both.
# Phone: North American numbers with an optional country code (+1, +44, or a "1-" trunk prefix), an
# area code in parentheses or not, space/dot/dash separators and an optional extension ("x12",
# "ext. 12"); never part of a longer digit or word run (too-short runs stay).
_PATTERNS = {
    "ssn": re.compile(r"\b\d{3}-\d{2}-\d{4}\b", re.ASCII),
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII),
    "phone": re.compile(
        r"(?<![\w+])(?:\+\d{1,3}[ .-]?|1[ .-])?(?:\(\d{3}\)[ .-]?|\d{3}[ .-]?)\d{3}[ .-]?\d{4}"
        r"(?: ?(?:x|ext\.?) ?\d{1,6})?(?!\w)",
        re.ASCII,
    ),
}
# Most specific first, so the phone pattern never eats part of an SSN.
_ORDER = ("ssn", "email", "phone")


def _redact(value: Any, kinds: list[str], found: set[str]) -> Any:
    if isinstance(value, str):
        for kind in kinds:
            value, n = _PATTERNS[kind].subn(f"[{kind.upper()}]", value)
            if n:
                found.add(kind)
        return value
    if isinstance(value, dict):
        return {k: _redact(v, kinds, found) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, kinds, found) for v in value]
    return value


class PiiGuard(Plugin):
    """Redacts e-mail addresses, phone numbers and SSNs in tool arguments and results."""

    def __init__(self, config: PluginConfig) -> None:
        super().__init__(config)
        detect = (config.config or {}).get("detect") or _ORDER
        self._kinds = [kind for kind in _ORDER if kind in detect]

    async def tool_pre_invoke(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        found: set[str] = set()
        args = _redact(payload.args or {}, self._kinds, found)
        context.state["redacted"] = context.state.get("redacted", 0) + len(found)
        if not found:
            return PluginResult()
        return PluginResult(
            modified_payload=payload.model_copy(update={"args": args}),
            metadata={"redacted": [kind for kind in _ORDER if kind in found]},
        )

    async def tool_post_invoke(self, payload: ToolPostInvokePayload, context: PluginContext) -> PluginResult:
        found: set[str] = set()
        result = _redact(payload.result, self._kinds, found)
        if not found:
            return PluginResult()
        return PluginResult(
            modified_payload=payload.model_copy(update={"result": result}),
            metadata={"redacted": [kind for kind in _ORDER if kind in found]},
        )


class ToolDenyList(Plugin):
    """Blocks tools on a deny-list (an @hook-decorated method, as Python cpex allows)."""

    @hook("tool_pre_invoke")
    async def check(self, payload: ToolPreInvokePayload, context: PluginContext) -> PluginResult:
        denied = set((self.config.config or {}).get("deny") or [])
        if payload.name in denied:
            return PluginResult(
                continue_processing=False,
                violation=PluginViolation(
                    code="TOOL_DENIED",
                    reason=f"tool {payload.name} is not allowed",
                    description="blocked by the Python deny-list plugin",
                    details={"tool": payload.name, "user": context.user_email},
                ),
            )
        return PluginResult(metadata={"deny_list_checked": payload.name})
