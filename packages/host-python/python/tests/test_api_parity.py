"""The bundled cpex package must match the real cpex 0.1.x plugin-author API: same module
paths, class names, field names, defaults and required fields. Run with an interpreter that
has the real cpex installed (the repo's .venv)."""

import json
import os
import subprocess
import sys

import pytest
from conftest import PACKAGE_ROOT, is_ci

CLASSES = {
    "cpex.framework": [
        "PluginConfig", "PluginContext", "GlobalContext", "PluginResult", "PluginViolation",
        "PluginErrorModel", "PluginCondition", "UserContext", "PluginPayload",
    ],
    "cpex.framework.hooks.tools": ["ToolPreInvokePayload", "ToolPostInvokePayload"],
    "cpex.framework.hooks.prompts": ["PromptPrehookPayload", "PromptPosthookPayload"],
    "cpex.framework.hooks.resources": ["ResourcePreFetchPayload", "ResourcePostFetchPayload"],
    "cpex.framework.hooks.agents": ["AgentPreInvokePayload", "AgentPostInvokePayload"],
    "cpex.framework.hooks.http": [
        "HttpPreRequestPayload", "HttpPostRequestPayload", "HttpAuthResolveUserPayload",
        "HttpAuthCheckPermissionPayload", "HttpAuthCheckPermissionResultPayload",
    ],
    "cpex.framework.hooks.identity": ["IdentityPayload", "IdentityResult", "DelegationPayload", "DelegationResult"],
    "cpex.framework.hooks.message": ["MessagePayload"],
    "cpex.framework.extensions": [
        "Extensions", "SecurityExtension", "SubjectExtension", "HttpExtension", "DelegationExtension",
        "DelegationHop", "AgentExtension", "MCPExtension", "ToolMetadata", "MetaExtension",
        "RequestExtension", "CompletionExtension", "LLMExtension", "FrameworkExtension", "ProvenanceExtension",
    ],
    "cpex.framework.cmf.message": [
        "Message", "TextContent", "ToolCall", "ToolResult", "Resource", "ResourceReference",
        "PromptRequest", "PromptResult", "ImageSource", "ToolCallContentPart",
    ],
}

DUMP = r"""
import importlib, json, sys
from pydantic_core import PydanticUndefined
spec = json.loads(sys.argv[1])
out = {}
for mod, names in spec.items():
    m = importlib.import_module(mod)
    for n in names:
        cls = getattr(m, n)
        fields = {}
        for fname, f in cls.model_fields.items():
            d = f.default
            fields[fname] = {
                "required": f.is_required(),
                "default": None if d is PydanticUndefined else repr(d),
                "factory": f.default_factory is not None,
            }
        out[f"{mod}.{n}"] = fields
import cpex
out["__origin__"] = "bundled" if getattr(cpex, "CPEX_TS_SHIM", False) else "installed"
print(json.dumps(out))
"""


def _dump(prepend_bundled: bool) -> dict:
    code = DUMP
    if prepend_bundled:
        code = f"import sys; sys.path.insert(0, {PACKAGE_ROOT!r})\n" + code
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(CLASSES)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)


@pytest.fixture(scope="module")
def dumps():
    try:
        import cpex  # noqa: F401
    except ImportError:
        if is_ci():
            pytest.fail("CI: the parity test needs the real cpex installed (run it with the repo's .venv python)")
        pytest.skip("needs the real cpex installed (run with the repo's .venv python)")
    return _dump(False), _dump(True)


def test_both_packages_are_the_ones_compared(dumps):
    real, bundled = dumps
    assert real["__origin__"] == "installed"
    assert bundled["__origin__"] == "bundled"


