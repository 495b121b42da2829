"""Host-provided operational metadata (immutable slot)."""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, ConfigDict, Field


class MetaExtension(BaseModel):
    model_config = ConfigDict(frozen=True)

    tags: frozenset[str] = Field(default_factory=frozenset)
    scope: Optional[str] = None
    properties: dict[str, str] = Field(default_factory=dict)
