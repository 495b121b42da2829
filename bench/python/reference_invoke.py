"""Times Python cpex 0.1.4's invoke_hook with N passthrough plugins (per-call p50/p99/mean, microseconds).

Usage: python reference_invoke.py N_PLUGINS CALLS  -> prints one JSON line.
"""
import asyncio
import json
import os
import sys
import tempfile
import time

n_plugins = int(sys.argv[1])
calls = int(sys.argv[2])

tmp = tempfile.mkdtemp(prefix="cpex-bench-")
with open(os.path.join(tmp, "benchplugins.py"), "w") as f:
    f.write(
        "from cpex.framework import Plugin, PluginResult\n"
        "class Passthrough(Plugin):\n"
        "    async def tool_pre_invoke(self, payload, context):\n"
        "        return PluginResult(continue_processing=True)\n"
    )
sys.path.insert(0, tmp)
cfg = os.path.join(tmp, "config.yaml")
with open(cfg, "w") as f:
    f.write("plugins:\n")
    for i in range(n_plugins):
        f.write(f"  - {{name: p{i}, kind: benchplugins.Passthrough, hooks: [tool_pre_invoke], mode: sequential}}\n")

from cpex.framework import GlobalContext, TenantPluginManager  # noqa: E402
from cpex.framework.hooks.tools import ToolPreInvokePayload  # noqa: E402


async def main() -> None:
    m = TenantPluginManager(cfg)
    await m.initialize()
    payload = ToolPreInvokePayload(name="calc", args={"x": 1, "y": 2, "note": "a short tool call payload"})
    gc = GlobalContext(request_id="1")
    for _ in range(min(2000, calls)):
        await m.invoke_hook("tool_pre_invoke", payload, gc)
    samples = []
    for _ in range(calls):
        t = time.perf_counter_ns()
        await m.invoke_hook("tool_pre_invoke", payload, gc)
        samples.append(time.perf_counter_ns() - t)
    samples.sort()
    q = lambda p: samples[min(len(samples) - 1, int(p * len(samples)))] / 1000
    print(json.dumps({"p50": q(0.5), "p99": q(0.99), "mean": sum(samples) / len(samples) / 1000, "n": len(samples)}))
    await m.shutdown()


asyncio.run(main())
