"""Worker process of @cpex/host-python: runs one Python cpex plugin instance.

Protocol: newline-delimited JSON frames on private copies of the original stdin/stdout
file descriptors. Before any plugin code runs, fd 1 is pointed at stderr and fd 0 at
/dev/null, so ``print``, ``os.write(1, ...)`` and C extensions writing to stdout can never
corrupt the protocol; everything they write reaches the host's log through stderr.

Frames from the host (``id`` is chosen by the host and echoed back):

  {"id", "op": "load", "class_path", "config", "import_roots", "max_bytes"}
  {"id", "op": "init"}
  {"id", "op": "call", "hook", "payload", "context", "extensions"?}
  {"op": "cancel", "target"}
  {"id", "op": "shutdown"}

Frames to the host:

  {"op": "hello", ...}                        once, when the worker is ready (or cannot run)
  {"id", "ok": true, "result"?, "context"?}   success
  {"id", "ok": false, "error": {code, type, message, traceback?}}

The worker is the same file whether the real ``cpex`` package or the compatibility
package shipped next to this directory provides ``cpex.framework``: the real one wins
because the compatibility directory is appended to the END of ``sys.path``.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import select
import selectors
import sys
import time
import traceback
from typing import Any, Optional

PROTOCOL_VERSION = 1
# Exit status of a worker that went past its max_memory_mb (the host restarts it).
EXIT_MEMORY_LIMIT = 86


def _load_supervise() -> Any:
    # By path, not by name: a plugin's own top-level module called "supervise" must not shadow it.
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_cpex_host_supervise", os.path.join(os.path.dirname(os.path.abspath(__file__)), "supervise.py")
    )
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


_supervise = _load_supervise()

# Modules a plugin class path may not name (as Python cpex's loader refuses them).
_REFUSED_PREFIXES = (
    "os",
    "sys",
    "subprocess",
    "shutil",
    "socket",
    "http.server",
    "ctypes",
    "importlib",
    "builtins",
    "code",
    "codeop",
    "compileall",
    "runpy",
)

_HOOK_MODULES = (
    "cpex.framework.hooks.tools",
    "cpex.framework.hooks.prompts",
    "cpex.framework.hooks.resources",
    "cpex.framework.hooks.agents",
    "cpex.framework.hooks.http",
    "cpex.framework.hooks.identity",
    "cpex.framework.hooks.message",
)


# --------------------------------------------------------------------------- stdio isolation

_PROTO_IN = os.dup(0)
_PROTO_OUT = os.dup(1)
os.dup2(2, 1)
_devnull = os.open(os.devnull, os.O_RDONLY)
os.dup2(_devnull, 0)
os.close(_devnull)
sys.stdout = sys.stderr
sys.stdin = open(os.devnull)  # noqa: SIM115 - process-lifetime handle

try:
    import orjson as _orjson  # type: ignore

    def _dumps(obj: Any) -> bytes:
        # STRICT_INTEGER: an int beyond 2^53 raises instead of reaching JavaScript rounded.
        # No NON_STR_KEYS here: a dict with a non-str key raises, and _dumps_answer checks that
        # its keys stay distinct as JSON text before writing them with _dumps_keys.
        return _orjson.dumps(obj, default=_default, option=_orjson.OPT_STRICT_INTEGER)

    def _dumps_keys(obj: Any) -> bytes:
        return _orjson.dumps(obj, default=_default, option=_orjson.OPT_NON_STR_KEYS | _orjson.OPT_STRICT_INTEGER)

    def _float_key(k: float) -> str:
        return _orjson.dumps(k).decode()

    _loads = _orjson.loads
    CODEC = "orjson"
except ImportError:  # pragma: no cover - exercised on interpreters without orjson
    import json as _json

    def _dumps(obj: Any) -> bytes:
        # allow_nan=False: NaN/Infinity raise instead of writing tokens JSON.parse refuses.
        return _json.dumps(obj, default=_default, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()

    _dumps_keys = _dumps

    def _float_key(k: float) -> str:
        return repr(k)

    _loads = _json.loads
    CODEC = "json"


def _default(value: Any) -> Any:
    """JSON fallback for values plugins commonly leave in state/metadata/results."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "get_secret_value"):
        return value.get_secret_value()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8")  # strict: bytes that are not UTF-8 are refused, never replaced
    if hasattr(value, "value") and isinstance(getattr(value, "value"), (str, int)):
        return value.value  # enums
    raise TypeError(f"value of type {type(value).__name__} is not JSON-serializable")


_SAFE_INT = 2**53 - 1


