"""Extension slot names."""

from enum import Enum


class SlotName(str, Enum):
    REQUEST = "request"
    AGENT = "agent"
    HTTP = "http"
    SECURITY = "security"
    DELEGATION = "delegation"
    MCP = "mcp"
    COMPLETION = "completion"
    PROVENANCE = "provenance"
    LLM = "llm"
    FRAMEWORK = "framework"
    META = "meta"
    CUSTOM = "custom"
