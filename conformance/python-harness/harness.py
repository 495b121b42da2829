"""Runs one conformance scenario through the real Python cpex 0.1.x PluginManager.

Input (stdin, JSON): {"scenario": {name, config, manager, steps: [...]}, "python_path": [...]}
where steps are already normalised by the TypeScript runner ($repeat expanded). The environment
(PLUGINS_* from the scenario's env: block) is set by the caller before this process starts.

Output (stdout, one JSON object, keys sorted): the conformance README output format, produced
from a TenantPluginManager (independent state, no Borg singleton) and an ObservabilityProvider
that records the manager's own plugin.execute.<name> / plugin.hook.invoke spans.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import tempfile
from typing import Any

STEP_TIMEOUT_S = 60.0


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    return value


class Recorder:
    """ObservabilityProvider that keeps plugin start order and how each call ended."""

    def __init__(self) -> None:
        self.spans: dict[str, Any] = {}
        self.executed: list[dict[str, Any]] = []
        self.chain: Any = None
        self._n = 0

    def reset(self) -> None:
        self.spans = {}
        self.executed = []
        self.chain = None

    def start_span(self, trace_id, name, kind="internal", resource_type=None, resource_name=None, attributes=None):
        self._n += 1
        sid = f"s{self._n}"
        attrs = attributes or {}
        if name.startswith("plugin.execute."):
            rec = {
                "plugin": attrs.get("plugin.name") or name[len("plugin.execute.") :],
                "mode": str(attrs.get("plugin.mode")),
                "end": "unfinished",
            }
            self.executed.append(rec)
            self.spans[sid] = rec
        elif name == "plugin.hook.invoke":
            self.chain = "unfinished"
            self.spans[sid] = "chain"
        return sid

    def end_span(self, span_id, status="ok", attributes=None):
        rec = self.spans.get(span_id)
        if rec == "chain":
            attrs = attributes or {}
            self.chain = {
                "executed_count": attrs.get("plugin.executed_count", 0),
                "skipped_count": attrs.get("plugin.skipped_count", 0),
                "stopped_by": attrs.get("plugin.chain.stopped_by") or None,
            }
        elif isinstance(rec, dict):
            rec["end"] = "ok" if status == "ok" else "error"


def _caller_view(payload: Any) -> Any:
    """The caller's payload after the call: the fields it sent plus any a plugin assigned in place.

    Defaults pydantic filled in (``is_admin: false``, ``metadata: {}``) are not part of what the
    caller passed, so they are left out; in-place writes to nested objects still show, and
    secrets show as the values the caller holds.
    """
    if hasattr(payload, "model_dump"):
        data = payload.model_dump(mode="json", exclude_unset=True)
        # json mode masks SecretStr fields; the caller's object still holds the value it passed.
        for key in data:
            raw = getattr(payload, key, None)
            if hasattr(raw, "get_secret_value"):
                data[key] = raw.get_secret_value()
        return data
    return _plain(payload)


def _violation(v: Any) -> Any:
    if v is None:
        return None
    out = {
        "code": v.code,
        "reason": v.reason,
        "description": v.description,
        "details": _plain(v.details or {}),
    }
    name = getattr(v, "_plugin_name", None) or getattr(v, "plugin_name", None)
    if name:
        out["plugin_name"] = name
    for k in ("mcp_error_code", "http_status_code", "http_headers"):
        val = getattr(v, k, None)
        if val is not None:
            out[k] = _plain(val)
    return out


def _error(e: BaseException) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(e).__name__, "message": str(e)}
    err = getattr(e, "error", None)
    if err is not None and hasattr(err, "plugin_name"):
        out["plugin_name"] = err.plugin_name
        out["code"] = getattr(err, "code", "")
        out["message"] = getattr(err, "message", str(e))
    v = getattr(e, "violation", None)
    if v is not None:
        out["violation"] = _violation(v)
        if out["violation"].get("plugin_name"):
            out["plugin_name"] = out["violation"]["plugin_name"]
    return out


def _bg_error(e: Any) -> dict[str, Any]:
    return {"plugin_name": e.plugin_name, "code": e.code or "", "message": e.message}


def _extensions_to_python(ext: dict[str, Any] | None):
    """cpex-ts passes Rust cpex 0.2 shapes; Python 0.1.x names http headers `headers`."""
    if not ext:
        return None
    from cpex.framework.extensions.extensions import Extensions

    data = dict(ext)
    http = data.get("http")
    if isinstance(http, dict) and "request_headers" in http and "headers" not in http:
        http = dict(http)
        http["headers"] = http.pop("request_headers")
        http.pop("response_headers", None)
        data["http"] = http
    sec = data.get("security")
    if isinstance(sec, dict) and isinstance(sec.get("subject"), dict):
        subject = dict(sec["subject"])
        subject["type"] = subject.pop("subject_type", None) or subject.get("type") or "user"
        data["security"] = {**sec, "subject": subject}
    return Extensions.model_validate(data)


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    import yaml
    from cpex.framework.hooks.policies import HookPayloadPolicy
    from cpex.framework.hooks.registry import get_hook_registry
    from cpex.framework.manager import TenantPluginManager
    from cpex.framework.models import GlobalContext
    from cpex.framework.observability import current_trace_id

    sc = spec["scenario"]
    mgr_block = sc.get("manager") or {}
    recorder = Recorder()
    kwargs: dict[str, Any] = {"observability": recorder}
    if "timeout" in mgr_block or "plugin_timeout" in mgr_block:
        kwargs["timeout"] = mgr_block.get("timeout", mgr_block.get("plugin_timeout"))
    if mgr_block.get("hook_policies"):
        kwargs["hook_policies"] = {
            h: HookPayloadPolicy(writable_fields=frozenset(fields)) for h, fields in mgr_block["hook_policies"].items()
        }
    if mgr_block.get("default_hook_policy"):
        kwargs["default_hook_policy"] = mgr_block["default_hook_policy"]

    out: dict[str, Any] = {"scenario": sc["name"], "init_error": None, "steps": [], "runtime_disabled": []}
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as fh:
        yaml.safe_dump(sc["config"], fh, sort_keys=False)
        config_path = fh.name
    try:
        try:
            mgr = TenantPluginManager(config_path, **kwargs)
        except Exception as e:  # noqa: BLE001 - the config itself was rejected
            out["init_error"] = {"type": type(e).__name__, "message": str(e)}
            out["load"] = {"initialized": False, "plugin_count": 0, "registered": [], "hook_order": {}, "has_hooks_for": {}}
            for i, st in enumerate(sc["steps"]):
                g = st.get("global_context") if isinstance(st.get("global_context"), dict) else {}
                out["steps"].append({
                    "step": i,
                    "hook": st["hook"],
                    "result": None,
                    "error": {"type": "ManagerUnavailable", "message": "the manager could not be constructed"},
                    "background_errors": [],
                    "executed": [],
                    "chain": None,
                    "contexts": None,
                    "global_context": {"state": g.get("state") or {}, "metadata": g.get("metadata") or {}},
                    "payload_after": st.get("payload"),
                })
            return out
        try:
            await mgr.initialize()
        except Exception as e:  # noqa: BLE001 - reported, like any init error
            out["init_error"] = {"type": type(e).__name__, "message": str(e)}

        refs = mgr._registry.get_all_plugins()
        names_by_uuid = {r.uuid: r.name for r in refs}
        hooks: list[str] = []
        for p in sc["config"].get("plugins") or []:
            for h in p.get("hooks") or []:
                if h not in hooks:
                    hooks.append(h)
        for st in sc["steps"]:
            if st["hook"] not in hooks:
                hooks.append(st["hook"])
        out["load"] = {
            "initialized": mgr.initialized,
            "plugin_count": mgr.plugin_count,
            "registered": [r.name for r in refs],
            "hook_order": {
                h: [r.plugin_ref.name for r in mgr._registry.get_hook_refs_for_hook(h)]
                for h in hooks
                if mgr.has_hooks_for(h)
            },
            "has_hooks_for": {h: mgr.has_hooks_for(h) for h in hooks},
        }

        registry = get_hook_registry()
        token = current_trace_id.set("cpex-conformance")
        prev_gc = None
        prev_table = None
        for i, st in enumerate(sc["steps"]):
            g = st.get("global_context")
            if g == "previous" and prev_gc is not None:
                gc = prev_gc
            else:
                g = g if isinstance(g, dict) else {}
                fields = {k: v for k, v in g.items() if v is not None}
                fields["request_id"] = str(fields.get("request_id", "1"))
                gc = GlobalContext(**fields)
            payload_cls = registry.get_payload_type(st["hook"])
            raw_payload = st.get("payload")
            payload = payload_cls.model_validate(raw_payload) if payload_cls is not None else raw_payload
            local = prev_table if st.get("local_contexts") == "previous" else None
            recorder.reset()
            result = None
            table = None
            error = None
            try:
                result, table = await asyncio.wait_for(
                    mgr.invoke_hook(
                        st["hook"],
                        payload,
                        gc,
                        local_contexts=local,
                        violations_as_exceptions=bool(st.get("violations_as_exceptions")),
                        extensions=_extensions_to_python(st.get("extensions")),
                    ),
                    STEP_TIMEOUT_S,
                )
            except Exception as e:  # noqa: BLE001 - the step's error
                error = _error(e)
            background: list[dict[str, Any]] = []
            if result is not None:
                background = [_bg_error(e) for e in await result.wait_for_background_tasks()]
            # Concurrent siblings may keep running after an exception: let them settle.
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            if pending:
                await asyncio.wait(pending, timeout=STEP_TIMEOUT_S)
            step = {
                "step": i,
                "hook": st["hook"],
                "result": None,
                "error": error,
                "background_errors": background,
                "executed": [dict(r) for r in recorder.executed],
                "chain": recorder.chain,
                "contexts": None,
                "global_context": {"state": _plain(gc.state), "metadata": _plain(gc.metadata)},
                "payload_after": _caller_view(payload),
            }
            if result is not None:
                step["result"] = {
                    "continue_processing": result.continue_processing,
                    "modified_payload": _plain(result.modified_payload),
                    "payload_modified": result.modified_payload is not None,
                    "modified_extensions": _plain(result.modified_extensions),
                    "violation": _violation(result.violation),
                    "metadata": _plain(result.metadata or {}),
                    "retry_delay_ms": result.retry_delay_ms,
                    "http_headers": _plain(result.http_headers),
                }
            if table is not None:
                ctxs = {}
                for key, ctx in table.items():
                    uid = key[len(gc.request_id) :]
                    ctxs[names_by_uuid.get(uid, key)] = {"state": _plain(ctx.state), "metadata": _plain(ctx.metadata)}
                step["contexts"] = ctxs
            out["steps"].append(step)
            prev_gc = gc
            prev_table = table
        current_trace_id.reset(token)
        out["runtime_disabled"] = sorted(mgr.executor._runtime_disabled)
        await mgr.shutdown()
    finally:
        os.unlink(config_path)
    return out


def main() -> int:
    # The JSON answer goes to the real stdout; anything a plugin prints (print, sys.stdout, even
    # os.write(1, ...)) goes to stderr instead, so it cannot corrupt the answer.
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(stream=sys.stderr, level=logging.CRITICAL)
    spec = json.loads(sys.stdin.read())
    for p in spec.get("python_path") or []:
        if p not in sys.path:
            sys.path.insert(0, p)
    out = asyncio.run(run(spec))
    answer.write(json.dumps(out, sort_keys=True, default=str))
    answer.write("\n")
    answer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