def _unrepresentable(obj: Any, root: str = "result") -> Optional[str]:
    """Where `obj` holds a value JSON/JavaScript cannot carry exactly, and why; None when it holds none.

    NaN and Infinity (orjson writes them as null), ints beyond 2^53 (JavaScript would round them),
    bytes that are not UTF-8 and strings or keys with lone surrogates. Iterative, any depth.
    """
    stack: list = [(obj, root)]
    seen: set = set()
    while stack:
        v, at = stack.pop()
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                return f"{at}: {v} is not JSON (NaN/Infinity would arrive as null)"
        elif isinstance(v, int):
            if not -_SAFE_INT <= v <= _SAFE_INT:
                return f"{at}: the integer {v} is beyond ±(2^53-1) (JavaScript would round it; send it as a string)"
        elif isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return f"{at}: the string has a lone surrogate (not valid Unicode text)"
        elif isinstance(v, (bytes, bytearray)):
            try:
                bytes(v).decode("utf-8")
            except UnicodeDecodeError:
                return f"{at}: bytes that are not UTF-8 (send text, or base64)"
        elif isinstance(v, dict):
            if id(v) in seen:
                continue
            seen.add(id(v))
            for k, x in v.items():
                ks = k if isinstance(k, str) else repr(k)
                try:
                    ks.encode("utf-8")
                except UnicodeEncodeError:
                    return f"{at}: a key has a lone surrogate (not valid Unicode text)"
                stack.append((x, f"{at}.{ks}"))
        elif isinstance(v, (list, tuple, set, frozenset)):
            if id(v) in seen:
                continue
            seen.add(id(v))
            for i, x in enumerate(v):
                stack.append((x, f"{at}[{i}]"))
        else:
            dump = getattr(v, "model_dump", None)
            if callable(dump):
                try:
                    stack.append((dump(mode="python"), at))
                except Exception:  # noqa: BLE001 - left to the encoder to report
                    pass
    return None


def _key_text(k: Any) -> str:
    """The JSON text a non-str dict key becomes (orjson's OPT_NON_STR_KEYS, Python's json)."""
    if isinstance(k, str):
        return k
    if k is None:
        return "null"
    if isinstance(k, bool):
        return "true" if k else "false"
    if isinstance(k, int):
        return str(k)
    if isinstance(k, float):
        return _float_key(k)
    value = getattr(k, "value", None)
    if isinstance(value, (str, int)):
        return _key_text(value)  # enums
    iso = getattr(k, "isoformat", None)
    if callable(iso):
        return iso()
    return repr(k)


def _key_collision(obj: Any, root: str = "result") -> Optional[str]:
    """Where two keys of one dict become the same JSON text (1 and '1', None and 'null'): JSON
    would carry both and JavaScript keep one silently. None when there is no such dict. Iterative."""
    stack: list = [(obj, root)]
    seen: set = set()
    while stack:
        v, at = stack.pop()
        if isinstance(v, dict):
            if id(v) in seen:
                continue
            seen.add(id(v))
            if not all(isinstance(k, str) for k in v):
                texts: dict = {}
                for k in v:
                    t = _key_text(k)
                    if t in texts:
                        return f"{at}: the keys {texts[t]!r} and {k!r} both become {_json_str(t)} in JSON (one value would be lost)"
                    texts[t] = k
            for k, x in v.items():
                stack.append((x, f"{at}.{_key_text(k)}"))
        elif isinstance(v, (list, tuple)):
            if id(v) in seen:
                continue
            seen.add(id(v))
            for i, x in enumerate(v):
                stack.append((x, f"{at}[{i}]"))
    return None


def _json_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _has_null(obj: Any) -> bool:
    """Whether a dumped value holds a None anywhere (iterative): only then can a NaN hide in it."""
    stack = [obj]
    while stack:
        v = stack.pop()
        if v is None:
            return True
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def _dumps_answer(response: dict) -> bytes:
    """A response frame, or an invalid_result error naming where a value JSON cannot carry is.

    orjson writes NaN/Infinity as null, so an answer with a null in it is walked once to tell a
    plugin's None from a NaN; an encoder failure (a too-big int, a lone surrogate, bad bytes) is
    walked to name the value's path.
    """
    try:
        data = _dumps(response)
    except TypeError as exc:
        # A dict key that is not str (orjson): fine unless two keys of one dict become the same text.
        data = None
        if "key must be str" in str(exc):
            clash = _key_collision(response.get("result")) or _key_collision(response.get("context"), "context")
            if clash is not None:
                return _dumps(
                    {
                        "id": response.get("id"),
                        "ok": False,
                        "error": _error("invalid_result", f"result is not JSON-serializable: {clash}"),
                    }
                )
            try:
                data = _dumps_keys(response)
            except Exception:  # noqa: BLE001 - reported below with the value's path
                data = None
        if data is None:
            where = _unrepresentable(response.get("result"))
            return _dumps(
                {
                    "id": response.get("id"),
                    "ok": False,
                    "error": _error("invalid_result", f"result is not JSON-serializable: {where or exc}"),
                }
            )
    except Exception as exc:  # noqa: BLE001 - e.g. a non-serializable state value
        where = _unrepresentable(response.get("result"))
        return _dumps(
            {
                "id": response.get("id"),
                "ok": False,
                "error": _error("invalid_result", f"result is not JSON-serializable: {where or exc}"),
            }
        )
    if response.get("ok") and b"null" in data:
        where = _unrepresentable(response.get("result"))
        if where is not None:
            return _dumps(
                {
                    "id": response.get("id"),
                    "ok": False,
                    "error": _error("invalid_result", f"result is not JSON-serializable: {where}"),
                }
            )
    return data


def _write_all(data: bytes) -> None:
    # Blocking semantics even when the descriptor is non-blocking: a forked worker reads and
    # writes one socket, and asyncio's reader sets O_NONBLOCK on it.
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(_PROTO_OUT, view) :]
        except BlockingIOError:
            select.select([], [_PROTO_OUT], [])


_outbox: list[bytes] = []


def _flush() -> None:
    if _outbox:
        data = b"".join(_outbox)
        _outbox.clear()
        _write_all(data)


