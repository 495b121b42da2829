"""Python cpex 0.1.4's own fixture plugins (tests/unit/cpex/fixtures of its sdist) against the
cpex package bundled with host-python: every fixture module imports, every plugin class is a
bundled ``Plugin``, and a few of them called directly behave as they do on the real cpex.

The fixtures come from ``scripts/cpex-fixtures.sh`` (cached download; ``CPEX_FIXTURES`` may point
at an extracted copy). Each check runs in a subprocess whose ``sys.path`` starts with the bundled
package, so it is the bundled ``cpex`` even where the real one is installed. Without the fixtures
the tests skip, except under ``CI=true`` where that is a failure.
"""

import json
import os
import subprocess
import sys

import pytest
from conftest import PACKAGE_ROOT, is_ci

REPO = os.path.dirname(os.path.dirname(os.path.dirname(PACKAGE_ROOT)))


def _fixtures() -> str | None:
    env = os.environ.get("CPEX_FIXTURES")
    if env:
        return env
    proc = subprocess.run(
        ["bash", os.path.join(REPO, "scripts", "cpex-fixtures.sh")], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        if is_ci():
            pytest.fail(f"scripts/cpex-fixtures.sh failed under CI: {proc.stderr.strip()}")
        return None
    return proc.stdout.strip()


FIXTURES = _fixtures()
pytestmark = pytest.mark.skipif(FIXTURES is None, reason="Python cpex fixtures not available (no PyPI, no cache)")

PRELUDE = r"""
import sys, json, asyncio, importlib, pathlib
sys.path.insert(0, {fixtures!r})
sys.path.insert(0, {package!r})
import cpex
assert getattr(cpex, "CPEX_TS_SHIM", False), "the bundled cpex was not the one imported: " + cpex.__file__
"""


def _run(body: str) -> dict:
    code = PRELUDE.format(fixtures=FIXTURES, package=PACKAGE_ROOT) + body
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_every_fixture_module_imports_and_its_plugins_subclass_the_bundled_plugin():
    out = _run(
        r"""
from cpex.framework import Plugin
root = pathlib.Path(sys.path[1]) / "plugins"
found, failed = {}, {}
for f in sorted(root.rglob("*.py")):
    if f.name == "__init__.py":
        continue
    mod = ".".join(("plugins",) + f.relative_to(root).with_suffix("").parts)
    try:
        m = importlib.import_module(mod)
    except Exception as e:
        failed[mod] = f"{type(e).__name__}: {e}"
        continue
    found[mod] = sorted(n for n, v in vars(m).items() if isinstance(v, type) and issubclass(v, Plugin) and v is not Plugin and v.__module__ == mod)
print(json.dumps({"found": found, "failed": failed}))
"""
    )
    assert out["failed"] == {}
    classes = [f"{m}.{c}" for m, cs in out["found"].items() for c in cs]
    assert len(out["found"]) >= 17
    assert len(classes) >= 24
    for expected in (
        "plugins.deny_filter.DenyListPlugin",
        "plugins.headers.HeadersMetaDataPlugin",
        "plugins.extensions_aware.ExtensionsCustomPlugin",
        "plugins.isolated.credential_plugin.plugin.CredentialPlugin",
    ):
        assert expected in classes


def test_deny_filter_and_search_replace_called_directly():
    out = _run(
        r"""
from cpex.framework import PluginConfig, PluginContext, GlobalContext, PromptPrehookPayload, PromptPosthookPayload
from plugins.deny_filter import DenyListPlugin
from plugins.search_replace import SearchReplacePlugin

def ctx():
    return PluginContext(global_context=GlobalContext(request_id="r1"))

async def main():
    deny = DenyListPlugin(PluginConfig(name="d", kind="plugins.deny_filter.DenyListPlugin", hooks=["prompt_pre_fetch"], config={"words": ["innovative"]}))
    denied = await deny.prompt_pre_fetch(PromptPrehookPayload(prompt_id="p", args={"a": "an innovative idea"}), ctx())
    allowed = await deny.prompt_pre_fetch(PromptPrehookPayload(prompt_id="p", args={"a": "plain"}), ctx())
    sr = SearchReplacePlugin(PluginConfig(name="s", kind="plugins.search_replace.SearchReplacePlugin", hooks=["prompt_post_fetch"], config={"words": [{"search": "crap", "replace": "crud"}]}))
    # The rendered prompt arrives as JSON; the plugin deep-copies it and assigns .content.text.
    post = PromptPosthookPayload.model_validate({"prompt_id": "p", "result": {"messages": [{"role": "user", "content": {"type": "text", "text": "crap!"}}]}})
    rewritten = await sr.prompt_post_fetch(post, ctx())
    await deny.shutdown()
    return {
        "denied": [denied.continue_processing, denied.violation.code, denied.violation.reason],
        "allowed": [allowed.continue_processing, allowed.violation, allowed.modified_payload.args],
        "text": rewritten.modified_payload.result.messages[0].content.text,
        "original": post.result.messages[0].content.text,
    }
print(json.dumps(asyncio.run(main())))
"""
    )
    assert out["denied"] == [False, "deny", "Prompt not allowed"]
    assert out["allowed"] == [True, None, {"a": "plain"}]
    assert out["text"] == "crud!"
    assert out["original"] == "crap!"


def test_headers_plugin_and_gateway_metadata_constants():
    out = _run(
        r"""
from cpex.framework import PluginConfig, PluginContext, GlobalContext, ToolPreInvokePayload
from cpex.framework.constants import TOOL_METADATA, GATEWAY_METADATA
from plugins.headers import HeadersPlugin

async def main():
    p = HeadersPlugin(PluginConfig(name="h", kind="plugins.headers.HeadersPlugin", hooks=["tool_pre_invoke"]))
    payload = ToolPreInvokePayload.model_validate({"name": "t", "args": {}, "headers": {"Content-Type": "application/json"}})
    r = await p.tool_pre_invoke(payload, PluginContext(global_context=GlobalContext(request_id="1")))
    return {"headers": r.modified_payload.headers.model_dump(), "keys": [TOOL_METADATA, GATEWAY_METADATA]}
print(json.dumps(asyncio.run(main())))
"""
    )
    assert out["headers"] == {"Content-Type": "application/json", "User-Agent": "Mozilla/5.0", "Connection": "keep-alive"}
    assert out["keys"] == ["tool", "gateway"]


def _real_cpex_installed() -> bool:
    code = "import cpex, sys; sys.exit(1 if getattr(cpex, 'CPEX_TS_SHIM', False) else 0)"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, check=False).returncode == 0