@pytest.mark.parametrize("qualname", [f"{m}.{n}" for m, ns in CLASSES.items() for n in ns])
def test_same_fields_defaults_and_required(dumps, qualname):
    real, bundled = dumps
    r, b = real[qualname], bundled[qualname]
    assert sorted(b) == sorted(r), f"{qualname}: field names differ"
    for name in r:
        assert b[name]["required"] == r[name]["required"], f"{qualname}.{name}: required differs"
        assert b[name]["factory"] == r[name]["factory"], f"{qualname}.{name}: default_factory differs"
        if not r[name]["factory"] and "<" not in str(r[name]["default"]):
            assert b[name]["default"] == r[name]["default"], f"{qualname}.{name}: default differs"


BEHAVIOUR = r"""
import json
from cpex.framework import PluginConfig, PluginContext, GlobalContext, PluginResult, PluginViolation
from cpex.framework.hooks.tools import ToolPreInvokePayload
from cpex.framework.hooks.prompts import PromptPosthookPayload
from cpex.framework.hooks.agents import AgentPreInvokePayload
from cpex.framework.hooks.http import HttpHeaderPayload, HttpPreRequestPayload
from cpex.framework.hooks.message import MessagePayload
from cpex.framework.hooks.registry import get_hook_registry
obs = {}
p = ToolPreInvokePayload(name="calc", args={"x": 1})
try:
    p.name = "other"
    obs["frozen"] = False
except Exception as e:
    obs["frozen"] = type(e).__name__
obs["copy"] = p.model_copy(update={"args": {"y": 2}}).model_dump(mode="json")
pp = PromptPosthookPayload.model_validate({"prompt_id": "p", "result": {"messages": [{"content": {"text": "hi"}}]}})
obs["prompt_attr"] = pp.result.messages[0].content.text
obs["prompt_result_is_dict"] = isinstance(pp.result, dict)
ap = AgentPreInvokePayload.model_validate({"agent_id": "a", "messages": [{"role": "user", "content": "x"}]})
obs["agent_attr"] = ap.messages[0].role
h = HttpPreRequestPayload.model_validate({"path": "/", "method": "GET", "headers": {"a": "1"}})
obs["headers"] = [dict(h.headers.root), h.headers["a"], len(h.headers), list(iter(h.headers))]
m = MessagePayload.model_validate({"message": {"role": "user", "content": [{"content_type": "text", "text": "hi"}]}, "hook": "llm_input"})
obs["message"] = m.model_dump(mode="json")
cfg = PluginConfig(name="n", kind="k", mode="enforce_ignore_error", hooks=["tool_pre_invoke"])
obs["legacy_mode"] = [cfg.mode.value, cfg.on_error.value, cfg.priority]
ctx = PluginContext(global_context=GlobalContext(request_id="r", user={"email": "e@x"}))
obs["user_email"] = ctx.user_email
obs["result"] = PluginResult(violation=PluginViolation(code="C", reason="r", description="d")).model_dump(mode="json", exclude={"executions"})
reg = get_hook_registry()
obs["registered"] = sorted(h for h in ["tool_pre_invoke", "tool_post_invoke", "prompt_pre_fetch", "prompt_post_fetch",
    "resource_pre_fetch", "resource_post_fetch", "agent_pre_invoke", "agent_post_invoke", "http_pre_request",
    "http_post_request", "http_auth_resolve_user", "http_auth_check_permission", "identity_resolve",
    "token_delegate", "evaluate", "cmf.llm_input", "cmf.tool_pre_invoke"] if reg.is_registered(h))
print(json.dumps(obs, sort_keys=True, default=str))
"""


def test_same_behaviour_for_what_plugins_do(dumps):
    def run(prepend_bundled: bool) -> dict:
        code = BEHAVIOUR
        if prepend_bundled:
            code = f"import sys; sys.path.insert(0, {PACKAGE_ROOT!r})\n" + code
        # the worker imports every hook module; do the same here
        code = code.replace(
            "obs = {}",
            "import cpex.framework.hooks.identity, cpex.framework.hooks.resources\nobs = {}",
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        return json.loads(out)

    real, bundled = run(False), run(True)
    assert bundled == real