def _flush_every() -> int:
    try:
        return max(1, int(os.environ.get("CPEX_HOST_FLUSH_EVERY", "32")))
    except ValueError:
        return 32


_FLUSH_EVERY = _flush_every()


def _queue(line: bytes) -> None:
    """Queue one frame; frames completed in this event-loop turn go out together, in writes of
    at most _FLUSH_EVERY frames, so the host can start on the first answers while later ones run."""
    if not _outbox:
        try:
            asyncio.get_running_loop().call_soon(_flush)
        except RuntimeError:  # no loop (startup): write now
            _write_all(line)
            return
    _outbox.append(line)
    if len(_outbox) >= _FLUSH_EVERY:
        data = b"".join(_outbox)
        _outbox.clear()
        _outbox.append(b"")  # the scheduled _flush stays the only one scheduled
        _write_all(data)


def _send(frame: dict) -> None:
    # the worker's own frames (no plugin values: those go through _dumps_answer)
    _queue(_dumps_keys(frame) + b"\n")


def _error(code: str, message: str, exc: Optional[BaseException] = None) -> dict:
    err: dict[str, Any] = {"code": code, "message": message}
    if exc is not None:
        err["type"] = type(exc).__name__
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        err["traceback"] = tb[-4000:]
    return err


# --------------------------------------------------------------------------- startup checks


def _hello_or_exit() -> dict:
    info: dict[str, Any] = {
        "op": "hello",
        "protocol": PROTOCOL_VERSION,
        "pid": os.getpid(),
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "codec": CODEC,
    }
    if sys.version_info < (3, 10):
        info["error"] = _error("python_too_old", f"Python >= 3.10 is required, found {info['python']}")
        return info
    try:
        import pydantic  # noqa: F401
        from pydantic import VERSION as pv
    except ImportError:
        info["error"] = _error(
            "pydantic_missing",
            f"pydantic 2 is required by Python cpex plugins; found none in {sys.executable}",
        )
        return info
    info["pydantic"] = str(pv)
    if not str(pv).startswith("2."):
        info["error"] = _error(
            "pydantic_version",
            f"pydantic 2 is required by Python cpex plugins; found pydantic {pv} in {sys.executable}",
        )
        return info
    try:
        import cpex.framework  # noqa: F401
    except ModuleNotFoundError as exc:
        if exc.name not in ("cpex", "cpex.framework"):
            info["error"] = _error("cpex_import", f"the installed cpex package failed to import: {exc}", exc)
            return info
        sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        for name in [m for m in sys.modules if m == "cpex" or m.startswith("cpex.")]:
            del sys.modules[name]
        try:
            import cpex.framework  # noqa: F401,F811
        except Exception as exc2:  # pragma: no cover - broken shim
            info["error"] = _error("cpex_import", f"the bundled cpex package failed to import: {exc2}", exc2)
            return info
    except Exception as exc:
        info["error"] = _error("cpex_import", f"the installed cpex package failed to import: {exc}", exc)
        return info
    import cpex

    for mod in _HOOK_MODULES:
        try:
            importlib.import_module(mod)
        except ImportError:
            pass
    info["cpex"] = {
        "origin": "bundled" if getattr(cpex, "CPEX_TS_SHIM", False) else "installed",
        "version": getattr(cpex, "__version__", None) or _dist_version("cpex"),
        "path": os.path.dirname(os.path.abspath(cpex.__file__ or "")),
    }
    return info


def _dist_version(name: str) -> Optional[str]:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return None


# --------------------------------------------------------------------------- the plugin


