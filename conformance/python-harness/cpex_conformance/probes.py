"""``MessageProbe``: the reference corpus's config-driven ``Probe`` on the CMF hooks.

Same ``config:`` options as ``pyref.plugins.probe.Probe`` (sleep, raise, state, global_state,
metadata, echo, set_fields, deny, block_silently, ...); it only adds the ``cmf.*`` hook names,
whose payload is a ``MessagePayload`` ({message: {schema_version, role, content: [...]}}).
Import root of ``pyref``: ../shared/conformance/python (the runner adds it).
"""

from typing import Any

from cpex.framework import PluginContext, PluginResult
from cpex.framework.decorator import hook
from pyref.plugins.probe import Probe

CMF_HOOKS = [
    "cmf.tool_pre_invoke",
    "cmf.tool_post_invoke",
    "cmf.llm_input",
    "cmf.llm_output",
    "cmf.prompt_pre_fetch",
    "cmf.prompt_post_fetch",
    "cmf.resource_pre_fetch",
    "cmf.resource_post_fetch",
]


class MessageProbe(Probe):
    """Probe for CMF MessagePayload hooks."""

    @hook(CMF_HOOKS)
    async def handle_message(self, payload: Any, context: PluginContext) -> PluginResult:
        return await Probe.handle(self, payload, context)
