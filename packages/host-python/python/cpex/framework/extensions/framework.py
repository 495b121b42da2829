"""Agentic-framework extension (immutable slot)."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field


class FrameworkExtension(BaseModel):
    model_config = ConfigDict(frozen=True)

    framework: Optional[str] = None
    framework_version: Optional[str] = None
    node_id: Optional[str] = None
    graph_id: Optional[str] = None
    metadata: dict[str, Any] = Field(default_factory=dict)