class Runner:
    """Holds the one plugin instance of this worker and serves frames."""

    def __init__(self) -> None:
        self.plugin: Any = None
        self.hooks: dict[str, tuple[Any, int]] = {}
        self.tasks: dict[int, asyncio.Task] = {}
        self.max_bytes = 10_000_000
        self.loop = asyncio.get_running_loop()
        self.stopping = self.loop.create_future()
        from cpex.framework.hooks.registry import get_hook_registry
        from cpex.framework.models import GlobalContext, PluginContext

        self.registry = get_hook_registry()
        self.GlobalContext = GlobalContext
        self.PluginContext = PluginContext
        self.Extensions: Any = None
        self.warned_user_context = False
        # Set by the load frame's max_memory_mb; a MemoryError then ends the worker (after answering).
        self.max_memory_mb: Optional[int] = None
        self.out_of_memory = False
        # hook name -> its pydantic payload class (None: a custom hook, plain dict payloads)
        self.payload_classes: dict[str, Any] = {}
        # True while frames of the same read are still waiting behind the one being served.
        self.more = False

    # -- frames

    def dispatch(self, frame: Any) -> None:
        if not isinstance(frame, dict):
            _send({"id": None, "ok": False, "error": _error("protocol", "frame is not an object")})
            return
        op = frame.get("op")
        fid = frame.get("id")
        if op == "call":
            # A real Task per call: plugins may rely on asyncio.current_task() (asyncio.timeout,
            # anyio cancel scopes under httpx, ...). It starts at once (_WorkerLoop.eager_task;
            # on Python 3.12+ the eager task factory), so a hook that never suspends is never
            # scheduled.
            loop = self.loop
            coro = self.call(fid, frame)
            task = loop.eager_task(coro) if isinstance(loop, _WorkerLoop) and _EAGER else loop.create_task(coro)
            if not task.done():
                self.tasks[fid] = task
        elif op == "cancel":
            target = frame.get("target")
            task = self.tasks.get(target)
            if task is not None:
                task.cancel()
                # A task cancelled before its first step never runs call(), which answers
                # cancels: answer for it, or the host would wait and then kill the worker.
                task.add_done_callback(lambda t, fid=target: self._cancelled_unstarted(fid, t))
        elif op == "load":
            asyncio.ensure_future(self.guard(fid, self.load(frame)))
        elif op == "init":
            asyncio.ensure_future(self.guard(fid, self.init()))
        elif op == "shutdown":
            asyncio.ensure_future(self.shutdown(fid))
        else:
            _send({"id": fid, "ok": False, "error": _error("protocol", f"unknown op {op!r}")})

    def _cancelled_unstarted(self, fid: Any, task: asyncio.Task) -> None:
        if task.cancelled():  # call() catches a cancel once it runs; this one never ran
            self.tasks.pop(fid, None)
            _send(_cancelled(fid))

    async def guard(self, fid: Any, coro: Any) -> None:
        try:
            out = await coro
            _send({"id": fid, "ok": True, "result": out})
        except _Coded as exc:
            _send({"id": fid, "ok": False, "error": _error(exc.code, str(exc), exc.__cause__ or exc)})
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the host
            _send({"id": fid, "ok": False, "error": _error("plugin_load", f"{type(exc).__name__}: {exc}", exc)})

    # -- load

    async def load(self, frame: dict) -> dict:
        class_path = str(frame.get("class_path") or "")
        self.max_bytes = int(frame.get("max_bytes") or self.max_bytes)
        self._limit_memory(frame.get("max_memory_mb"))
        spin_us = frame.get("spin_us")
        selector = getattr(self.loop, "_selector", None)
        if isinstance(spin_us, (int, float)) and isinstance(selector, _SpinSelector):
            selector.spin = max(0.0, float(spin_us)) / 1e6
        for root in reversed(frame.get("import_roots") or []):
            if root not in sys.path:
                sys.path.insert(0, root)
        if "." not in class_path or ".." in class_path or "/" in class_path or "\\" in class_path:
            raise _Coded("plugin_load", f"invalid plugin class path {class_path!r}: expected 'package.module.Class'")
        module_name, class_name = class_path.rsplit(".", 1)
        if any(module_name == p or module_name.startswith(p + ".") for p in _REFUSED_PREFIXES):
            raise _Coded("plugin_load", f"refusing to load plugin class from module {module_name!r}")
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:
            raise _Coded(
                "module_not_found" if isinstance(exc, ModuleNotFoundError) else "plugin_load",
                f"cannot import module {module_name!r}: {type(exc).__name__}: {exc} (sys.path: {sys.path})",
            ) from exc
        cls = getattr(module, class_name, None)
        if cls is None:
            raise _Coded("plugin_load", f"module {module_name!r} has no attribute {class_name!r}")
        from cpex.framework.models import PluginConfig

        config = dict(frame.get("config") or {})
        config["capabilities"] = self._known_capabilities(config.get("capabilities") or [])
        try:
            plugin_config = PluginConfig.model_validate(config)
        except Exception as exc:
            raise _Coded("plugin_load", f"invalid plugin config for {class_path}: {exc}") from exc
        try:
            self.plugin = cls(plugin_config)
        except Exception as exc:
            raise _Coded("plugin_load", f"constructing {class_path} failed: {type(exc).__name__}: {exc}") from exc
        for hook_name in plugin_config.hooks:
            self.hooks[hook_name] = self._resolve(hook_name)
        return {"hooks": {h: {"params": n} for h, (_f, n) in self.hooks.items()}}

    def _limit_memory(self, mb: Any) -> None:
        """max_memory_mb: an address-space rlimit (soft = hard, so the plugin cannot raise it), set
        before the plugin's module is imported. Allocations past it raise MemoryError."""
        if mb is None:
            return
        if not isinstance(mb, int) or isinstance(mb, bool) or mb < 1:
            raise _Coded("plugin_load", f"max_memory_mb must be a positive integer, got {mb!r}")
        try:
            import resource
        except ImportError as exc:  # Windows
            raise _Coded("plugin_load", "max_memory_mb needs POSIX resource limits") from exc
        limit = mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        self.max_memory_mb = mb

    @staticmethod
    def _known_capabilities(caps: list) -> list:
        # cpex-ts knows 17 capabilities; an older installed cpex may know fewer. The host
        # enforces capabilities itself, so the plugin only sees the names its cpex knows.
        try:
            from cpex.framework.extensions.tiers import Capability

            known = {c.value for c in Capability}
        except Exception:
            return []
        return [c for c in caps if c in known]

    def _resolve(self, hook_name: str) -> tuple[Any, int]:
        from cpex.framework.decorator import get_hook_metadata

        plugin = self.plugin
        name = getattr(plugin, "name", "?")
        func = getattr(plugin, hook_name, None)
        if func is None:
            for attr, method in inspect.getmembers(plugin, predicate=inspect.ismethod):
                if attr.startswith("_"):
                    continue
                meta = get_hook_metadata(method)
                if meta is not None and meta.matches(hook_name):
                    func = method
                    break
        if func is None:
            raise _Coded(
                "hook_not_implemented",
                f"Plugin '{name}' has no hook: '{hook_name}'. Method must either be named '{hook_name}' "
                f"or decorated with @hook('{hook_name}')",
            )
        try:
            params = list(inspect.signature(func).parameters.values())
        except (TypeError, ValueError) as exc:
            raise _Coded("hook_not_implemented", f"Plugin '{name}' hook '{hook_name}' is not callable") from exc
        if len(params) not in (2, 3):
            raise _Coded(
                "hook_not_implemented",
                f"Plugin '{name}' hook '{hook_name}' has invalid signature: expected 2 or 3 parameters "
                f"(payload, context[, extensions]), got {len(params)}",
            )
        if not inspect.iscoroutinefunction(func):
            raise _Coded(
                "hook_not_implemented",
                f"Plugin '{name}' hook '{hook_name}' must be async: use 'async def {getattr(func, '__name__', hook_name)}(...)'",
            )
        return func, len(params)

    async def init(self) -> dict:
        if self.plugin is None:
            raise _Coded("protocol", "init before load")
        try:
            await self.plugin.initialize()
        except Exception as exc:
            raise _Coded("plugin_load", f"initialize() failed: {type(exc).__name__}: {exc}") from exc
        return {}

    async def shutdown(self, fid: Any) -> None:
        try:
            if self.plugin is not None:
                await self.plugin.shutdown()
            _send({"id": fid, "ok": True, "result": {}})
        except BaseException as exc:  # noqa: BLE001
            _send({"id": fid, "ok": False, "error": _error("plugin_shutdown", f"{type(exc).__name__}: {exc}", exc)})
        if not self.stopping.done():
            self.stopping.set_result(None)

    # -- call

    async def call(self, fid: Any, frame: dict) -> None:
        try:
            try:
                # One coroutine per call: preparing and answering are plain calls around the hook.
                func, nparams, payload, context, raw_context = self._prepare(frame)
                try:
                    if nparams == 3:
                        result = await func(payload, context, self._extensions(frame.get("extensions")))
                    else:
                        result = await func(payload, context)
                except Exception as exc:
                    violation = getattr(exc, "violation", None)
                    if type(exc).__name__ != "PluginViolationError" or violation is None:
                        raise
                    # Raising PluginViolationError blocks the request, as returning a violation does.
                    response = {
                        "id": fid,
                        "ok": True,
                        "result": {"continue_processing": False, "violation": _model(violation)},
                    }
                else:
                    response = self._respond(fid, result, payload, context, raw_context)
            finally:
                self.tasks.pop(fid, None)
        except asyncio.CancelledError:
            response = _cancelled(fid)
        except _Coded as exc:
            response = {"id": fid, "ok": False, "error": _error(exc.code, str(exc), exc.__cause__)}
        except MemoryError:
            if self.max_memory_mb is None:
                response = {"id": fid, "ok": False, "error": _error("plugin_exception", "MemoryError")}
            else:
                # Past its memory limit the worker's state is suspect: answer, then exit so the host
                # restarts it (other calls in flight fail with CPEX_ERR_WORKER_DIED).
                self.out_of_memory = True
                response = {
                    "id": fid,
                    "ok": False,
                    "error": {
                        "code": "memory_limit",
                        "type": "MemoryError",
                        "message": f"exceeded its max_memory_mb of {self.max_memory_mb} MiB (MemoryError); worker restarted",
                    },
                }
        except Exception as exc:  # noqa: BLE001
            response = {"id": fid, "ok": False, "error": self._plugin_exception(exc)}
        except BaseException as exc:  # noqa: BLE001
            # SystemExit, KeyboardInterrupt, GeneratorExit or a plugin's own BaseException subclass:
            # still the plugin's error, answered like any other. Left to propagate, it would end
            # this task with no answer (or stop the event loop) and the call would wait for its timeout.
            response = {"id": fid, "ok": False, "error": self._plugin_exception(exc)}
        data = _dumps_answer(response)
        if len(data) > self.max_bytes:
            data = _dumps(
                {
                    "id": fid,
                    "ok": False,
                    "error": {
                        "code": "response_too_large",
                        "message": f"response of {len(data)} bytes exceeds max_payload_bytes {self.max_bytes}",
                        "size": len(data),
                    },
                }
            )
        if self.out_of_memory:
            _outbox.append(data + b"\n")
            _flush()
            sys.stderr.flush()
            _supervise.kill_own_tree_and_exit(EXIT_MEMORY_LIMIT)
        if not self.tasks and not _outbox and not self.more:
            _write_all(data + b"\n")  # nothing else in flight: answer now, do not wait a loop turn
        else:
            _queue(data + b"\n")

    def _plugin_exception(self, exc: BaseException) -> dict:
        err = _error("plugin_exception", f"{type(exc).__name__}: {exc}", exc)
        model = getattr(exc, "error", None)
        if model is not None and hasattr(model, "message"):  # PluginError(PluginErrorModel)
            err["message"] = f"{type(exc).__name__}: {model.message}"
            if getattr(model, "code", None):
                err["plugin_code"] = model.code
        return err

    def _prepare(self, frame: dict) -> tuple:
        """The hook, its arity, the validated payload and the PluginContext of a call frame."""
        hook_name = frame.get("hook")
        entry = self.hooks.get(hook_name)
        if entry is None:
            raise _Coded("hook_not_implemented", f"plugin does not handle hook {hook_name!r}")
        func, nparams = entry
        payload = self._payload(hook_name, frame.get("payload"))
        raw_context = frame.get("context") or {}
        return func, nparams, payload, self._context(raw_context), raw_context

    def _respond(self, fid: Any, result: Any, payload: Any, context: Any, raw_context: Any) -> dict:
        response = {"id": fid, "ok": True, "result": self._result(result, payload)}
        gc = context.global_context
        if context.state or context.metadata or gc.state or gc.metadata or not _context_was_empty(raw_context):
            # Unchanged-and-empty contexts are not echoed: the host keeps what it has.
            response["context"] = {
                "state": context.state,
                "metadata": context.metadata,
                "global_state": gc.state,
                "global_metadata": gc.metadata,
            }
        return response

    def _payload(self, hook_name: str, raw: Any) -> Any:
        cls = self.payload_classes.get(hook_name, _UNSET)
        if cls is _UNSET:
            table = getattr(self.plugin, "_hook_payloads", None) or {}
            cls = table.get(hook_name) or self.registry.get_payload_type(hook_name)
            self.payload_classes[hook_name] = cls
        if cls is None:
            return raw  # custom hook: a plain dict payload
        try:
            return cls.model_validate(raw)
        except Exception as exc:
            raise _Coded("invalid_payload", f"payload for {hook_name} is invalid ({cls.__name__}): {exc}") from exc

    def _context(self, raw: dict) -> Any:
        try:
            return self.PluginContext.model_validate(raw)
        except Exception as exc:
            gc = raw.get("global_context") if isinstance(raw, dict) else None
            if isinstance(gc, dict) and gc.get("user_context") is not None:
                # A gateway's user_context that Python cpex's UserContext cannot model must not
                # fail every Python plugin: drop it (plugins see user_context None) and say so.
                try:
                    ctx = self.PluginContext.model_validate({**raw, "global_context": {**gc, "user_context": None}})
                except Exception:
                    pass
                else:
                    if not self.warned_user_context:
                        self.warned_user_context = True
                        print(f"cpex-ts: global_context.user_context dropped for Python plugins: {exc}", file=sys.stderr)
                    return ctx
            raise _Coded("invalid_payload", f"context is invalid: {exc}") from exc

    def _extensions(self, raw: Any) -> Any:
        if raw is None:
            return None
        if self.Extensions is None:
            from cpex.framework.extensions.extensions import Extensions

            self.Extensions = Extensions
        try:
            return self.Extensions.model_validate(raw)
        except Exception as exc:
            raise _Coded("invalid_payload", f"extensions are invalid: {exc}") from exc

    @staticmethod
    def _result(result: Any, payload: Any = None) -> dict:
        if result is None or not hasattr(result, "continue_processing"):
            raise _Coded(
                "invalid_result",
                f"hook returned {type(result).__name__}, expected a PluginResult",
            )
        out: dict[str, Any] = {"continue_processing": bool(result.continue_processing)}
        mp = getattr(result, "modified_payload", None)
        if mp is not None:
            # An edited payload (the class the payload came in as): only the fields it was built
            # with or a plugin set, since defaults the caller never sent (e.g. headers=None) would
            # otherwise read as edits to hook policies. Any other model is a result object of its
            # own (IdentityResult, DelegationResult, ...): all of it, defaults included, as the
            # caller of Python cpex gets it.
            same = payload is not None and type(mp) is type(payload)
            out["modified_payload"] = _model(mp, exclude_unset=same)
            # pydantic's JSON mode writes NaN/Infinity as null: look at the values it was given.
            if _has_null(out["modified_payload"]):
                where = _unrepresentable(getattr(mp, "__dict__", None), "result.modified_payload")
                if where is not None:
                    raise _Coded("invalid_result", f"result is not JSON-serializable: {where}")
        me = getattr(result, "modified_extensions", None)
        if me is not None:
            out["modified_extensions"] = me.model_dump(mode="json", exclude_none=True) if hasattr(me, "model_dump") else me
        v = getattr(result, "violation", None)
        if v is not None:
            out["violation"] = _model(v)
        md = getattr(result, "metadata", None)
        if md:
            out["metadata"] = md
        rd = getattr(result, "retry_delay_ms", 0)
        if rd:
            out["retry_delay_ms"] = rd
        hh = getattr(result, "http_headers", None)
        if hh:
            out["http_headers"] = hh
        return out