@pytest.mark.real_cpex
@pytest.mark.skipif(not _real_cpex_installed(), reason="needs the real cpex installed (the repo's .venv)")
def test_bundled_constants_match_the_real_cpex():
    dump = "import json, cpex.framework.constants as c; print(json.dumps({k: sorted(v) if isinstance(v, frozenset) else v for k, v in vars(c).items() if k.isupper()}))"
    real = subprocess.run([sys.executable, "-c", dump], capture_output=True, text=True, check=True)
    bundled = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {PACKAGE_ROOT!r}); " + dump],
        capture_output=True,
        text=True,
        check=True,
    )
    real_constants = json.loads(real.stdout)
    bundled_constants = json.loads(bundled.stdout)
    missing = {k: v for k, v in real_constants.items() if bundled_constants.get(k) != v}
    assert missing == {}


# Plugin-facing names that Python cpex 0.1.x plugins import from these module paths (beyond the
# classes test_api_parity.py compares field by field).
PLUGIN_FACING = {
    "cpex.framework": ["constants", "protocols", "Plugin", "hook", "HookPayloadPolicy", "get_hook_registry"],
    "cpex.framework.base": ["Plugin", "PluginContext", "OnError"],
    "cpex.framework.errors": ["PluginError", "PluginViolationError", "PluginMode"],
    "cpex.framework.decorator": ["hook", "P", "R"],
    "cpex.framework.constants": ["TOOL_METADATA", "GATEWAY_METADATA", "ISOLATED_VENV_PLUGIN_TYPE", "KNOWN_PLUGIN_KINDS"],
    "cpex.framework.protocols": ["MessageLike", "PromptResultLike"],
    "cpex.framework.hooks.prompts": ["PromptResultLike"],
    "cpex.framework.hooks.agents": ["MessageLike"],
}


def _missing_names(prepend_bundled: bool) -> dict:
    code = (
        (f"import sys; sys.path.insert(0, {PACKAGE_ROOT!r})\n" if prepend_bundled else "")
        + "import importlib, json\n"
        + f"spec = {PLUGIN_FACING!r}\n"
        + "out = {m: [n for n in names if not hasattr(importlib.import_module(m), n)] for m, names in spec.items()}\n"
        + "print(json.dumps({m: v for m, v in out.items() if v}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_plugin_facing_names_exist_in_the_bundled_package():
    assert _missing_names(prepend_bundled=True) == {}


@pytest.mark.real_cpex
@pytest.mark.skipif(not _real_cpex_installed(), reason="needs the real cpex installed (the repo's .venv)")
def test_plugin_facing_names_exist_in_the_real_cpex():
    assert _missing_names(prepend_bundled=False) == {}
