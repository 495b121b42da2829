"""LLM extension (immutable slot)."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


class LLMExtension(BaseModel):
    model_config = ConfigDict(frozen=True)

    model_id: Optional[str] = None
    provider: Optional[str] = None
    capabilities: list[str] = Field(default_factory=list)