def _model(value: Any, exclude_unset: bool = False) -> Any:
    dump = getattr(value, "model_dump", None)
    if not callable(dump):
        return value
    data = dump(mode="json", exclude_unset=exclude_unset)
    # Secrets go back as the values they were (the host handed them in); json mode masks them,
    # so only a field dumped as the mask (or as "", an empty secret) can be one.
    if isinstance(data, dict):
        fields = getattr(type(value), "model_fields", {})
        for key, dumped in data.items():
            if (dumped == _SECRET_MASK or dumped == "") and key in fields:
                raw = getattr(value, key, None)
                if hasattr(raw, "get_secret_value"):
                    data[key] = raw.get_secret_value()
    return data


def _cancelled(fid: Any) -> dict:
    """The answer to a call the host cancelled."""
    return {"id": fid, "ok": False, "error": {"code": "cancelled", "message": "call cancelled by the host"}}


def _context_was_empty(raw: Any) -> bool:
    """True when the host sent no local or global state/metadata (nothing a plugin could have cleared)."""
    if raw.get("state") or raw.get("metadata"):
        return False
    gc = raw.get("global_context")
    return not (isinstance(gc, dict) and (gc.get("state") or gc.get("metadata")))


_UNSET = object()
_SECRET_MASK = "**********"


