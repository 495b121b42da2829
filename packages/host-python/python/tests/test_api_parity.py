"""The bundled cpex package must match the real cpex 0.1.x plugin-author API: same module
paths, class names, field names, defaults and required fields. Run with an interpreter that
has the real cpex installed (the repo's .venv)."""

import json
import os
import subprocess
import sys

import pytest
from conftest import PACKAGE_ROOT

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
        if os.environ.get("CI"):
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
