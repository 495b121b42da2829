"""Constants shared by the plugin-author API.

Same names and values as ``cpex.framework.constants`` in Python cpex 0.1.x, so plugins that import
them (e.g. ``TOOL_METADATA`` / ``GATEWAY_METADATA``, the keys of the gateway's tool and gateway
records in ``GlobalContext.metadata``) load unchanged.
"""

MAX_CONTENT_SIZE = 10_000_000
DEFAULT_PRIORITY = 100

# Plugin kinds.
NATIVE_PLUGIN_TYPE = "native"
BUILTIN_PLUGIN_TYPE = "builtin"
WASM_PLUGIN_TYPE = "wasm"
EXTERNAL_PLUGIN_TYPE = "external"
ISOLATED_VENV_PLUGIN_TYPE = "isolated_venv"
PDP_PLUGIN_TYPE = "PDP"
KNOWN_PLUGIN_KINDS = frozenset(
    {
        BUILTIN_PLUGIN_TYPE,
        NATIVE_PLUGIN_TYPE,
        WASM_PLUGIN_TYPE,
        EXTERNAL_PLUGIN_TYPE,
        ISOLATED_VENV_PLUGIN_TYPE,
        PDP_PLUGIN_TYPE,
    }
)
PYTHON_SUFFIX = ".py"

# Keys of external-plugin configs and of the plugin-server protocol.
URL = "url"
SCRIPT = "script"
CMD = "cmd"
ENV = "env"
CWD = "cwd"
UDS = "uds"
NAME = "name"
PLUGIN_NAME = "plugin_name"
PAYLOAD = "payload"
CONTEXT = "context"
RESULT = "result"
ERROR = "error"
IGNORE_CONFIG_EXTERNAL = "ignore_config_external"

# Keys of GlobalContext.metadata set by the gateway.
TOOL_METADATA = "tool"
GATEWAY_METADATA = "gateway"

MCP_SERVER_NAME = "MCP Plugin Server"
MCP_SERVER_INSTRUCTIONS = "External plugin server for ContextForge"
GET_PLUGIN_CONFIGS = "get_plugin_configs"
GET_PLUGIN_CONFIG = "get_plugin_config"
HOOK_TYPE = "hook_type"
INVOKE_HOOK = "invoke_hook"