class _Coded(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------- main loop


class _FrameReader(asyncio.Protocol):
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.buf = bytearray()

    def data_received(self, data: bytes) -> None:
        if self.buf:
            self.buf += data
            data = bytes(self.buf)
            self.buf.clear()
        lines = data.split(b"\n")
        tail = lines.pop()  # an incomplete frame (or b"")
        if tail:
            self.buf += tail
        runner = self.runner
        dispatch = runner.dispatch
        last = len(lines) - 1
        for i, line in enumerate(lines):
            if not line:
                continue
            runner.more = i < last
            try:
                frame = _loads(line)
            except Exception as exc:  # noqa: BLE001
                if line.isspace():
                    continue
                _send({"id": None, "ok": False, "error": _error("protocol", f"unparseable frame: {exc}")})
                continue
            dispatch(frame)
        runner.more = False

    def connection_lost(self, exc: Optional[Exception]) -> None:
        # The host closed our stdin: it is gone or shutting us down.
        if not self.runner.stopping.done():
            self.runner.stopping.set_result(None)


class _SpinSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """Before the event loop sleeps, polls for up to ``spin`` seconds: a host sending its next
    frame within that window finds the worker awake (a sleep-and-wake costs tens of µs on a VM).
    Adaptive: it only spins while spinning pays (the last wait ended within the window), and
    otherwise sleeps at once, probing again after 32 waits, so a sparse caller costs no busy CPU."""

    def __init__(self, spin: float) -> None:
        super().__init__()
        self.spin = spin
        self.pays = True
        self.skipped = 0
        self.spins = 0  # polls started (diagnostics, tests)

    def select(self, timeout: Optional[float] = None) -> Any:
        if self.spin <= 0 or (timeout is not None and timeout <= 0):
            return super().select(timeout)
        ready = super().select(0)
        if ready:
            return ready
        if self.pays or self.skipped >= 32:
            self.skipped = 0
            self.spins += 1
            clock = time.perf_counter
            start = clock()
            end = start + (self.spin if timeout is None else min(self.spin, timeout))
            while clock() < end:
                ready = super().select(0)
                if ready:
                    self.pays = True
                    return ready
            if timeout is not None:  # a timer is due: the poll used part of the wait
                timeout = max(0.0, timeout - (clock() - start))
        else:
            self.skipped += 1
        start = time.perf_counter()
        ready = super().select(timeout)
        self.pays = time.perf_counter() - start < self.spin
        return ready


class _WorkerLoop(asyncio.SelectorEventLoop):
    """The worker's event loop. ``eager_task`` starts a call's task at once, as Python 3.12's
    eager task factory does: a Task schedules its first step with ``call_soon`` from its
    constructor, and here that one step runs on the spot instead. It runs as that Task (so
    ``asyncio.current_task()``, ``asyncio.timeout()`` and anyio cancel scopes behave as in any
    task), a hook that never suspends finishes without a trip through the event loop, and one
    that suspends continues as the task it already is."""

    _eager_next = False

    def call_soon(self, callback: Any, *args: Any, context: Any = None) -> Any:
        if self._eager_next:
            self._eager_next = False
            if context is None:
                callback(*args)
            else:
                context.run(callback, *args)
            return None
        return super().call_soon(callback, *args, context=context)

    def eager_task(self, coro: Any) -> asyncio.Task:
        if _NATIVE_EAGER or self.get_debug() or asyncio.current_task(self) is not None:
            # 3.12+: the eager task factory (_main) does this. Inside another task a task cannot
            # start on the spot (asyncio allows one running task per loop): the usual way then.
            return self.create_task(coro)
        self._eager_next = True
        try:
            # What create_task does (the loop is open: it is running), minus its checks and naming.
            return asyncio.Task(coro, loop=self)
        finally:
            self._eager_next = False


_NATIVE_EAGER = hasattr(asyncio, "eager_task_factory")
# CPEX_HOST_EAGER_TASKS=0: every call's task waits for the next event-loop turn (the asyncio default).
_EAGER = os.environ.get("CPEX_HOST_EAGER_TASKS", "1") != "0"


def _new_loop() -> asyncio.AbstractEventLoop:
    # The host sets the window in the load frame (spin_us); until then, no polling.
    return _WorkerLoop(_SpinSelector(0.0))


async def _main() -> None:
    loop = asyncio.get_running_loop()
    eager = getattr(asyncio, "eager_task_factory", None)
    if eager is not None and _EAGER:
        # Python 3.12+: a call that completes without suspending never gets scheduled as a task.
        loop.set_task_factory(eager)
    runner = Runner()
    reader = os.fdopen(_PROTO_IN, "rb", buffering=0)
    await loop.connect_read_pipe(lambda: _FrameReader(runner), reader)
    await runner.stopping


def _serve() -> None:
    try:
        with asyncio.Runner(loop_factory=_new_loop) as runner:
            runner.run(_main())
    finally:
        sys.stderr.flush()
    # Done (the host closed our input): nothing the plugin started may outlive the worker.
    _supervise.kill_own_tree_and_exit(0)


def _die_with_parent() -> None:
    """Linux: get SIGKILLed when the parent (the host, or the fork server) dies, even by SIGKILL,
    so a plugin stuck in a blocking call never outlives the gateway."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal as _signal

        parent = os.getppid()
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(_signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)
    except Exception:  # noqa: BLE001 - best effort
        pass


def _supervised() -> None:
    """The in-child half of the host's process supervisor (cpex_host/supervise.py): keep orphaned
    descendants in this tree (child subreaper), and kill the whole tree when the gateway is gone
    (EOF on the lifeline fd, even after a SIGKILL). Without a lifeline: die with the parent."""
    _supervise.become_subreaper()
    fd = _supervise.lifeline_fd()
    if fd is None or not _supervise.watch_lifeline(fd):
        _die_with_parent()


def main() -> None:
    if "--zygote" in sys.argv:
        # The fork server runs no plugin code and reads its stdin every 50 ms: EOF there is its
        # lifeline. No parent-death signal: it must live to kill its workers' trees (a worker
        # killed first would orphan its plugin's setsid'd descendants to init).
        _supervise.become_subreaper()
    else:
        _supervised()
    hello = _hello_or_exit()
    if "--zygote" in sys.argv and "error" not in hello:
        hello["zygote"] = True
        _send(hello)
        _zygote()
        return
    _send(hello)
    if "error" in hello:
        sys.stderr.flush()
        os._exit(3)
    _serve()


# --------------------------------------------------------------------------- fork server
#
# With --zygote the process imports pydantic and cpex once, then forks one worker per request:
#   host -> zygote: {"id", "op": "fork", "socket": <unix socket path>, "token"}
#   zygote -> host: {"id", "ok": true, "result": {"pid"}}      and later {"op": "exited", pid, code|signal}
# The forked worker connects twice to the host's socket: the protocol channel (its first frame
# is the usual hello, plus "token") and a stdio channel (first line {"stdio": token}) that
# becomes its fd 1 and fd 2. Plugin modules are only ever imported in the forked workers.


def _zygote() -> None:
    import signal as _signal

    buf = b""
    while True:
        ready, _, _ = select.select([_PROTO_IN], [], [], 0.05)
        _reap()
        if not ready:
            continue
        chunk = os.read(_PROTO_IN, 65536)
        if not chunk:  # the host closed our stdin (idle, or gone): no worker may outlive us
            _flush()
            _supervise.kill_own_tree_and_exit(0)
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if not line.strip():
                continue
            try:
                frame = _loads(line)
            except Exception as exc:  # noqa: BLE001
                _write_all(_dumps({"id": None, "ok": False, "error": _error("protocol", f"unparseable frame: {exc}")}) + b"\n")
                continue
            if frame.get("op") != "fork":
                _write_all(_dumps({"id": frame.get("id"), "ok": False, "error": _error("protocol", "zygote only forks")}) + b"\n")
                continue
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
                _become_worker(str(frame["socket"]), str(frame["token"]))
                return  # not reached
            _workers.add(pid)
            _write_all(_dumps({"id": frame.get("id"), "ok": True, "result": {"pid": pid}}) + b"\n")


_workers: set[int] = set()


def _kill_orphans() -> None:
    """The fork server is a child subreaper: a worker's descendants that outlive it (a plugin's
    double fork, setsid included) are re-parented here. Workers are subreapers too, so only the
    descendants of a worker that has died arrive here: they are killed with their own trees."""
    me = os.getpid()
    procs = _supervise._processes()
    for pid, (ppid, _) in procs.items():
        if ppid == me and pid not in _workers:
            _supervise.kill_tree(pid)


def _reap() -> None:
    reaped = False
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        reaped = True
        if pid not in _workers:
            continue  # an orphan we killed (or that ended): not the host's business
        _workers.discard(pid)
        # Its process group may still hold the plugin's plain forks.
        try:
            os.killpg(pid, 9)
        except OSError:
            pass
        info: dict[str, Any] = {"op": "exited", "pid": pid}
        if os.WIFSIGNALED(status):
            import signal as _signal

            info["signal"] = _signal.Signals(os.WTERMSIG(status)).name
        else:
            info["code"] = os.WEXITSTATUS(status)
        _write_all(_dumps(info) + b"\n")
    if reaped:
        _kill_orphans()


def _become_worker(path: str, token: str) -> None:
    global _PROTO_IN, _PROTO_OUT
    import socket

    try:
        # Its own process group (killed whole), a subreaper for its plugin's double forks, and it
        # dies with the fork server. The lifeline is the fork server's to watch.
        os.setpgid(0, 0)
        _supervise.become_subreaper()
        _die_with_parent()
        fd = _supervise.lifeline_fd()
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
        # The fork server's tag marks all of its workers: this worker's own sweep must not use it.
        os.environ.pop(_supervise.TAG_ENV, None)
        os.environ.pop(_supervise.LIFELINE_ENV, None)
        os.close(_PROTO_IN)
        os.close(_PROTO_OUT)
        proto = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        proto.connect(path)
        stdio = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stdio.connect(path)
        stdio.sendall(_dumps({"stdio": token}) + b"\n")
        os.dup2(stdio.fileno(), 1)
        os.dup2(stdio.fileno(), 2)
        stdio.close()
        fd = os.dup(proto.fileno())
        proto.close()
        _PROTO_IN, _PROTO_OUT = fd, os.dup(fd)
        _outbox.clear()
        hello = _hello_or_exit()  # cheap: everything is imported already
        hello["token"] = token
        _write_all(_dumps(hello) + b"\n")
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        os._exit(4)
    _serve()


if __name__ == "__main__":
    main()
